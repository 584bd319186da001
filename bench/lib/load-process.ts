/**
 * The load generator of the `targets` scenario, run in its own process (bench/lib/remote-load.ts
 * starts it), so that neither the server nor the benchmark's bookkeeping shares its event loop.
 *
 * It speaks HTTP/1.1 over raw keep-alive sockets with each request pre-built as one buffer:
 * node:http's client costs several times more CPU per request, and on 2 cores every cycle the
 * load generator spends is taken from the server it measures (the ceiling reference answers
 * five figures of requests per second). Latencies are taken with performance.now(), so
 * sub-millisecond differences show.
 *
 * Streams: a closed loop (`connections` clients, each sending its next request when the previous
 * answer arrives) or an open loop (`rate` requests per second on a schedule, a new connection
 * whenever every open one is busy, latency counted from the scheduled time). A response counts
 * as answered only with status 200 and no `"errors"` in its body; anything else is an error,
 * kept by kind (HTTP status, `extensions.code`, or the socket's error).
 *
 *   node --import tsx bench/lib/load-process.ts <spec.json>   -> one JSON line on stdout
 */
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

export interface StreamSpec {
  name: string;
  /** Request bodies, one per line; sent in order, from `offset`, wrapping around at the end. */
  bodiesFile: string;
  offset?: number;
  /** Closed loop: this many connections. */
  connections?: number;
  /** Open loop: requests per second. */
  rate?: number;
}

export interface LoadSpec {
  url: string;
  warmupMs: number;
  durationMs: number;
  streams: StreamSpec[];
}

export interface StreamResult {
  name: string;
  /** Answered: status 200, no GraphQL errors, completed within the measured window. */
  ok: number;
  errors: number;
  errorKinds: Record<string, number>;
  seconds: number;
  /** Answered requests per second. */
  throughput: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  /** Mean bytes of an answered response's body. */
  responseBytes: number;
  /** Bodies sent, warm-up included; above the file's count means inputs were sent again. */
  sent: number;
  /** Responses of any status received, warm-up included: divides the server's CPU time. */
  responses: number;
  bodies: number;
}

const CRLF_CRLF = Buffer.from('\r\n\r\n');
const ERRORS = Buffer.from('"errors"');

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** A parsed response: status and body, or undefined while more bytes are needed. */
function parseResponse(buf: Buffer): { status: number; body: Buffer; rest: Buffer } | undefined {
  const headerEnd = buf.indexOf(CRLF_CRLF);
  if (headerEnd < 0) return undefined;
  const head = buf.toString('latin1', 0, headerEnd);
  const status = Number(head.slice(9, 12));
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  const start = headerEnd + 4;
  if (length) {
    const end = start + Number(length[1]);
    if (buf.length < end) return undefined;
    return { status, body: buf.subarray(start, end), rest: buf.subarray(end) };
  }
  if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
    const parts: Buffer[] = [];
    let at = start;
    for (;;) {
      const lineEnd = buf.indexOf('\r\n', at);
      if (lineEnd < 0) return undefined;
      const size = parseInt(buf.toString('latin1', at, lineEnd), 16);
      if (buf.length < lineEnd + 2 + size + 2) return undefined;
      if (size === 0) return { status, body: Buffer.concat(parts), rest: buf.subarray(lineEnd + 4) };
      parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
    }
  }
  return { status, body: Buffer.alloc(0), rest: buf.subarray(start) }; // no body (a 204, say)
}

function errorKind(status: number, body: Buffer): string {
  if (status !== 200) return `HTTP ${status}`;
  try {
    const parsed = JSON.parse(body.toString()) as { errors?: Array<{ extensions?: { code?: string }; message?: string }> };
    const first = parsed.errors?.[0];
    return first?.extensions?.code ?? first?.message?.slice(0, 80) ?? 'error';
  } catch {
    return 'unparsable body';
  }
}

class Stats {
  latencies: number[] = [];
  responses = 0;
  errors = 0;
  errorKinds: Record<string, number> = {};
  bytes = 0;
  error(kind: string) {
    this.errors++;
    this.errorKinds[kind] = (this.errorKinds[kind] ?? 0) + 1;
  }
}

/** One keep-alive connection carrying one request at a time. */
class Connection {
  private socket: Socket | undefined;
  private buffer: Buffer = Buffer.alloc(0);
  private pending: { started: number; done: (status: number, body: Buffer | undefined, error?: string) => void } | undefined;

  constructor(private readonly host: string, private readonly port: number) {}

  get busy() {
    return this.pending !== undefined;
  }

  private open(): Socket {
    const socket = connect({ host: this.host, port: this.port, noDelay: true });
    socket.on('data', (chunk: Buffer) => {
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
      const parsed = parseResponse(this.buffer);
      if (!parsed) return;
      this.buffer = parsed.rest.length ? Buffer.from(parsed.rest) : Buffer.alloc(0);
      const pending = this.pending;
      this.pending = undefined;
      pending?.done(parsed.status, parsed.body);
    });
    const fail = (why: string) => {
      if (this.socket === socket) this.socket = undefined;
      this.buffer = Buffer.alloc(0);
      const pending = this.pending;
      this.pending = undefined;
      pending?.done(0, undefined, why);
    };
    socket.on('error', (e) => fail(e.message));
    socket.on('close', () => fail('connection closed'));
    return socket;
  }

  send(request: Buffer, started: number, done: (status: number, body: Buffer | undefined, error?: string) => void) {
    this.pending = { started, done };
    this.socket ??= this.open();
    this.socket.write(request);
  }

  close() {
    this.socket?.destroy();
    this.socket = undefined;
  }
}

export async function runLoad(spec: LoadSpec): Promise<StreamResult[]> {
  const url = new URL(spec.url);
  const host = url.hostname;
  const port = Number(url.port);
  const t0 = performance.now();
  const measureFrom = t0 + spec.warmupMs;
  const end = measureFrom + spec.durationMs;
  const connections: Connection[] = [];

  const runs = spec.streams.map(async (stream) => {
    const bodies = readFileSync(stream.bodiesFile, 'utf8').split('\n').filter((l) => l.length > 0);
    const prefix = `POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nAccept: application/json\r\n`;
    const requests = bodies.map((b) => Buffer.from(`${prefix}Content-Length: ${Buffer.byteLength(b)}\r\n\r\n${b}`));
    const stats = new Stats();
    let sent = 0;
    const next = () => requests[((stream.offset ?? 0) + sent++) % requests.length]!;
    const record = (started: number, status: number, body: Buffer | undefined, error?: string) => {
      const now = performance.now();
      if (error === undefined) stats.responses++;
      if (started < measureFrom || now > end) return; // warm-up, or after the window
      if (error !== undefined) return stats.error(error);
      if (status !== 200 || body!.indexOf(ERRORS) >= 0) return stats.error(errorKind(status, body!));
      stats.latencies.push(now - started);
      stats.bytes += body!.length;
    };

    if (stream.rate) {
      const pool: Connection[] = [];
      const interval = 1000 / stream.rate;
      let k = 0;
      await new Promise<void>((resolve) => {
        const tick = () => {
          const scheduled = t0 + k++ * interval;
          if (scheduled >= end) return resolve();
          let conn = pool.find((c) => !c.busy);
          if (!conn) {
            conn = new Connection(host, port);
            pool.push(conn);
            connections.push(conn);
          }
          conn.send(next(), scheduled, (status, body, error) => record(scheduled, status, body, error));
          setTimeout(tick, Math.max(0, t0 + k * interval - performance.now()));
        };
        tick();
      });
    } else {
      await Promise.all(
        Array.from({ length: stream.connections ?? 1 }, async () => {
          const conn = new Connection(host, port);
          connections.push(conn);
          while (performance.now() < end) {
            const started = performance.now();
            await new Promise<void>((resolve) =>
              conn.send(next(), started, (status, body, error) => {
                record(started, status, body, error);
                resolve();
              }),
            );
          }
        }),
      );
    }
    return { stream, stats, sent, bodies: bodies.length };
  });

  // Open-loop streams stop scheduling at `end`; give their last answers a moment, no more.
  const done = await Promise.all(runs);
  const grace = performance.now() + 2000;
  while (connections.some((c) => c.busy) && performance.now() < grace) await new Promise((r) => setTimeout(r, 5));
  for (const c of connections) c.close();

  return done.map(({ stream, stats, sent, bodies }) => {
    const sorted = Float64Array.from(stats.latencies).sort();
    const seconds = spec.durationMs / 1000;
    return {
      name: stream.name,
      ok: sorted.length,
      errors: stats.errors,
      errorKinds: stats.errorKinds,
      seconds,
      throughput: sorted.length / seconds,
      p50Ms: percentile(sorted, 50),
      p90Ms: percentile(sorted, 90),
      p99Ms: percentile(sorted, 99),
      maxMs: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
      meanMs: sorted.reduce((s, v) => s + v, 0) / Math.max(1, sorted.length),
      responseBytes: sorted.length ? stats.bytes / sorted.length : 0,
      sent,
      responses: stats.responses,
      bodies,
    };
  });
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const spec = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as LoadSpec;
  const results = await runLoad(spec);
  process.stdout.write(`${JSON.stringify(results)}\n`);
}
