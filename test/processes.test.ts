/**
 * PROCESSES > 1: several server processes share the port and the cache; /metrics covers all of
 * them; SIGTERM drains them all.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { describe, it } from 'node:test';
import { startCli } from './helpers/cli.ts';
import { post, request } from './helpers/client.ts';
import { tempDir } from './helpers/server.ts';

/** One request on a new connection, so the primary hands each one to the next process. */
async function ask(url: string, features: number[]): Promise<{ process: string; cacheSource: string; label: string }> {
  const query = `{ predict(model: "iris", input: { features: [${features.join(', ')}] }) { cacheSource ... on Classification { label } } }`;
  const res = await post(url, { query }, { agent: false, headers: { connection: 'close' } });
  const { data } = (await res.json()) as { data: { predict: { cacheSource: string; label: string } } };
  return { process: String(res.headers.get('x-predictql-process')), ...data.predict };
}

describe('several server processes', () => {
  it('both answer, share cached answers through the LMDB file, report merged metrics, and stop on SIGTERM', async () => {
    const dir = tempDir();
    const server = await startCli(['--processes', '2', '--cache-url', `lmdb://${dir}`], {}, 2);
    try {
      const features = [6.2, 2.9, 4.3, 1.3];
      const first = await ask(server.url, features);
      assert.equal(first.cacheSource, 'NONE');
      await new Promise((resolve) => setTimeout(resolve, 100)); // let the write commit
      const answers = await Promise.all(Array.from({ length: 8 }, () => ask(server.url, features)));
      const processes = new Set([first, ...answers].map((a) => a.process));
      assert.equal(processes.size, 2, 'both processes answered');
      const other = answers.filter((a) => a.process !== first.process);
      assert.ok(other.length > 0 && other.every((a) => a.cacheSource !== 'NONE'), 'the other process answered from the shared cache');
      assert.ok(other.some((a) => a.cacheSource === 'STORE'));
      assert.ok(answers.every((a) => a.label === first.label));

      const metrics = await (await request(`${server.url}/metrics`)).text();
      const count = (cached: string) => Number(new RegExp(`predictql_predictions_total\\{model="iris",outcome="ok",cached="${cached}"\\} (\\d+)`).exec(metrics)?.[1] ?? 0);
      assert.equal(count('false') + count('true'), 9, 'the metrics of both processes, merged');
      assert.equal(count('false'), 1);

      server.child.kill('SIGTERM');
      const [code] = await once(server.child, 'exit');
      assert.equal(code, 0);
      assert.equal(server.logs.filter((l) => l.msg === 'stopped').length, 2);
    } finally {
      server.child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
