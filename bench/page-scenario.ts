/**
 * The `page` scenario of `npm run bench` (BENCH_SCENARIOS=page): whole pages read by PredictQL's
 * `ocr-page` against the naive page reader (bench/page-naive-server.ts: Apollo standalone calling
 * @gutenye/ocr-node on the main thread, ONNX Runtime's default threads and one thread), in one
 * run on one machine.
 *
 * Two workloads of rendered invoice pages (6 lines, 24-28 px, two fonts):
 *   distinct  every line of every page differs (unique numbers): nothing to share
 *   letterhead  the same letterhead and footer on every page, 4 lines of its own: 2 of 6 lines
 *             repeat, which PredictQL's cache of line crops reads once
 *
 * For each server: the lines read exactly on 30 pages (each read once, sequentially: also the
 * warm-up), then pages/s at 4 connections (closed loop) while one client asks a cheap cached
 * query (iris, 10 inputs asked again and again) at a steady 50 requests/s, with that query's
 * latency, and, for PredictQL, the mean time of each stage per page.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { renderLetterheadPages, renderPage, type PageLine, type RenderedPage } from '../test/helpers/render-page.ts';
import { closedLoop, percentile, type LoadResult } from './lib/load.ts';
import { startServerProcess, type ServerProcess } from './lib/processes.ts';

const PAGE_QUERY = 'query ($image: String!) { predict(model: "ocr-page", input: { image: $image }) { ... on DocumentText { text lines { text box { x y width height } } } } }';
const IRIS_QUERY = 'query ($f: [Float!]!) { predict(model: "iris", input: { features: $f }) { ... on Classification { label } } }';
const IRIS_ROWS = Array.from({ length: 10 }, (_, i) => [5 + i / 10, 3.4, 1.5 + i / 5, 0.2 + i / 10]);
const IRIS_RATE = 50;
const ACCURACY_PAGES = 30;

interface Workload {
  name: string;
  pages: RenderedPage[];
}

/** Six invoice lines unique to page `i` (each line holds a number of its own). */
function invoiceLines(i: number): string[] {
  return [
    `Invoice number 2024-${1000 + i}`,
    `Order ${10000 + 7 * i} shipped on ${1 + (i % 28)} March 2025`,
    `Total due: ${(100 + i * 13.37).toFixed(2)} EUR`,
    `Payment due ${1 + (i % 28)} April for ref ${700 + i}`,
    `Delivery to warehouse ${300 + i}`,
    `Thank you for order ${5000 + 3 * i}`,
  ];
}

export async function renderWorkloads(count: number): Promise<Workload[]> {
  const distinct: RenderedPage[] = [];
  const bodies: PageLine[][] = [];
  for (let i = 0; i < count; i++) {
    const font = i % 2 === 0 ? 'sans' : 'serif';
    distinct.push(await renderPage(invoiceLines(i), { font, size: 24 + (i % 3) * 2 }));
    bodies.push(invoiceLines(count + i).slice(0, 4).map((text) => ({ text, font })));
  }
  const shared = { header: { text: 'ACME Trading Company Ltd', size: 32 }, footer: { text: 'Registered in Utopia No. 0042', size: 20, font: 'serif' as const } };
  return [
    { name: 'distinct', pages: distinct },
    { name: 'letterhead', pages: await renderLetterheadPages(bodies, shared, { size: 24 }) },
  ];
}

/** The request bodies of a workload's pages, built once: the load generator shares the cores with the server. */
const bodies = new WeakMap<Workload, string[]>();
const pageBody = (workload: Workload) => {
  let built = bodies.get(workload);
  if (!built) {
    built = workload.pages.map((page) => JSON.stringify({ query: PAGE_QUERY, variables: { image: Buffer.from(page.bytes).toString('base64') } }));
    bodies.set(workload, built);
  }
  return (i: number) => built[i % built.length]!;
};
const irisBody = (i: number) => JSON.stringify({ query: IRIS_QUERY, variables: { f: IRIS_ROWS[i % IRIS_ROWS.length] } });

async function post(url: string, body: string): Promise<{ data?: any; errors?: unknown[] }> {
  const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return (await res.json()) as { data?: any; errors?: unknown[] };
}

/** Lines read exactly, in order, over the first ACCURACY_PAGES pages (each sent once). */
async function accuracy(server: ServerProcess, workload: Workload): Promise<{ exact: number; lines: number }> {
  let exact = 0;
  let lines = 0;
  for (let i = 0; i < Math.min(ACCURACY_PAGES, workload.pages.length); i++) {
    const page = workload.pages[i]!;
    const res = await post(server.url, pageBody(workload)(i));
    const read: string[] = res.data?.predict?.lines?.map((l: { text: string }) => l.text) ?? [];
    page.lines.forEach((line, k) => (exact += read[k] === line.text ? 1 : 0));
    lines += page.lines.length;
  }
  return { exact, lines };
}

/** One client sending at a steady rate (not waiting for answers), at most 64 outstanding. */
async function pacedLoop(url: string, ratePerSecond: number, durationMs: number, body: (i: number) => string): Promise<{ sent: number; errors: number; p50Ms: number; p99Ms: number }> {
  const latencies: number[] = [];
  let errors = 0;
  let outstanding = 0;
  const inFlight: Array<Promise<void>> = [];
  const started = performance.now();
  for (let i = 0; performance.now() - started < durationMs; i++) {
    const due = started + (i * 1000) / ratePerSecond;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    if (outstanding >= 64) {
      errors++;
      continue;
    }
    outstanding++;
    const t0 = performance.now();
    inFlight.push(
      post(url, body(i))
        .then((res) => {
          if (res.errors) errors++;
          latencies.push(performance.now() - t0);
        })
        .catch(() => void errors++)
        .finally(() => void outstanding--),
    );
  }
  await Promise.all(inFlight);
  latencies.sort((a, b) => a - b);
  return { sent: latencies.length, errors, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
}

/** PredictQL's mean milliseconds per page in each stage, and what the ocr model did per page. */
const STAGES = ['decode', 'detect', 'crops', 'recognise'];
async function stageSnapshot(server: ServerProcess): Promise<Record<string, number> | undefined> {
  if (Number.isNaN(await server.metric('stage_seconds_count', { model: 'ocr-page', stage: 'detect' }))) return undefined;
  const out: Record<string, number> = {};
  for (const stage of STAGES) {
    out[`${stage}Sum`] = await server.metric('stage_seconds_sum', { model: 'ocr-page', stage });
    out[`${stage}Count`] = await server.metric('stage_seconds_count', { model: 'ocr-page', stage });
  }
  for (const phase of ['preprocess', 'inference', 'postprocess']) out[`ocr_${phase}`] = await server.metric('batch_phase_seconds_sum', { model: 'ocr', phase });
  out.ocrInputs = await server.metric('batch_size_sum', { model: 'ocr' });
  out.ocrBatches = await server.metric('batch_size_count', { model: 'ocr' });
  out.linesFromCache = (await server.metric('stage_item_sources_total', { model: 'ocr-page', stage: 'recognise', source: 'cache' })) || 0;
  out.linesComputed = (await server.metric('stage_item_sources_total', { model: 'ocr-page', stage: 'recognise', source: 'computed' })) || 0;
  return out;
}

function stageBreakdown(before: Record<string, number> | undefined, after: Record<string, number> | undefined): Record<string, number> | undefined {
  if (!before || !after) return undefined;
  const d = (key: string) => (after[key] ?? 0) - (before[key] ?? 0);
  const pages = d('detectCount');
  if (pages <= 0) return undefined;
  const out: Record<string, number> = {};
  for (const stage of STAGES) out[`${stage}Ms`] = (d(`${stage}Sum`) * 1000) / Math.max(1, d(`${stage}Count`));
  out.ocrWorkerMsPerPage = ((d('ocr_preprocess') + d('ocr_inference') + d('ocr_postprocess')) * 1000) / pages;
  out.linesRecognisedPerPage = d('ocrInputs') / pages;
  out.meanOcrBatch = d('ocrInputs') / Math.max(1, d('ocrBatches'));
  out.linesFromCacheShare = d('linesFromCache') / Math.max(1, d('linesFromCache') + d('linesComputed'));
  return out;
}

export interface PageMeasurement {
  server: string;
  workload: string;
  accuracy: { exact: number; lines: number };
  pages: LoadResult;
  iris: Awaited<ReturnType<typeof pacedLoop>>;
  /** The cheap query on its own before the pages, for comparison. */
  irisAlone: Awaited<ReturnType<typeof pacedLoop>>;
  loopDelayP99Ms: number | null;
  stages?: Record<string, number>;
}

async function measure(server: ServerProcess, name: string, workload: Workload, seconds: number): Promise<PageMeasurement> {
  const acc = await accuracy(server, workload);
  // Warm the cheap query's cache, then its latency with nothing else going on.
  await pacedLoop(server.url, IRIS_RATE, 500, irisBody);
  const irisAlone = await pacedLoop(server.url, IRIS_RATE, 2000, irisBody);
  const before = await stageSnapshot(server);
  await server.metric('eventloop_lag_p99_seconds'); // start the loop-delay window afresh
  const [pages, iris] = await Promise.all([
    closedLoop({ url: `${server.url}/graphql`, concurrency: 4, durationMs: seconds * 1000, body: (i) => pageBody(workload)(i + ACCURACY_PAGES) }),
    pacedLoop(server.url, IRIS_RATE, seconds * 1000, irisBody),
  ]);
  const lag = await server.metric('eventloop_lag_p99_seconds');
  const stages = stageBreakdown(before, await stageSnapshot(server));
  const m: PageMeasurement = { server: name, workload: workload.name, accuracy: acc, pages, iris, irisAlone, loopDelayP99Ms: Number.isNaN(lag) ? null : Math.max(0, lag * 1000 - 10), stages };
  console.log(
    `  ${name.padEnd(12)} ${workload.name.padEnd(10)} ${pages.throughput.toFixed(2).padStart(6)} pages/s  p50 ${pages.p50Ms.toFixed(0)} ms  p99 ${pages.p99Ms.toFixed(0)} ms  iris p50 ${iris.p50Ms.toFixed(2)} p99 ${iris.p99Ms.toFixed(2)} ms (alone ${irisAlone.p50Ms.toFixed(2)} / ${irisAlone.p99Ms.toFixed(2)})  lines ${acc.exact}/${acc.lines}${pages.errors ? `  errors ${JSON.stringify(pages.errorKinds)}` : ''}`,
  );
  return m;
}

/** Runs the scenario; returns the report's markdown lines and the raw figures. */
export interface PageServer {
  name: string;
  script: string;
  args: string[];
  env?: Record<string, string>;
}

export const PAGE_SERVERS: PageServer[] = [
  { name: 'predictql', script: 'src/main.ts', args: ['--cache-url', 'memory://'] },
  { name: 'naive', script: 'bench/page-naive-server.ts', args: [] },
  { name: 'naive-1t', script: 'bench/page-naive-server.ts', args: ['--ort-threads', '1'] },
];

/** Each server in turn, on both workloads. */
export async function measurePageServers(servers: readonly PageServer[], seconds: number): Promise<PageMeasurement[]> {
  // Enough distinct pages that none repeats within a run: PredictQL would answer a repeat from its cache.
  const workloads = await renderWorkloads(ACCURACY_PAGES + Math.ceil(seconds * 25));
  const results: PageMeasurement[] = [];
  for (const spec of servers) {
    const server = await startServerProcess(spec.script, spec.args, spec.env);
    try {
      for (const workload of workloads) results.push(await measure(server, spec.name, workload, seconds));
    } finally {
      await server.stop();
    }
  }
  return results;
}

export async function pageScenario(seconds: number): Promise<{ report: string[]; results: PageMeasurement[] }> {
  console.log('\n# page: ocr-page against @gutenye/ocr-node on the main thread, 4 connections, iris at 50/s alongside');
  const results = await measurePageServers(PAGE_SERVERS, seconds);
  const report = pageReport(results);
  // Also on their own, so a run of this scenario alone keeps its figures beside the full run's latest.md.
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/page.md', `# PredictQL benchmark, page scenario, ${new Date().toISOString()}\n\n${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}; ${seconds} s per measurement.\n\n${report.join('\n').trim()}\n`);
  writeFileSync('bench/results/page.json', `${JSON.stringify({ date: new Date().toISOString(), seconds, results }, null, 2)}\n`);
  return { report, results };
}

function pageReport(results: PageMeasurement[]): string[] {
  const at = (server: string, workload: string) => results.find((r) => r.server === server && r.workload === workload)!;
  const rows = results.map((r) => {
    const pq = at('predictql', r.workload);
    const ratio = r.server === 'predictql' ? '' : ` (**${(pq.pages.throughput / r.pages.throughput).toFixed(2)}x** for predictql)`;
    return `| ${r.workload} | ${r.server} | ${r.pages.throughput.toFixed(2)}${ratio} | ${r.pages.p50Ms.toFixed(0)} / ${r.pages.p99Ms.toFixed(0)} | ${r.iris.p50Ms.toFixed(2)} / ${r.iris.p99Ms.toFixed(2)} (alone ${r.irisAlone.p50Ms.toFixed(2)} / ${r.irisAlone.p99Ms.toFixed(2)}) | ${r.loopDelayP99Ms?.toFixed(1) ?? '-'} | ${r.accuracy.exact}/${r.accuracy.lines} |`;
  });
  const stageRows = results
    .filter((r) => r.stages)
    .map((r) => {
      const s = r.stages!;
      return `| ${r.workload} | ${s.decodeMs!.toFixed(1)} | ${s.detectMs!.toFixed(1)} | ${s.cropsMs!.toFixed(1)} | ${s.recogniseMs!.toFixed(1)} | ${s.ocrWorkerMsPerPage!.toFixed(1)} | ${s.linesRecognisedPerPage!.toFixed(2)} | ${(100 * s.linesFromCacheShare!).toFixed(0)}% | ${s.meanOcrBatch!.toFixed(2)} |`;
    });
  return [
    '### page: ocr-page (4 connections, a cached iris query at 50/s alongside) against @gutenye/ocr-node on the main thread',
    '',
    '| pages | server | pages/s | page p50 / p99 ms | iris p50 / p99 ms | loop delay p99 ms | lines exact (30 pages) |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
    'PredictQL per page, mean ms per stage (worker time for decode, detect and crops; recognise is the wall time from the first line queued to the last read), the ocr model\'s worker time and lines recognised per page:',
    '',
    '| pages | decode | detect | crops | recognise (wall) | ocr worker ms | lines recognised | lines from cache | mean ocr batch |',
    '|---|---|---|---|---|---|---|---|---|',
    ...stageRows,
    '',
  ];
}
