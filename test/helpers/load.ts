/**
 * Load generation for the hardening tests: closed-loop clients (to find the sustainable rate) and
 * an open-loop sender (requests at a fixed rate whatever the answers, which is what overload
 * means), each response reduced to its HTTP status and GraphQL error code, and a sampler of the
 * server's resident memory from /metrics.
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest, type Agent } from 'node:http';
import { performance } from 'node:perf_hooks';

export interface Outcome {
  status: number;
  /** `ok`, the first error's extensions.code, or `LOST: <why>` when no well-formed answer came. */
  code: string;
  ms: number;
  retryAfter: string | null;
  body: any;
}

/** Sends one GraphQL POST; never throws: a network failure or a malformed answer is an outcome. */
export async function send(url: string, body: unknown, timeoutMs: number, headers: Record<string, string> = {}): Promise<Outcome> {
  const started = performance.now();
  try {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      return { status: res.status, code: `LOST: not JSON (${text.slice(0, 80)})`, ms: performance.now() - started, retryAfter: null, body: text };
    }
    const code = json.errors?.length ? String(json.errors[0]?.extensions?.code ?? 'NO_CODE') : 'ok';
    return { status: res.status, code, ms: performance.now() - started, retryAfter: res.headers.get('retry-after'), body: json };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    return { status: 0, code: `LOST: ${(error as Error).name}: ${(error as Error).message}${cause?.code ? ` (${cause.code})` : ''}`, ms: performance.now() - started, retryAfter: null, body: null };
  }
}

/**
 * `send` through node:http with `agent`, whose maxSockets bounds the connections as a proxy or a
 * load balancer's pool would; requests beyond them wait in the agent (client-side), not as new
 * connections in the server's accept queue.
 */
export function sendThrough(agent: Agent, url: string, body: unknown, timeoutMs: number): Promise<Outcome> {
  const started = performance.now();
  const payload = JSON.stringify(body);
  return new Promise((resolve) => {
    const lost = (why: string) => resolve({ status: 0, code: `LOST: ${why}`, ms: performance.now() - started, retryAfter: null, body: null });
    const req = httpRequest(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', (error) => lost(error.message));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: any;
        try {
          json = JSON.parse(text);
        } catch {
          return lost(`not JSON (${text.slice(0, 80)})`);
        }
        const code = json.errors?.length ? String(json.errors[0]?.extensions?.code ?? 'NO_CODE') : 'ok';
        const retryAfter = res.headers['retry-after'];
        resolve({ status: res.statusCode ?? 0, code, ms: performance.now() - started, retryAfter: typeof retryAfter === 'string' ? retryAfter : null, body: json });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (error: Error & { code?: string }) => lost(`${error.message}${error.code ? ` (${error.code})` : ''}`));
    req.end(payload);
  });
}

/** Counts outcomes by code and by status, and keeps the latencies of each code. */
export class Tally {
  readonly outcomes: Outcome[] = [];
  add(outcome: Outcome): void {
    this.outcomes.push(outcome);
  }
  get total(): number {
    return this.outcomes.length;
  }
  count(code: string): number {
    return this.outcomes.filter((o) => o.code === code).length;
  }
  lost(): Outcome[] {
    return this.outcomes.filter((o) => o.code.startsWith('LOST'));
  }
  byCode(): Record<string, number> {
    return countBy(this.outcomes.map((o) => o.code));
  }
  byStatus(): Record<string, number> {
    return countBy(this.outcomes.map((o) => String(o.status)));
  }
  /** The p-th percentile (0-100) of the latencies of outcomes with `code`. */
  percentile(code: string, p: number): number {
    const ms = this.outcomes.filter((o) => o.code === code).map((o) => o.ms).sort((a, b) => a - b);
    return ms.length ? ms[Math.min(ms.length - 1, Math.floor((p / 100) * ms.length))]! : 0;
  }
}

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}

/** `clients` loops each sending its next request when the last one answered, for `durationMs`. */
export async function closedLoop(url: string, clients: number, durationMs: number, makeBody: (i: number) => unknown, timeoutMs = 30_000, agent?: Agent): Promise<Tally> {
  const tally = new Tally();
  const end = performance.now() + durationMs;
  let next = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < end) tally.add(await (agent ? sendThrough(agent, url, makeBody(next++), timeoutMs) : send(url, makeBody(next++), timeoutMs)));
    }),
  );
  return tally;
}

/** Sends `ratePerSecond` requests a second for `durationMs`, not waiting for answers; resolves when all have answered. */
export async function openLoop(url: string, ratePerSecond: number, durationMs: number, makeBody: (i: number) => unknown, timeoutMs: number, agent?: Agent): Promise<Tally> {
  const tally = new Tally();
  const inFlight: Array<Promise<void>> = [];
  const started = performance.now();
  let sent = 0;
  while (performance.now() - started < durationMs) {
    // Catch up to the schedule (timers are coarse), then sleep a little.
    const due = Math.floor(((performance.now() - started) / 1000) * ratePerSecond);
    for (; sent < due; sent++) inFlight.push((agent ? sendThrough(agent, url, makeBody(sent), timeoutMs) : send(url, makeBody(sent), timeoutMs)).then((o) => tally.add(o)));
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await Promise.all(inFlight);
  return tally;
}

/** Samples a process's resident memory (Linux /proc, so a saturated server is still measured) until stopped; keeps the peak. */
export function sampleMemory(pid: number, everyMs = 200): { stop(): Promise<{ peakBytes: number; firstBytes: number }> } {
  const rss = () => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
  const firstBytes = rss();
  let peakBytes = firstBytes;
  const timer = setInterval(() => {
    try {
      peakBytes = Math.max(peakBytes, rss());
    } catch {
      // The process is gone; the test notices that on its own.
    }
  }, everyMs);
  return {
    async stop() {
      clearInterval(timer);
      return { peakBytes, firstBytes };
    },
  };
}

export const MB = 1024 * 1024;
