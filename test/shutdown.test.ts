/** SIGTERM: stop accepting, let in-flight requests finish, flush the cache, exit 0. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { describe, it } from 'node:test';
import { startCli } from './helpers/cli.ts';
import { modelsDirWithSlowModel } from './helpers/fixture-models.ts';
import { tempDir } from './helpers/server.ts';

describe('graceful shutdown', () => {
  it('finishes an in-flight request, persists its result, and exits 0', async () => {
    const modelsDir = modelsDirWithSlowModel(400);
    const cacheDir = tempDir();
    const server = await startCli(['--models-dir', modelsDir, '--cache-url', `lmdb://${cacheDir}`, '--workers', '1']);
    try {
      const inputs = Array.from({ length: 64 }, (_, i) => ({ features: [i, 2, 3, 4] }));
      const query = 'query ($inputs: [PredictionInput!]!) { predictMany(model: "slow", inputs: $inputs) { cached ... on Classification { label } } }';
      const inFlight = fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query, variables: { inputs } }),
      });
      // Signal while the slow batch runs in the worker.
      await new Promise((resolve) => setTimeout(resolve, 150));
      server.child.kill('SIGTERM');
      const res = await inFlight;
      assert.equal(res.status, 200);
      const body = (await res.json()) as { data: { predictMany: unknown[] } };
      assert.equal(body.data.predictMany.length, 64);
      const [code] = await once(server.child, 'exit');
      assert.equal(code, 0);
      assert.ok(server.logs.some((l) => l.msg === 'stopped'));

      // The results written while shutting down were flushed: a new server reads them.
      const again = await startCli(['--models-dir', modelsDir, '--cache-url', `lmdb://${cacheDir}`, '--workers', '1']);
      try {
        const res2 = await fetch(`${again.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query, variables: { inputs } }),
        });
        const body2 = (await res2.json()) as { data: { predictMany: Array<{ cached: boolean }> } };
        assert.ok(body2.data.predictMany.every((p) => p.cached));
      } finally {
        again.child.kill('SIGTERM');
        await once(again.child, 'exit');
      }
    } finally {
      server.child.kill('SIGKILL');
      rmSync(modelsDir, { recursive: true, force: true });
      rmSync(cacheDir, { recursive: true, force: true });
    }
  });
});
