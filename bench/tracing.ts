/**
 * What tracing costs: cache hits (iris, 200 repeated inputs, memory:// store) per second on a
 * server without an OTLP endpoint (nothing of OpenTelemetry created) against the same server
 * exporting every request's trace (10 spans a request) to an OTLP/HTTP sink in this process, in
 * alternating rounds on the same machine. Cache hits are the cheapest request the server answers,
 * so a fixed per-request cost shows most there.
 *
 *   flock -x /tmp/predictql-cpu.lock node --import tsx bench/tracing.ts
 *
 * BENCH_SECONDS (default 5) per round, BENCH_ROUNDS (default 3) per server, BENCH_CONCURRENCY
 * (default 16). BENCH_BASELINE=<a checkout without tracing> adds a third server run from there
 * (its src/main.ts, same settings less the OTLP ones): the code before tracing existed.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedLoop, type LoadResult } from './lib/load.ts';
import { startServerProcess } from './lib/processes.ts';
import { irisWorkload } from './lib/workloads.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16);

// An OTLP/HTTP sink: reads and drops what the exporter sends, counting the exports.
let exports = 0;
let exportedBytes = 0;
const sink = createServer((req, res) => {
  req.on('data', (chunk: Buffer) => (exportedBytes += chunk.length));
  req.on('end', () => {
    exports++;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
sink.listen(0, '127.0.0.1');
await once(sink, 'listening');
const sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;

const modelsDir = mkdtempSync(join(tmpdir(), 'predictql-bench-models-'));
cpSync('models/iris', join(modelsDir, 'iris'), { recursive: true });
const common = ['--models-dir', modelsDir, '--cache-url', 'memory://', '--workers', '1', '--watch-models', 'false'];
type Name = 'off' | 'on' | 'sampled' | 'baseline';
const servers: Partial<Record<Name, Awaited<ReturnType<typeof startServerProcess>>>> = {
  off: await startServerProcess('src/main.ts', common, { LOG_LEVEL: 'info' }),
  on: await startServerProcess('src/main.ts', [...common, '--otel-exporter-otlp-endpoint', sinkUrl, '--otel-bsp-schedule-delay', '200'], { LOG_LEVEL: 'info' }),
  // One request in ten traced (OTEL_TRACES_SAMPLER_ARG): what a busy production server would run.
  sampled: await startServerProcess('src/main.ts', [...common, '--otel-exporter-otlp-endpoint', sinkUrl, '--otel-bsp-schedule-delay', '200', '--otel-traces-sampler-arg', '0.1'], { LOG_LEVEL: 'info' }),
};
if (process.env.BENCH_BASELINE) servers.baseline = await startServerProcess(join(process.env.BENCH_BASELINE, 'src/main.ts'), common, { LOG_LEVEL: 'info' });
const names = Object.keys(servers) as Name[];

const iris = irisWorkload();
const body = (i: number) => iris.body(i % 200);
const results: Record<Name, LoadResult[]> = { off: [], on: [], sampled: [], baseline: [] };
try {
  for (const server of Object.values(servers)) await closedLoop({ url: `${server.url}/graphql`, concurrency, durationMs: 1500, body });
  for (let round = 0; round < rounds; round++) {
    for (const name of round % 2 === 0 ? names : [...names].reverse()) {
      const result = await closedLoop({ url: `${servers[name]!.url}/graphql`, concurrency, durationMs: seconds * 1000, body });
      if (result.errors > 0) throw new Error(`${name}: ${result.errors} errors ${JSON.stringify(result.errorKinds)}`);
      results[name].push(result);
      console.log(`round ${round + 1} ${name.padEnd(8)} ${result.throughput.toFixed(0).padStart(6)} req/s  p50 ${result.p50Ms.toFixed(2)} ms  p99 ${result.p99Ms.toFixed(2)} ms`);
    }
  }
} finally {
  for (const server of Object.values(servers)) await server.stop();
  sink.close();
  rmSync(modelsDir, { recursive: true, force: true });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const off = median(results.off.map((r) => r.throughput));
const on = median(results.on.map((r) => r.throughput));
console.log(`\ncache hits, c=${concurrency}, ${rounds} rounds of ${seconds} s: median ${off.toFixed(0)} req/s without an endpoint, ${on.toFixed(0)} req/s exporting every trace (x${(on / off).toFixed(3)})`);
const sampled = median(results.sampled.map((r) => r.throughput));
console.log(`one request in ten traced (OTEL_TRACES_SAMPLER_ARG=0.1): median ${sampled.toFixed(0)} req/s (x${(sampled / off).toFixed(3)})`);
console.log(`rounds without: ${results.off.map((r) => r.throughput.toFixed(0)).join(', ')}; with: ${results.on.map((r) => r.throughput.toFixed(0)).join(', ')}; sampled: ${results.sampled.map((r) => r.throughput.toFixed(0)).join(', ')}`);
if (results.baseline.length > 0) {
  const baseline = median(results.baseline.map((r) => r.throughput));
  console.log(`baseline (${process.env.BENCH_BASELINE}): median ${baseline.toFixed(0)} req/s; without an endpoint x${(off / baseline).toFixed(3)} of it (rounds: ${results.baseline.map((r) => r.throughput.toFixed(0)).join(', ')})`);
}
console.log(`the sink received ${exports} exports, ${(exportedBytes / 1e6).toFixed(1)} MB`);
