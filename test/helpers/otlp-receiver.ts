/**
 * A minimal OTLP/HTTP trace receiver for tests: a node:http server on a free port that accepts
 * what the exporter POSTs to /v1/traces (OTLP JSON, gzip-compressed or not) and keeps every span,
 * decoded to plain fields. Protobuf bodies are refused with 415, so a test fails loudly if the
 * exporter ever switches encoding.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client. */
  kind: number;
  startNs: bigint;
  endNs: bigint;
  attributes: Record<string, string | number | boolean>;
  /** The resource's attributes (service.name, ...). */
  resource: Record<string, string | number | boolean>;
}

export interface OtlpReceiver {
  /** The base URL, for OTEL_EXPORTER_OTLP_ENDPOINT. */
  url: string;
  spans: ReceivedSpan[];
  /** Paths the exporter posted to. */
  paths: string[];
  /** Resolves with the spans of `traceId` once `ready(spans)` holds; rejects after `timeoutMs`. */
  waitFor(traceId: string, ready: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

type AnyValue = { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean };
type KeyValue = { key: string; value: AnyValue };

function attributesOf(list: KeyValue[] | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of list ?? []) {
    out[key] = value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : undefined) ?? value.doubleValue ?? value.boolValue ?? '';
  }
  return out;
}

/** OTLP JSON carries ids as hex; base64 is accepted too, in case an exporter sends it. */
function idOf(value: string | undefined, bytes: number): string {
  if (!value) return '';
  if (new RegExp(`^[0-9a-f]{${bytes * 2}}$`, 'i').test(value)) return value.toLowerCase();
  return Buffer.from(value, 'base64').toString('hex');
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const paths: string[] = [];
  const waiters = new Set<() => void>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      paths.push(req.url ?? '');
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      if (!(req.headers['content-type'] ?? '').includes('json')) {
        res.writeHead(415).end();
        return;
      }
      const payload = JSON.parse(body.toString('utf8')) as {
        resourceSpans?: Array<{ resource?: { attributes?: KeyValue[] }; scopeSpans?: Array<{ spans?: Array<Record<string, any>> }> }>;
      };
      for (const resourceSpan of payload.resourceSpans ?? []) {
        const resource = attributesOf(resourceSpan.resource?.attributes);
        for (const scope of resourceSpan.scopeSpans ?? []) {
          for (const span of scope.spans ?? []) {
            spans.push({
              traceId: idOf(span.traceId, 16),
              spanId: idOf(span.spanId, 8),
              parentSpanId: idOf(span.parentSpanId, 8),
              name: span.name,
              kind: span.kind,
              startNs: BigInt(span.startTimeUnixNano),
              endNs: BigInt(span.endTimeUnixNano),
              attributes: attributesOf(span.attributes),
              resource,
            });
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      for (const wake of waiters) wake();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    paths,
    waitFor(traceId, ready, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = spans.filter((s) => s.traceId === traceId);
          if (!ready(found)) return;
          cleanup();
          resolve(found);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no complete trace ${traceId} within ${timeoutMs} ms; received: ${JSON.stringify(spans.filter((s) => s.traceId === traceId).map((s) => s.name))}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
