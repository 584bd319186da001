/**
 * The `jobs` scenario of `npm run bench` (BENCH_SCENARIOS=jobs): prediction jobs against
 * predictMany, and what a running job does to interactive latency. One PredictQL server process
 * (default workers, LMDB store in a temporary directory), OCR lines rendered as in the tests.
 *
 *   throughput  the same N lines (BENCH_JOB_LINES, default 200) as one predictMany and as one job,
 *               both with cache BYPASS so every line is computed: lines/s, job / predictMany
 *   latency     a cheap query at a steady 50 requests/s for BENCH_SECONDS: iris answered from the
 *               cache, and iris computed (cache BYPASS), each alone and while a 400-line OCR job
 *               runs: p50 and p99
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ocrLineTexts, renderOcrLines } from '../test/helpers/ocr-lines.ts';
import { percentile } from './lib/load.ts';
import { startServerProcess, type ServerProcess } from './lib/processes.ts';

const MANY = 'query ($inputs: [PredictionInput!]!) { predictMany(model: "ocr", inputs: $inputs, options: { cache: BYPASS, deadlineMs: 600000 }) { ... on TextRecognition { text } } }';
const SUBMIT = 'mutation ($inputs: [PredictionInput!]!) { submitPredictionJob(model: "ocr", inputs: $inputs, options: { cache: BYPASS }) { id } }';
const PROGRESS = 'query ($id: ID!) { predictionJob(id: $id) { state done } }';
const IRIS = (cache: string) => `query ($f: [Float!]!) { predict(model: "iris", input: { features: $f }, options: { cache: ${cache} }) { ... on Classification { label } } }`;
const IRIS_ROWS = Array.from({ length: 10 }, (_, i) => [5 + i / 10, 3.4, 1.5 + i / 5, 0.2 + i / 10]);
const RATE = 50;

async function post(url: string, query: string, variables: Record<string, unknown>): Promise<any> {
  const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: any; errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

async function runJob(server: ServerProcess, images: string[]): Promise<{ id: string; seconds: number }> {
  const started = performance.now();
  const { submitPredictionJob } = await post(server.url, SUBMIT, { inputs: images.map((image) => ({ image })) });
  for (;;) {
    const { predictionJob } = await post(server.url, PROGRESS, { id: submitPredictionJob.id });
    if (predictionJob.state === 'SUCCEEDED') return { id: submitPredictionJob.id, seconds: (performance.now() - started) / 1000 };
    if (predictionJob.state !== 'RUNNING' && predictionJob.state !== 'QUEUED') throw new Error(`job ended ${predictionJob.state}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** One client at a steady rate, answers not awaited before the next is sent. */
async function paced(url: string, query: string, durationMs: number): Promise<{ requests: number; errors: number; p50Ms: number; p99Ms: number }> {
  const latencies: number[] = [];
  let errors = 0;
  const inFlight: Array<Promise<void>> = [];
  const started = performance.now();
  for (let i = 0; performance.now() - started < durationMs; i++) {
    const wait = started + (i * 1000) / RATE - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const t0 = performance.now();
    inFlight.push(
      post(url, query, { f: IRIS_ROWS[i % IRIS_ROWS.length] })
        .then(() => void latencies.push(performance.now() - t0))
        .catch(() => void errors++),
    );
  }
  await Promise.all(inFlight);
  latencies.sort((a, b) => a - b);
  return { requests: latencies.length, errors, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
}

export async function jobsScenario(seconds: number): Promise<{ report: string[]; results: Record<string, unknown> }> {
  const lines = Number(process.env.BENCH_JOB_LINES ?? 200);
  const texts = ocrLineTexts(400);
  const images = await renderOcrLines(texts);
  const dir = mkdtempSync(join(tmpdir(), 'predictql-bench-jobs-'));
  const server = await startServerProcess('src/main.ts', ['--cache-url', `lmdb://${join(dir, 'cache')}`, '--watch-models', 'false']);
  try {
    // Warm-up: the OCR model's first batches, and iris's cached answers.
    await post(server.url, MANY, { inputs: images.slice(0, 8).map((image) => ({ image })) });
    for (const f of IRIS_ROWS) await post(server.url, IRIS('USE'), { f });

    const manyStarted = performance.now();
    await post(server.url, MANY, { inputs: images.slice(0, lines).map((image) => ({ image })) });
    const manySeconds = (performance.now() - manyStarted) / 1000;
    const job = await runJob(server, images.slice(0, lines));
    const throughput = { lines, predictManyLinesPerSecond: lines / manySeconds, jobLinesPerSecond: lines / job.seconds, ratio: manySeconds / job.seconds };

    const durationMs = seconds * 1000;
    // The job must outlast the 1 s lead-in and the window: sized from the job throughput just
    // measured, with room to spare, in distinct lines (repeats could be shared in flight).
    const jobLines = Math.max(400, Math.ceil(throughput.jobLinesPerSecond * (seconds + 1) * 2));
    const jobImages = jobLines <= images.length ? images.slice(0, jobLines) : await renderOcrLines(ocrLineTexts(jobLines));
    const latency: Record<string, unknown> = {};
    for (const cache of ['USE', 'BYPASS']) {
      latency[`${cache}-alone`] = await paced(server.url, IRIS(cache), durationMs);
      let ended = false;
      const running = runJob(server, jobImages).then((r) => {
        ended = true;
        return r;
      });
      // Measure once the job's batches are running.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      latency[`${cache}-job`] = await paced(server.url, IRIS(cache), durationMs);
      // The figures hold only if the job ran for the whole window.
      if (ended) throw new Error('the job ended before the latency window did: lower BENCH_SECONDS');
      latency[`${cache}-jobSeconds`] = (await running).seconds;
    }
    const row = (name: string, key: string) => {
      const r = latency[key] as { requests: number; errors: number; p50Ms: number; p99Ms: number };
      return `| ${name} | ${r.requests} | ${r.errors} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} |`;
    };
    const report = [
      '## Prediction jobs (`jobs`)',
      '',
      `${lines} OCR lines (cache BYPASS): predictMany ${throughput.predictManyLinesPerSecond.toFixed(1)} lines/s, job ${throughput.jobLinesPerSecond.toFixed(1)} lines/s (job / predictMany: ${throughput.ratio.toFixed(2)}; the job's time runs from submit to SUCCEEDED seen by a 20 ms poll).`,
      '',
      `A cheap query at ${RATE} requests/s for ${seconds} s, alone and while a ${jobLines}-line OCR job runs (the job took ${(latency['USE-jobSeconds'] as number).toFixed(1)} s and ${(latency['BYPASS-jobSeconds'] as number).toFixed(1)} s):`,
      '',
      '| query | requests | errors | p50 ms | p99 ms |',
      '|---|---|---|---|---|',
      row('iris cached, alone', 'USE-alone'),
      row('iris cached, job running', 'USE-job'),
      row('iris computed (BYPASS), alone', 'BYPASS-alone'),
      row('iris computed (BYPASS), job running', 'BYPASS-job'),
      '',
    ];
    return { report, results: { throughput, jobLines, latency } };
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
