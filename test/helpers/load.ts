/**
 * Load generation for the hardening tests: closed-loop clients (to find the sustainable rate) and
 * an open-loop sender (requests at a fixed rate whatever the answers, which is what overload
 * means), each response reduced to its HTTP status and GraphQL error code, and a sampler of the
 * server's resident memory from /metrics.
 */
import { readFileSync } from 'node:fs';
import type { Agent } from 'node:http';
import { performance } from 'node:perf_hooks';
import { request, type ClientResponse } from './client.ts';

export interface Outcome {
  status: number;
  /** `ok`, the first error's extensions.code, or `LOST: <why>` when no well-formed answer came. */
  code: string;
  ms: number;
  retryAfter: string | null;
  body: any;
}

/** Sends one GraphQL POST; never throws: a network failure or a malformed answer is an outcome. */
export function send(url: string, body: unknown, timeoutMs: number, headers: Record<string, string> = {}): Promise<Outcome> {
  return outcomeOf(() => request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) }));
}

/**
 * `send` through node:http with `agent`, whose maxSockets bounds the connections as a proxy or a
 * load balancer's pool would; requests beyond them wait in the agent (client-side), not as new
 * connections in the server's accept queue.
 */
export function sendThrough(agent: Agent, url: string, body: unknown, timeoutMs: number): Promise<Outcome> {
  return outcomeOf(() => request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), agent, socketTimeoutMs: timeoutMs }));
}

/** The answer to `send()`, reduced to an Outcome, timed from the moment it is sent. */
async function outcomeOf(send: () => Promise<ClientResponse>): Promise<Outcome> {
  const started = performance.now();
  try {
    const res = await send();
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
    const code = cause?.code ?? (error as { code?: string }).code;
    return { status: 0, code: `LOST: ${(error as Error).name}: ${(error as Error).message}${code ? ` (${code})` : ''}`, ms: performance.now() - started, retryAfter: null, body: null };
  }
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
