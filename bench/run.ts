/**
 * `npm run bench`: PredictQL against its references, in one run on one machine, reported as
 * ratios (GUIDE section 3). For each model and concurrency it measures
 *   - predictql: this server (cache off, so every request runs the model),
 *   - naive: Apollo calling session.run on the main thread, ORT default threads (all cores),
 *   - naive-1t: the same with one ORT thread,
 * and the raw in-process limit of the model. Results go to bench/results/latest.json.
 *
 * Settings: BENCH_SECONDS (per measurement, default 8), BENCH_CONCURRENCY (default 1,8,64).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { loadIris } from '../training/iris/data.ts';
import { closedLoop, type LoadResult } from './lib/load.ts';
import { startServerProcess, type ServerProcess } from './lib/processes.ts';
import { rawLimit, type LimitResult } from './lib/raw-limit.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? 8);
const concurrencies = (process.env.BENCH_CONCURRENCY ?? '1,8,64').split(',').map(Number);

interface Measurement extends LoadResult {
  server: string;
  concurrency: number;
  eventLoopP99Ms: number;
  meanBatchSize: number | null;
}

const irisRows = loadIris().map((r) => Float32Array.from(r.features));
const irisQuery = 'query ($f: [Float!]!) { predict(model: "iris", input: { features: $f }) { ... on Classification { label score } } }';
// Each request gets a slightly different row, as real traffic would, so no layer can dedupe it.
const irisBody = (i: number) => JSON.stringify({ query: irisQuery, variables: { f: Array.from(irisRows[i % irisRows.length]!, (v, j) => (j === 0 ? v + (i % 997) * 1e-4 : v)) } });

async function measure(name: string, server: ServerProcess, body: (i: number) => string): Promise<Measurement[]> {
  const results: Measurement[] = [];
  for (const concurrency of concurrencies) {
    await closedLoop({ url: `${server.url}/graphql`, concurrency, durationMs: 1000, body }); // warm-up
    const batchesBefore = await server.metric('batch_size_count');
    const rowsBefore = await server.metric('batch_size_sum');
    await server.metric('eventloop_lag_p99_seconds'); // a scrape resets the event-loop histogram
    const load = await closedLoop({ url: `${server.url}/graphql`, concurrency, durationMs: seconds * 1000, body });
    const eventLoopP99Ms = (await server.metric('eventloop_lag_p99_seconds')) * 1000;
    const batches = (await server.metric('batch_size_count')) - batchesBefore;
    const rows = (await server.metric('batch_size_sum')) - rowsBefore;
    const m: Measurement = { ...load, server: name, concurrency, eventLoopP99Ms, meanBatchSize: Number.isNaN(batches) ? null : rows / batches };
    results.push(m);
    console.log(`  ${name.padEnd(10)} c=${String(concurrency).padEnd(3)} ${m.throughput.toFixed(0).padStart(6)} req/s  p50 ${m.p50Ms.toFixed(2)} ms  p99 ${m.p99Ms.toFixed(2)} ms  loop p99 ${eventLoopP99Ms.toFixed(1)} ms  batch ${m.meanBatchSize?.toFixed(1) ?? '-'}  errors ${m.errors}`);
  }
  return results;
}

async function benchModel(model: string, body: (i: number) => string): Promise<{ limit: LimitResult; measurements: Measurement[] }> {
  console.log(`\n# ${model}`);
  const limit = await rawLimit('models/iris/model.onnx', 'features', 4, (b) => [b, 4], irisRows, [1, 8, 64, 256, 1024], 1500);
  console.log(`  limit: ${limit.rowsPerSecond.toFixed(0)} rows/s in-process at batch ${limit.bestBatchSize}`);
  const measurements: Measurement[] = [];
  const servers: Array<[string, string, string[]]> = [
    ['predictql', 'src/main.ts', ['--cache-url', 'off']],
    ['naive', 'bench/naive-server.ts', ['--model', model]],
    ['naive-1t', 'bench/naive-server.ts', ['--model', model, '--ort-threads', '1']],
  ];
  for (const [name, script, args] of servers) {
    const server = await startServerProcess(script, args);
    try {
      measurements.push(...(await measure(name, server, body)));
    } finally {
      await server.stop();
    }
  }
  return { limit, measurements };
}

function ratioTable(model: string, limit: LimitResult, ms: Measurement[]): string {
  const lines = [
    `\n## ${model}: PredictQL against the references`,
    '| c | predictql req/s | naive req/s | x naive | x naive-1t | x limit | p50 ms (pq / naive) | p99 ms (pq / naive) | loop p99 ms (pq / naive) | mean batch |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const c of concurrencies) {
    const pq = ms.find((m) => m.server === 'predictql' && m.concurrency === c)!;
    const naive = ms.find((m) => m.server === 'naive' && m.concurrency === c)!;
    const naive1 = ms.find((m) => m.server === 'naive-1t' && m.concurrency === c)!;
    lines.push(
      `| ${c} | ${pq.throughput.toFixed(0)} | ${naive.throughput.toFixed(0)} | ${(pq.throughput / naive.throughput).toFixed(2)} | ${(pq.throughput / naive1.throughput).toFixed(2)} | ${(pq.throughput / limit.rowsPerSecond).toFixed(3)} | ${pq.p50Ms.toFixed(2)} / ${naive.p50Ms.toFixed(2)} | ${pq.p99Ms.toFixed(2)} / ${naive.p99Ms.toFixed(2)} | ${pq.eventLoopP99Ms.toFixed(1)} / ${naive.eventLoopP99Ms.toFixed(1)} | ${pq.meanBatchSize?.toFixed(1) ?? '-'} |`,
    );
  }
  return lines.join('\n');
}

const iris = await benchModel('iris', irisBody);
const report = ratioTable('iris', iris.limit, iris.measurements);
console.log(report);

mkdirSync('bench/results', { recursive: true });
const result = {
  date: new Date().toISOString(),
  machine: { cpus: availableParallelism(), model: cpus()[0]?.model, node: process.version },
  settings: { seconds, concurrencies },
  models: { iris },
};
writeFileSync('bench/results/latest.json', `${JSON.stringify(result, null, 2)}\n`);
writeFileSync('bench/results/latest.md', `${report.trim()}\n`);
console.log('\nwrote bench/results/latest.json and bench/results/latest.md');
