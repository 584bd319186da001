/**
 * `npm run bench`: PredictQL against its references, in one run on one machine, reported as
 * ratios (GUIDE section 3). Scenarios (BENCH_SCENARIOS, comma-separated; default all):
 *
 *   iris    overhead-bound model at each concurrency: predictql, naive, naive-1t, in-process limit
 *   ocr     compute-bound model (PP-OCRv4 recogniser), the same four
 *   mixed   the OCR model saturated (c=16) while a lone client asks iris (c=1): the cheap query's
 *           latency and the event loop, for PredictQL's worker layouts and the naive server
 *   policy  the batch fill window: iris with a 2 ms window while another batch runs, against none
 *   cache   cache hits (iris, 200 repeated inputs) against Apollo answering a trivial resolver
 *           and against the uncached path
 *   processes iris (c=64) and OCR (c=16) with one server process against two (PROCESSES=2)
 *   payload response bytes and throughput of a 1000-input predictMany selecting the label only
 *           against every field, and request bytes of a tensor input as JSON numbers and base64
 *   page    whole pages (ocr-page) against a naive page reader, with a cached query alongside
 *           (bench/page-scenario.ts)
 *   targets issue 14's targets against Apollo standalone answering a constant, the naive server
 *           and Fastify + Mercurius + graphql-jit (bench/targets.ts; not in the default list:
 *           run it on its own, its results go to bench/results/targets.json and targets.md)
 *   jobs    a prediction job against predictMany of the same OCR lines, and a cheap query's
 *           latency with and without a job running (bench/jobs.ts)
 *   stream  400 OCR lines: first-answer latency and total time of predictStream (graphql-ws,
 *           graphql-sse) against predictMany of the same lines (bench/stream.ts; not in the default set)
 *
 * predictql runs with --cache-url off so every request runs the model. Results go to
 * bench/results/latest.json and latest.md. BENCH_SECONDS (default 5) per measurement,
 * BENCH_CONCURRENCY (default 1,8,64).
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedLoop, type LoadResult } from './lib/load.ts';
import { startServerProcess, type ServerProcess } from './lib/processes.ts';
import { rawLimit, type LimitResult } from './lib/raw-limit.ts';
import { breakdownSvg, type BreakdownRow } from './lib/svg.ts';
import { irisWorkload, ocrWorkload, type Workload } from './lib/workloads.ts';
import { pageScenario } from './page-scenario.ts';
import { targetsScenario } from './targets.ts';
import { jobsScenario } from './jobs.ts';
import { streamScenario } from './stream.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const concurrencies = (process.env.BENCH_CONCURRENCY ?? '1,8,64').split(',').map(Number);
const scenarios = new Set((process.env.BENCH_SCENARIOS ?? 'iris,ocr,mixed,policy,cache,payload,processes,page,jobs').split(','));
/** prom-client samples the event loop every 10 ms; its p99 includes that tick. */
const LOOP_TICK_MS = 10;

interface Measurement extends LoadResult {
  server: string;
  concurrency: number;
  /** Event-loop delay p99 on the server, beyond the 10 ms sampling tick. */
  loopDelayP99Ms: number;
  meanBatchSize: number | null;
  /** PredictQL only: mean server milliseconds per request in each phase. */
  phases?: Record<string, number>;
}

const PHASES = ['httpBodyParse', 'graphqlParse', 'graphqlValidate', 'cacheLookup', 'queueWait', 'preprocess', 'inference', 'postprocess', 'cacheWrite', 'execution', 'serialization'];
/** Rows of the latency-breakdown chart, collected as the scenarios run. */
const breakdown: BreakdownRow[] = [];

/** Seconds spent so far in each phase; undefined for a server without these metrics (the references). */
async function phaseSums(server: ServerProcess): Promise<Record<string, number> | undefined> {
  if (Number.isNaN(await server.metric('request_phase_seconds_count', { phase: 'execution' }))) return undefined;
  const sums: Record<string, number> = {};
  for (const phase of PHASES) {
    const value = await server.metric('request_phase_seconds_sum', { phase });
    sums[phase] = Number.isNaN(value) ? 0 : value; // a phase no request went through yet
  }
  return sums;
}

/** Mean ms per request by phase; execution's share beyond the prediction phases is `resolversAndWaiting`. */
function phaseMeans(before: Record<string, number> | undefined, after: Record<string, number> | undefined, requests: number): Record<string, number> | undefined {
  if (!before || !after || requests === 0) return undefined;
  const mean = (phase: string) => Math.max(0, ((after[phase] ?? 0) - (before[phase] ?? 0)) * 1000) / requests;
  const inside = ['cacheLookup', 'queueWait', 'preprocess', 'inference', 'postprocess', 'cacheWrite'];
  const out: Record<string, number> = { httpBodyParse: mean('httpBodyParse'), graphqlParse: mean('graphqlParse'), graphqlValidate: mean('graphqlValidate') };
  for (const phase of inside) out[phase] = mean(phase);
  out.resolversAndWaiting = Math.max(0, mean('execution') - inside.reduce((s, p) => s + out[p]!, 0));
  out.serialization = mean('serialization');
  return out;
}

type ServerSpec = { name: string; script: string; args: string[]; env?: Record<string, string> };

const predictql = (name: string, env: Record<string, string> = {}): ServerSpec => ({ name, script: 'src/main.ts', args: ['--cache-url', 'off'], env });
const naive = (name: string, models: string, threads?: number): ServerSpec => ({
  name,
  script: 'bench/naive-server.ts',
  args: ['--models', models, ...(threads ? ['--ort-threads', String(threads)] : [])],
});

async function withServer<T>(spec: ServerSpec, fn: (server: ServerProcess) => Promise<T>): Promise<T> {
  const server = await startServerProcess(spec.script, spec.args, spec.env);
  try {
    return await fn(server);
  } finally {
    await server.stop();
  }
}

async function loopDelay(server: ServerProcess): Promise<number> {
  return Math.max(0, (await server.metric('eventloop_lag_p99_seconds')) * 1000 - LOOP_TICK_MS);
}

/** One closed-loop measurement after a 1 s warm-up, with the server's own batch and loop figures. */
async function measure(name: string, server: ServerProcess, workload: Workload, concurrency: number): Promise<Measurement> {
  const url = `${server.url}/graphql`;
  await closedLoop({ url, concurrency, durationMs: 1000, body: workload.body });
  const labels = { model: workload.model };
  const batchesBefore = await server.metric('batch_size_count', labels);
  const rowsBefore = await server.metric('batch_size_sum', labels);
  const phasesBefore = await phaseSums(server);
  await server.metric('eventloop_lag_p99_seconds'); // the scrapes above reset it too: start afresh
  const load = await closedLoop({ url, concurrency, durationMs: seconds * 1000, body: workload.body });
  const loopDelayP99Ms = await loopDelay(server); // before any other scrape resets the histogram
  const phases = phaseMeans(phasesBefore, await phaseSums(server), load.requests);
  const batches = (await server.metric('batch_size_count', labels)) - batchesBefore;
  const rows = (await server.metric('batch_size_sum', labels)) - rowsBefore;
  const m: Measurement = { ...load, server: name, concurrency, loopDelayP99Ms, meanBatchSize: Number.isNaN(batches) || batches === 0 ? null : rows / batches, phases };
  if (phases) breakdown.push({ label: `${workload.model}, ${name}, c=${concurrency}`, phases });
  const errors = m.errors ? `  errors ${m.errors} ${JSON.stringify(m.errorKinds)}` : '';
  console.log(
    `  ${name.padEnd(14)} c=${String(concurrency).padEnd(3)} ${m.throughput.toFixed(0).padStart(6)} req/s  p50 ${m.p50Ms.toFixed(2)} ms  p99 ${m.p99Ms.toFixed(2)} ms  loop p99 +${loopDelayP99Ms.toFixed(1)} ms  batch ${m.meanBatchSize?.toFixed(1) ?? '-'}${errors}`,
  );
  return m;
}

async function compare(workload: Workload, batchSizes: number[]): Promise<{ limit: LimitResult; measurements: Measurement[] }> {
  console.log(`\n# ${workload.model}: PredictQL, naive servers and the in-process limit`);
  const limit = await rawLimit(workload, batchSizes, 1500);
  console.log(`  limit: ${limit.rowsPerSecond.toFixed(0)} inputs/s in-process at batch ${limit.bestBatchSize} (${JSON.stringify(Object.fromEntries(Object.entries(limit.byBatchSize).map(([b, v]) => [b, Math.round(v)])))})`);
  const measurements: Measurement[] = [];
  for (const spec of [predictql('predictql'), naive('naive', workload.model), naive('naive-1t', workload.model, 1)]) {
    await withServer(spec, async (server) => {
      for (const c of concurrencies) measurements.push(await measure(spec.name, server, workload, c));
    });
  }
  return { limit, measurements };
}

function compareTable(model: string, limit: LimitResult, ms: Measurement[]): string {
  const rows = concurrencies.map((c) => {
    const pq = ms.find((m) => m.server === 'predictql' && m.concurrency === c)!;
    const nv = ms.find((m) => m.server === 'naive' && m.concurrency === c)!;
    const n1 = ms.find((m) => m.server === 'naive-1t' && m.concurrency === c)!;
    return `| ${c} | ${pq.throughput.toFixed(0)} | ${nv.throughput.toFixed(0)} / ${n1.throughput.toFixed(0)} | **${(pq.throughput / nv.throughput).toFixed(2)}** / ${(pq.throughput / n1.throughput).toFixed(2)} | ${(pq.throughput / limit.rowsPerSecond).toFixed(3)} | ${pq.p50Ms.toFixed(2)} / ${nv.p50Ms.toFixed(2)} | ${pq.p99Ms.toFixed(2)} / ${nv.p99Ms.toFixed(2)} | ${pq.loopDelayP99Ms.toFixed(1)} / ${nv.loopDelayP99Ms.toFixed(1)} | ${pq.meanBatchSize?.toFixed(1) ?? '-'} |`;
  });
  return [
    `### ${model} (limit: ${limit.rowsPerSecond.toFixed(0)} inputs/s in-process at batch ${limit.bestBatchSize})`,
    '',
    '| c | predictql req/s | naive / naive-1t req/s | x naive / x naive-1t | x limit | p50 ms pq / naive | p99 ms pq / naive | loop delay p99 ms pq / naive | mean batch |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

interface MixedResult {
  server: string;
  heavy: Measurement;
  cheap: Measurement;
  heavyAlone: Measurement;
}

/** The heavy model alone at c=16, then with a lone client of the cheap model alongside. */
async function mixed(spec: ServerSpec, heavy: Workload, cheap: Workload): Promise<MixedResult> {
  return withServer(spec, async (server) => {
    const heavyAlone = await measure(spec.name, server, heavy, 16);
    const url = `${server.url}/graphql`;
    await server.metric('eventloop_lag_p99_seconds');
    const [h, c] = await Promise.all([
      closedLoop({ url, concurrency: 16, durationMs: seconds * 1000, body: heavy.body }),
      closedLoop({ url, concurrency: 1, durationMs: seconds * 1000, body: cheap.body }),
    ]);
    const loop = await loopDelay(server);
    const result = {
      server: spec.name,
      heavyAlone,
      heavy: { ...h, server: spec.name, concurrency: 16, loopDelayP99Ms: loop, meanBatchSize: null },
      cheap: { ...c, server: spec.name, concurrency: 1, loopDelayP99Ms: loop, meanBatchSize: null },
    };
    console.log(`  ${spec.name.padEnd(22)} ocr ${h.throughput.toFixed(0)} req/s alongside; iris p50 ${c.p50Ms.toFixed(2)} ms p99 ${c.p99Ms.toFixed(2)} ms; loop p99 +${loop.toFixed(1)} ms`);
    return result;
  });
}

function mixedTable(results: MixedResult[]): string {
  return [
    '| server | OCR alone req/s (c=16) | OCR req/s with iris alongside | iris p50 ms | iris p99 ms | loop delay p99 ms |',
    '|---|---|---|---|---|---|',
    ...results.map((r) => `| ${r.server} | ${r.heavyAlone.throughput.toFixed(1)} | ${r.heavy.throughput.toFixed(1)} | ${r.cheap.p50Ms.toFixed(2)} | ${r.cheap.p99Ms.toFixed(2)} | ${r.cheap.loopDelayP99Ms.toFixed(1)} |`),
  ].join('\n');
}

const report: string[] = [`# PredictQL benchmark, ${new Date().toISOString()}`, '', `${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}; ${seconds} s per measurement after 1 s of warm-up; closed-loop clients over keep-alive HTTP from a separate process.`, ''];
const results: Record<string, unknown> = {};
const iris = irisWorkload();

if (scenarios.has('targets')) await targetsScenario();

if (scenarios.has('iris')) {
  const r = await compare(iris, [1, 8, 64, 256, 1024]);
  results.iris = r;
  report.push(compareTable('iris', r.limit, r.measurements), '');
}

let ocr: Workload | undefined;
if (scenarios.has('ocr') || scenarios.has('mixed')) ocr = await ocrWorkload();

if (scenarios.has('ocr')) {
  const r = await compare(ocr!, [1, 2, 4, 8]);
  results.ocr = r;
  report.push(compareTable('ocr', r.limit, r.measurements), '');
}

if (scenarios.has('mixed')) {
  console.log('\n# mixed: OCR saturated (c=16) while one client asks iris (c=1)');
  const cores = availableParallelism();
  const layouts: ServerSpec[] = [
    predictql('predictql (default)'),
    predictql(`predictql (${cores + 1} workers x 1 thread, ${cores} per model)`, { WORKERS: String(cores + 1), ORT_THREADS: '1', MODEL_MAX_WORKERS: String(cores), ORT_SPINNING: 'false' }),
    predictql(`predictql (${cores} workers x ${cores} threads, 1 per model)`, { WORKERS: String(cores), ORT_THREADS: String(cores), MODEL_MAX_WORKERS: '1', ORT_SPINNING: 'true' }),
    predictql(`predictql (${cores} workers x 1 thread, ${cores} per model)`, { WORKERS: String(cores), ORT_THREADS: '1', MODEL_MAX_WORKERS: String(cores), ORT_SPINNING: 'false' }),
    predictql('predictql (default, workers not niced)', { WORKER_NICE: '0' }),
    naive('naive', 'iris,ocr'),
    naive('naive-1t', 'iris,ocr', 1),
  ];
  const mixedResults: MixedResult[] = [];
  for (const spec of layouts) mixedResults.push(await mixed(spec, ocr!, iris));
  results.mixed = mixedResults;
  report.push('### mixed: OCR saturated, one iris client alongside', '', mixedTable(mixedResults), '');
}

/** A models directory holding iris only, with `maxDelayMs` set in its manifest. */
function irisWithWindow(maxDelayMs: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'predictql-bench-'));
  cpSync('models/iris', join(dir, 'iris'), { recursive: true });
  const path = join(dir, 'iris', 'manifest.json');
  const manifest = JSON.parse(readFileSync(path, 'utf8'));
  writeFileSync(path, JSON.stringify({ ...manifest, batching: { ...manifest.batching, maxDelayMs } }));
  return dir;
}

if (scenarios.has('policy')) {
  console.log('\n# policy: iris with a 2 ms fill window against none (the default)');
  const policy: Measurement[] = [];
  for (const spec of [predictql('window 2 ms', { MODELS_DIR: irisWithWindow(2) }), predictql('window 0 ms', { MODELS_DIR: irisWithWindow(0) })]) {
    await withServer(spec, async (server) => {
      for (const c of concurrencies) policy.push(await measure(spec.name, server, iris, c));
    });
  }
  results.policy = policy;
  report.push(
    '### batch fill window (iris): 2 ms while another batch runs, against none (the default)',
    '',
    '| c | 2 ms: req/s, p50, p99, mean batch | 0 ms: req/s, p50, p99, mean batch |',
    '|---|---|---|',
    ...concurrencies.map((c) => {
      const cell = (name: string) => {
        const m = policy.find((p) => p.server === name && p.concurrency === c)!;
        return `${m.throughput.toFixed(0)}, ${m.p50Ms.toFixed(2)} ms, ${m.p99Ms.toFixed(2)} ms, ${m.meanBatchSize?.toFixed(1) ?? '-'}`;
      };
      return `| ${c} | ${cell('window 2 ms')} | ${cell('window 0 ms')} |`;
    }),
    '',
  );
}

if (scenarios.has('cache')) {
  console.log('\n# cache: hits against a trivial Apollo resolver and the uncached path');
  // 200 inputs asked again and again: after the warm-up every request is a hit.
  const repeated: Workload = { ...iris, body: (i) => iris.body(i % 200) };
  const rows: Measurement[] = [];
  const specs: ServerSpec[] = [
    { name: 'hits (memory)', script: 'src/main.ts', args: ['--cache-url', 'memory://'] },
    { name: 'hits (lmdb, no L1)', script: 'src/main.ts', args: ['--cache-url', `lmdb://${mkdtempSync(join(tmpdir(), 'predictql-bench-cache-'))}`, '--l1-max-bytes', '0'] },
    predictql('uncached'),
    { name: 'trivial Apollo', script: 'bench/trivial-server.ts', args: [] },
  ];
  for (const spec of specs) {
    await withServer(spec, async (server) => {
      for (const c of [8, 64]) rows.push(await measure(spec.name, server, spec.name === 'uncached' ? iris : repeated, c));
    });
  }
  results.cache = rows;
  const at = (name: string, c: number) => rows.find((r) => r.server === name && r.concurrency === c)!;
  report.push(
    '### cache hits (iris): PredictQL answering from its cache, against Apollo with a trivial resolver',
    '',
    '| c | hits, memory: req/s (x trivial, x uncached) | hits, LMDB without L1: req/s (x trivial) | uncached req/s | trivial Apollo req/s | p50 ms hits / trivial |',
    '|---|---|---|---|---|---|',
    ...[8, 64].map((c) => {
      const mem = at('hits (memory)', c);
      const lmdb = at('hits (lmdb, no L1)', c);
      const unc = at('uncached', c);
      const triv = at('trivial Apollo', c);
      return `| ${c} | ${mem.throughput.toFixed(0)} (**${(mem.throughput / triv.throughput).toFixed(2)}**, ${(mem.throughput / unc.throughput).toFixed(2)}) | ${lmdb.throughput.toFixed(0)} (${(lmdb.throughput / triv.throughput).toFixed(2)}) | ${unc.throughput.toFixed(0)} | ${triv.throughput.toFixed(0)} | ${mem.p50Ms.toFixed(2)} / ${triv.p50Ms.toFixed(2)} |`;
    }),
    '',
  );
}

if (scenarios.has('payload')) {
  console.log('\n# payload: a 1000-input predictMany, label only against every field; tensor inputs as JSON and base64');
  const rows = irisWorkload();
  const inputs = (i: number) => Array.from({ length: 1000 }, (_, k) => ({ features: JSON.parse(rows.body(i * 1000 + k)).variables.f }));
  const many = (selection: string) => (i: number) =>
    JSON.stringify({ query: `query ($inputs: [PredictionInput!]!) { predictMany(model: "iris", inputs: $inputs) { ${selection} } }`, variables: { inputs: inputs(i) } });
  const selections: Array<[string, string]> = [
    ['label only', '... on Classification { label }'],
    ['every field', 'cached cacheSource model { name version } ... on Classification { label score classes { label score } probabilities }'],
    ['every field, base64', 'cached cacheSource model { name version } ... on Classification { label score classes { label score } probabilities(encoding: BASE64_F32) }'],
  ];
  const measured: Array<{ name: string; m: Measurement }> = [];
  await withServer(predictql('predictql'), async (server) => {
    for (const [name, selection] of selections) measured.push({ name, m: await measure(name, server, { ...rows, body: many(selection) }, 1) });
  });
  // Tensor inputs: the example temperature model, 1000 rows per request.
  const tensorDir = mkdtempSync(join(tmpdir(), 'predictql-bench-tensor-'));
  cpSync('examples/tensor-model/temperature', join(tensorDir, 'temperature'), { recursive: true });
  const celsius = (i: number) => Float32Array.from({ length: 1000 }, (_, k) => ((i * 1000 + k) % 997) / 10 - 40);
  const tensorQuery = 'query ($t: [TensorInput!]!) { predict(model: "temperature", input: { tensor: $t }) { ... on TensorPrediction { outputs { name data(encoding: BASE64_F32) } } } }';
  const tensorBodies: Array<[string, (i: number) => string]> = [
    ['tensor as JSON numbers', (i) => JSON.stringify({ query: tensorQuery, variables: { t: [{ name: 'celsius', dims: [1000, 1], data: Array.from(celsius(i)) }] } })],
    ['tensor as base64 float32', (i) => JSON.stringify({ query: tensorQuery, variables: { t: [{ name: 'celsius', dims: [1000, 1], dataBase64: Buffer.from(celsius(i).buffer).toString('base64') }] } })],
  ];
  const tensorMeasured: Array<{ name: string; m: Measurement; requestBytes: number }> = [];
  await withServer(predictql('predictql', { MODELS_DIR: tensorDir }), async (server) => {
    for (const [name, body] of tensorBodies) tensorMeasured.push({ name, m: await measure(name, server, { ...rows, model: 'temperature', body }, 4), requestBytes: Buffer.byteLength(body(1)) });
  });
  results.payload = { predictMany: measured, tensors: tensorMeasured };
  report.push(
    '### payloads: a 1000-input predictMany (iris, one client: four would pass MAX_QUEUE, 1024, and get OVERLOADED), and 1000-value tensor inputs (c=4)',
    '',
    '| request | response bytes | req/s | inputs/s | p50 ms |',
    '|---|---|---|---|---|',
    ...measured.map(({ name, m }) => `| predictMany, ${name} | ${Math.round(m.responseBytes)} | ${m.throughput.toFixed(1)} | ${(m.throughput * 1000).toFixed(0)} | ${m.p50Ms.toFixed(1)} |`),
    '',
    '| tensor input (1000 x 1 float32) | request bytes | req/s | p50 ms |',
    '|---|---|---|---|',
    ...tensorMeasured.map(({ name, m, requestBytes }) => `| ${name} | ${requestBytes} | ${m.throughput.toFixed(0)} | ${m.p50Ms.toFixed(2)} |`),
    '',
  );
}

if (scenarios.has('processes')) {
  console.log('\n# processes: one server process against two');
  ocr ??= await ocrWorkload();
  const rows: Array<{ name: string; iris: Measurement; ocr: Measurement }> = [];
  for (const [name, env] of [['1 process', {}], ['2 processes', { PROCESSES: '2' }]] as const) {
    await withServer(predictql(name, env), async (server) => {
      // Only the first process's `ready` was awaited; give the others time to load their models.
      if ('PROCESSES' in env) await new Promise((resolve) => setTimeout(resolve, 8000));
      rows.push({ name, iris: await measure(name, server, iris, 64), ocr: await measure(name, server, ocr!, 16) });
    });
  }
  results.processes = rows;
  report.push(
    '### processes: PROCESSES=1 against 2 (each with cores / processes + 1 workers)',
    '',
    '| server | iris c=64 req/s, p99 ms | OCR c=16 req/s, p99 ms |',
    '|---|---|---|',
    ...rows.map((r) => `| ${r.name} | ${r.iris.throughput.toFixed(0)}, ${r.iris.p99Ms.toFixed(1)} | ${r.ocr.throughput.toFixed(1)}, ${r.ocr.p99Ms.toFixed(0)} |`),
    '',
  );
}

if (scenarios.has('page')) {
  const { report: lines, results: measured } = await pageScenario(seconds);
  results.page = measured;
  report.push(...lines);
}

if (scenarios.has('jobs')) {
  const { report: lines, results: measured } = await jobsScenario(seconds);
  results.jobs = measured;
  report.push(...lines);
}

if (scenarios.has('stream')) {
  const { report: lines, results: measured } = await streamScenario();
  results.stream = measured;
  report.push(...lines);
}

if ([...scenarios].some((s) => s !== 'targets')) {
  console.log(`\n${report.join('\n')}`);
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/latest.json', `${JSON.stringify({ date: new Date().toISOString(), machine: { cpus: availableParallelism(), model: cpus()[0]?.model, node: process.version }, settings: { seconds, concurrencies }, results }, null, 2)}\n`);
  writeFileSync('bench/results/latest.md', `${report.join('\n').trim()}\n`);
  writeFileSync('bench/results/latency-breakdown.svg', breakdownSvg('PredictQL: where a request\'s time goes on the server', breakdown));
  console.log('wrote bench/results/latest.json, latest.md and latency-breakdown.svg');
}
