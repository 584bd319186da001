/**
 * A closed-loop load generator: `concurrency` clients, each sending its next request as soon as
 * the previous answer arrives, over keep-alive connections. Latencies are taken with
 * performance.now(), so sub-millisecond differences show.
 */
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

export interface LoadOptions {
  url: string;
  concurrency: number;
  durationMs: number;
  /** The JSON body of the i-th request. */
  body: (i: number) => string;
}

export interface LoadResult {
  requests: number;
  errors: number;
  /** Distinct error messages or HTTP statuses seen, with counts. */
  errorKinds: Record<string, number>;
  seconds: number;
  throughput: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  responseBytes: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function post(agent: Agent, url: URL, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export async function closedLoop(options: LoadOptions): Promise<LoadResult> {
  const url = new URL(options.url);
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const latencies: number[] = [];
  const errorKinds: Record<string, number> = {};
  let errors = 0;
  let sent = 0;
  let responseBytes = 0;
  const started = performance.now();
  const end = started + options.durationMs;

  const client = async () => {
    while (performance.now() < end) {
      const body = options.body(sent++);
      const t0 = performance.now();
      try {
        const res = await post(agent, url, body);
        latencies.push(performance.now() - t0);
        responseBytes += Buffer.byteLength(res.text);
        if (res.status !== 200 || res.text.includes('"errors"')) {
          errors++;
          const kind = res.status !== 200 ? `HTTP ${res.status}` : (JSON.parse(res.text).errors[0]?.extensions?.code ?? 'error');
          errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
        }
      } catch (error) {
        errors++;
        const kind = (error as Error).message;
        errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, client));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    errors,
    errorKinds,
    seconds,
    throughput: latencies.length / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    meanMs: latencies.reduce((s, v) => s + v, 0) / Math.max(1, latencies.length),
    responseBytes: latencies.length ? responseBytes / latencies.length : 0,
  };
}
