/**
 * The `stream` scenario of `npm run bench` (BENCH_SCENARIOS=stream): 400 distinct OCR lines read
 * by one `predictMany` against one `predictStream` of the same lines, over graphql-ws and over
 * graphql-sse, in one run against one server process (cache off, so every run reads every line).
 *
 * For each: the time to the first answer and to the last (a predictMany's first answer is its
 * whole response). Runs alternate between the three, BENCH_STREAM_RUNS times (default 3); the
 * medians are reported.
 */
import { performance } from 'node:perf_hooks';
import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { renderTextLine } from '../test/helpers/render.ts';
import { startServerProcess } from './lib/processes.ts';

const LINES = 400;
const MANY = 'query ($lines: [PredictionInput!]!) { predictMany(model: "ocr", inputs: $lines) { ... on TextRecognition { text } } }';
const STREAM = 'subscription ($lines: [PredictionInput!]!) { predictStream(model: "ocr", inputs: $lines) { index done total prediction { ... on TextRecognition { text } } error { code } } }';

interface Timing {
  firstMs: number;
  totalMs: number;
  answers: number;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export async function streamScenario(): Promise<{ report: string[]; results: Record<string, unknown> }> {
  const runs = Number(process.env.BENCH_STREAM_RUNS ?? 3);
  const lines: Array<{ image: string }> = [];
  for (let i = 0; i < LINES; i++) lines.push({ image: Buffer.from(await renderTextLine(`Shipment ${20000 + i * 11}: ${(i * 2.71).toFixed(2)} kg to gate ${i % 40}`)).toString('base64') });
  const server = await startServerProcess('src/main.ts', ['--cache-url', 'off', '--watch-models', 'false']);
  const wsUrl = `${server.url.replace(/^http/, 'ws')}/graphql`;

  const many = async (): Promise<Timing> => {
    const started = performance.now();
    const res = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: MANY, variables: { lines } }) });
    const body = (await res.json()) as { data?: { predictMany: unknown[] }; errors?: unknown };
    if (!body.data) throw new Error(`predictMany failed: ${JSON.stringify(body.errors)}`);
    const ms = performance.now() - started;
    return { firstMs: ms, totalMs: ms, answers: body.data.predictMany.length };
  };
  const stream = async (results: AsyncIterable<{ data?: unknown; errors?: unknown }>, started: number): Promise<Timing> => {
    let firstMs = 0;
    let answers = 0;
    for await (const result of results) {
      if (!result.data) throw new Error(`predictStream failed: ${JSON.stringify(result.errors)}`);
      if (answers++ === 0) firstMs = performance.now() - started;
    }
    return { firstMs, totalMs: performance.now() - started, answers };
  };
  const overWs = async (): Promise<Timing> => {
    const started = performance.now();
    const client = createWsClient({ url: wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 });
    try {
      return await stream(client.iterate({ query: STREAM, variables: { lines } }), started);
    } finally {
      await client.dispose();
    }
  };
  const overSse = async (): Promise<Timing> => {
    const started = performance.now();
    const client = createSseClient({ url: `${server.url}/graphql/stream`, retryAttempts: 0 });
    try {
      return await stream(client.iterate({ query: STREAM, variables: { lines } }), started);
    } finally {
      client.dispose();
    }
  };

  const ways = { predictMany: many, 'predictStream (graphql-ws)': overWs, 'predictStream (graphql-sse)': overSse };
  const timings: Record<string, Timing[]> = Object.fromEntries(Object.keys(ways).map((k) => [k, []]));
  try {
    await many(); // warm-up: the model loaded and run in every worker
    for (let run = 0; run < runs; run++) {
      const order = Object.entries(ways);
      if (run % 2 === 1) order.reverse();
      for (const [name, measure] of order) timings[name]!.push(await measure());
    }
  } finally {
    await server.stop();
  }

  const manyTotal = median(timings.predictMany!.map((t) => t.totalMs));
  const rows = Object.entries(timings).map(([name, list]) => {
    const first = median(list.map((t) => t.firstMs));
    const total = median(list.map((t) => t.totalMs));
    return { name, firstMs: Math.round(first), totalMs: Math.round(total), firstOfTotal: Number((first / total).toFixed(3)), totalVsPredictMany: Number((total / manyTotal).toFixed(2)), answers: list[0]!.answers };
  });
  const report = [
    `### stream: ${LINES} OCR lines, one predictMany against one predictStream (median of ${runs} runs, cache off)`,
    '',
    '| request | first answer | last answer | first / last | last vs predictMany |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.name} | ${r.firstMs} ms | ${r.totalMs} ms | ${r.firstOfTotal} | ${r.totalVsPredictMany}x |`),
    '',
  ];
  return { report, results: { lines: LINES, runs, rows } };
}
