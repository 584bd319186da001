/**
 * The tests' one HTTP client: every request a test sends to a server goes through `request`, which
 * can carry headers, a body and an abort signal, over fetch (pooled keep-alive connections, as a
 * browser) or, given an `agent`, over node:http (a bounded pool like a proxy's, or a fresh
 * connection per request with `agent: false`). Either way the answer reads like a Response.
 *
 * The node:http answer is a plain object rather than a Response: the load tests send thousands
 * of requests a second through it from the process that shares the server's cores, and building
 * a WHATWG Response and Headers for each took CPU the server under test was measured without.
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

/** What the tests read of an answer (a Response is one). */
export interface ClientResponse {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
  json(): Promise<unknown>;
}

/** A GraphQL response, parsed: graphql-js's null-prototype objects come back as plain ones. */
export interface GraphQLResponse<T = any> {
  status: number;
  data?: T;
  errors?: Array<{ message: string; path?: string[]; extensions?: { code?: string } & Record<string, any> }>;
  extensions?: Record<string, any>;
}

export function request(url: string, options: RequestOptions = {}): Promise<ClientResponse> {
  const method = options.method ?? (options.body === undefined ? 'GET' : 'POST');
  if (options.agent === undefined) return fetch(url, { method, headers: options.headers, body: options.body, signal: options.signal });
  return viaNodeHttp(url, method, options);
}

function viaNodeHttp(url: string, method: string, options: RequestOptions): Promise<ClientResponse> {
  const body = options.body === undefined ? undefined : typeof options.body === 'string' ? Buffer.from(options.body) : options.body;
  const headers = { ...options.headers, ...(body ? { 'content-length': String(body.byteLength) } : {}) };
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, agent: options.agent, headers, signal: options.signal, timeout: options.socketTimeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: headersOf(res.headers), text: async () => text, json: async () => JSON.parse(text) as unknown });
      });
    });
    if (options.socketTimeoutMs !== undefined) req.on('timeout', () => req.destroy(new Error(`no answer within ${options.socketTimeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Headers.get over node's header object (lowercase names; repeated headers joined as fetch joins them). */
function headersOf(raw: IncomingHttpHeaders): ClientResponse['headers'] {
  return {
    get(name: string) {
      const value = raw[name.toLowerCase()];
      return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
    },
  };
}

/**
 * POSTs a GraphQL request to `${serverUrl}/graphql`: an object is sent as JSON, a string as it is,
 * with `content-type: application/json` unless `headers` say otherwise.
 */
export function post(serverUrl: string, body: unknown, options: Omit<RequestOptions, 'method' | 'body'> = {}): Promise<ClientResponse> {
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
