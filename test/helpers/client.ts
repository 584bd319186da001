/**
 * The tests' one HTTP client: every request a test sends to a server goes through `request`, which
 * can carry headers, a body and an abort signal, over fetch (pooled keep-alive connections, as a
 * browser) or, given an `agent`, over node:http (a bounded pool like a proxy's, or a fresh
 * connection per request with `agent: false`). Either way the answer is a standard Response.
 */
import { request as httpRequest, type Agent, type IncomingHttpHeaders } from 'node:http';

export interface RequestOptions {
  /** GET without a body, POST with one, unless set. */
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  signal?: AbortSignal;
  /** Send through node:http with this agent (false: a new connection, closed after the answer) instead of fetch. */
  agent?: Agent | false;
  /** node:http only: give up when the connection has been idle this long (time waiting in the agent does not count). */
  socketTimeoutMs?: number;
}

/** A GraphQL response, parsed: graphql-js's null-prototype objects come back as plain ones. */
export interface GraphQLResponse<T = any> {
  status: number;
  data?: T;
  errors?: Array<{ message: string; path?: string[]; extensions?: { code?: string } & Record<string, any> }>;
  extensions?: Record<string, any>;
}

export function request(url: string, options: RequestOptions = {}): Promise<Response> {
  const method = options.method ?? (options.body === undefined ? 'GET' : 'POST');
  if (options.agent === undefined) return fetch(url, { method, headers: options.headers, body: options.body, signal: options.signal });
  return viaNodeHttp(url, method, options);
}

function viaNodeHttp(url: string, method: string, options: RequestOptions): Promise<Response> {
  const body = options.body === undefined ? undefined : typeof options.body === 'string' ? Buffer.from(options.body) : options.body;
  const headers = { ...options.headers, ...(body ? { 'content-length': String(body.byteLength) } : {}) };
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, agent: options.agent, headers, signal: options.signal, timeout: options.socketTimeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        // A Response may not carry a body with these statuses.
        const content = [101, 204, 205, 304].includes(status) ? null : Buffer.concat(chunks);
        resolve(new Response(content, { status, headers: headersOf(res.headers) }));
      });
    });
    if (options.socketTimeoutMs !== undefined) req.on('timeout', () => req.destroy(new Error(`no answer within ${options.socketTimeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

function headersOf(raw: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) headers.append(name, v);
  }
  return headers;
}

/**
 * POSTs a GraphQL request to `${serverUrl}/graphql`: an object is sent as JSON, a string as it is,
 * with `content-type: application/json` unless `headers` say otherwise.
 */
export function post(serverUrl: string, body: unknown, options: Omit<RequestOptions, 'method' | 'body'> = {}): Promise<Response> {
  return request(`${serverUrl}/graphql`, {
    ...options,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...options.headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** `post`, with the answer parsed. */
export async function graphql<T = any>(serverUrl: string, body: { query?: string; variables?: Record<string, unknown>; extensions?: Record<string, unknown> }, options: Omit<RequestOptions, 'method' | 'body'> = {}): Promise<GraphQLResponse<T>> {
  const response = await post(serverUrl, body, options);
  return { status: response.status, ...((await response.json()) as Omit<GraphQLResponse<T>, 'status'>) };
}
