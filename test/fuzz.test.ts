/**
 * Fuzzing a running server (a real process, the bundled models plus the raw-tensor example):
 * FUZZ_REQUESTS (5000 by default) generated malformed documents and inputs, FUZZ_SEED to replay.
 * Every response must be a well-formed GraphQL result or error with a code, no 5xx but 503
 * OVERLOADED; the process must survive, and a valid query must answer right after. Figures are
 * printed as test diagnostics and written to test-artifacts/hardening/fuzz.json.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startCli, type CliServer } from './helpers/cli.ts';
import { graphql, request } from './helpers/client.ts';
import { FuzzCases, type FuzzCase } from './helpers/fuzz-cases.ts';
import { MB, sampleMemory } from './helpers/load.ts';
import { IRIS_QUERY, tempDir } from './helpers/server.ts';

const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 5000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261124);
const CONCURRENCY = 8;
const ARTIFACTS = join(import.meta.dirname, '..', 'test-artifacts', 'hardening');

interface Answer {
  status: number;
  code: string;
  problem?: string;
}

/** What a client of a GraphQL API may count on, whatever it sent. */
function judge(status: number, text: string): Answer {
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    return { status, code: 'NOT_JSON', problem: `status ${status}, body is not JSON: ${text.slice(0, 120)}` };
  }
  const errors = body?.errors;
  if (errors !== undefined) {
    if (!Array.isArray(errors) || errors.length === 0) return { status, code: 'BAD_SHAPE', problem: `errors is not a non-empty list: ${text.slice(0, 120)}` };
    for (const error of errors) {
      if (typeof error?.message !== 'string' || typeof error?.extensions?.code !== 'string') return { status, code: 'BAD_SHAPE', problem: `an error without message or code: ${JSON.stringify(error).slice(0, 160)}` };
      if (/\n\s+at |node_modules|\/src\/|stacktrace/.test(JSON.stringify(error))) return { status, code: error.extensions.code, problem: `a stack trace or path leaked: ${JSON.stringify(error).slice(0, 200)}` };
    }
  } else if (body === null || typeof body !== 'object' || !('data' in body)) {
    return { status, code: 'BAD_SHAPE', problem: `neither data nor errors: ${text.slice(0, 120)}` };
  }
  const code = errors ? String(errors[0].extensions.code) : 'ok';
  if (status >= 500 && !(status === 503 && code === 'OVERLOADED')) return { status, code, problem: `HTTP ${status}: ${text.slice(0, 200)}` };
  return { status, code };
}

async function fire(base: string, c: FuzzCase): Promise<Answer> {
  try {
    const res = await request(base + c.path, { method: c.method, headers: c.headers, body: c.body, signal: AbortSignal.timeout(60_000) });
    return judge(res.status, await res.text());
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    return { status: 0, code: 'NO_ANSWER', problem: `no answer: ${(error as Error).message} ${cause?.code ?? ''}` };
  }
}

describe('fuzz', () => {
  let server: CliServer;
  let modelsDir: string;
  before(async () => {
    modelsDir = tempDir('predictql-fuzz-models-');
    for (const name of readdirSync('models')) cpSync(join('models', name), join(modelsDir, name), { recursive: true });
    cpSync('examples/tensor-model/temperature', join(modelsDir, 'temperature'), { recursive: true });
    server = await startCli(['--models-dir', modelsDir, '--cache-url', 'memory://', '--watch-models', 'false']);
  });
  after(async () => {
    if (server && server.child.exitCode === null) {
      server.child.kill('SIGTERM');
      await once(server.child, 'exit');
    }
    rmSync(modelsDir, { recursive: true, force: true });
  });

  it(`answers ${REQUESTS} malformed requests (seed ${SEED}) with well-formed errors and keeps serving`, async (t) => {
    const cases = new FuzzCases(SEED);
    const memory = sampleMemory(server.child.pid!);
    const byCode: Record<string, number> = {};
    const byStatus: Record<string, number> = {};
    const byKind: Record<string, number> = {};
    const problems: string[] = [];
    let sent = 0;
    const started = Date.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (sent < REQUESTS) {
          sent++;
          const c = cases.next();
          const answer = await fire(server.url, c);
          byCode[answer.code] = (byCode[answer.code] ?? 0) + 1;
          byStatus[answer.status] = (byStatus[answer.status] ?? 0) + 1;
          byKind[c.kind] = (byKind[c.kind] ?? 0) + 1;
          if (answer.problem) problems.push(`${c.kind}: ${answer.problem}`);
        }
      }),
    );
    const { peakBytes, firstBytes } = await memory.stop();
    const figures = { seed: SEED, requestsSent: sent, seconds: Math.round((Date.now() - started) / 100) / 10, byStatus, byCode, byKind, serverRssMb: { atStart: Math.round(firstBytes / MB), peak: Math.round(peakBytes / MB) }, problems: problems.length };
    t.diagnostic(`fuzz figures: ${JSON.stringify(figures)}`);
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(join(ARTIFACTS, 'fuzz.json'), JSON.stringify({ ...figures, problemList: problems.slice(0, 200) }, null, 2));

    assert.equal(server.child.exitCode, null, 'the server process is alive');
    assert.deepEqual(problems.slice(0, 20), [], `${problems.length} responses broke the contract`);
    // A valid query still answers right after.
    const res = await graphql<{ predict: { label: string } }>(server.url, { query: IRIS_QUERY, variables: { features: [5.1, 3.5, 1.4, 0.2] } });
    assert.equal(res.data!.predict.label, 'setosa');
  });
});
