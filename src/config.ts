/**
 * Server settings. Every setting has a default, an environment variable and a CLI flag; the flag
 * wins over the variable. Values are checked here, at startup, so a typo fails fast with a
 * message naming the setting and what it accepts instead of surfacing as odd behaviour later.
 */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { EXECUTION_PROVIDERS, isExecutionProvider } from './engine/providers.ts';

export interface Config {
  host: string;
  port: number;
  modelsDir: string;
  cacheUrl: string;
  cacheTtlSeconds: number;
  cacheTimeoutMs: number;
  cacheMaxBytes: number;
  cacheSweepIntervalMs: number;
  apqMaxEntries: number;
  apqMaxQueryBytes: number;
  apqTtlSeconds: number;
  l1MaxBytes: number;
  processes: number;
  workers: number;
  ortThreads: number;
  ortSpinning: boolean;
  workerNice: number;
  modelMaxWorkers: number;
  workerHeapMb: number;
  maxBatchSize: number;
  maxDelayMs: number;
  maxQueue: number;
  deadlineMs: number;
  maxInputsPerRequest: number;
  maxRequestCost: number;
  maxBodyBytes: number;
  maxQueryBytes: number;
  documentCacheMaxBytes: number;
  maxVariablesDepth: number;
  maxVariablesBytes: number;
  maxBodyJsonValues: number;
  maxBodyBytesInFlight: number;
  maxConnections: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  sendTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxQueryDepth: number;
  maxAliases: number;
  maxTokens: number;
  maxDirectives: number;
  maxEventLoopDelayMs: number;
  maxStreams: number;
  streamBufferEvents: number;
  streamStallMs: number;
  playground: boolean;
  logLevel: LogLevel;
  shutdownGraceMs: number;
  debugErrors: boolean;
  adminToken: string | undefined;
  watchModels: boolean;
  corsOrigins: readonly string[] | '*';
  corsCredentials: boolean;
  jobsMaxInputs: number;
  jobsMaxActive: number;
  jobsMaxWorkers: number;
  jobsTtlSeconds: number;
  metricsToken: string | undefined;
  metricsPort: number | undefined;
  executionProviders: string[];
  otelEndpoint: string | undefined;
  otelTracesEndpoint: string | undefined;
  otelServiceName: string;
  otelScheduleDelayMs: number;
  otelSampleRatio: number;
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

interface Setting<K extends keyof Config> {
  key: K;
  env: string;
  flag: string;
  description: string;
  default: () => Config[K];
  parse: (raw: string) => Config[K];
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function integer(min: number, max: number) {
  return (raw: string): number => {
    if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`expected a whole number from ${min} to ${max}, got "${raw}"`);
    const value = Number(raw);
    if (value < min || value > max) throw new ConfigError(`expected a whole number from ${min} to ${max}, got ${value}`);
    return value;
  };
}

function number(min: number, max: number) {
  return (raw: string): number => {
    const value = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
      throw new ConfigError(`expected a number from ${min} to ${max}, got "${raw}"`);
    }
    return value;
  };
}

function boolean(raw: string): boolean {
  const value = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(value)) return true;
  if (['0', 'false', 'no', 'off'].includes(value)) return false;
  throw new ConfigError(`expected true or false, got "${raw}"`);
}

function nonEmpty(raw: string): string {
  if (raw.trim() === '') throw new ConfigError('expected a non-empty value');
  return raw.trim();
}

function cacheUrl(raw: string): string {
  const value = raw.trim();
  if (value === 'off' || value === 'memory://' || value.startsWith('lmdb://')) {
    if (value === 'lmdb://') throw new ConfigError('lmdb:// needs a directory, e.g. lmdb://./data/cache');
    return value;
  }
  if (/^rediss?\+cluster:\/\//.test(value)) {
    // A list of seed nodes is not a URL the WHATWG parser accepts: check it by hand.
    if (/^rediss?\+cluster:\/\/[\w.-]+:\d+(,[\w.-]+:\d+)*\/?$/.test(value)) return value;
    throw new ConfigError(`"${raw}" is not a valid Redis Cluster URL (redis+cluster://host1:port,host2:port)`);
  }
  if (/^rediss?:\/\//.test(value)) {
    try {
      new URL(value);
      return value;
    } catch {
      throw new ConfigError(`"${raw}" is not a valid Redis URL (redis://[user:password@]host:port[/db], or redis+cluster://host1:port,host2:port for Redis Cluster)`);
    }
  }
  throw new ConfigError(`expected lmdb://<directory>, redis://host:port, memory:// or off, got "${raw}"`);
}

/**
 * `*`, or a comma-separated list of origins as browsers send them in `Origin`: scheme://host[:port],
 * nothing after it. Each is normalised the way browsers serialise origins (lower-case host, no
 * default port), since @fastify/cors compares them as strings.
 */
function corsOrigins(raw: string): readonly string[] | '*' {
  const value = raw.trim();
  if (value === '*') return '*';
  if (value === '') return [];
  return value.split(',').map((item) => {
    const origin = item.trim();
    let url: URL | undefined;
    try {
      url = new URL(origin);
    } catch {
      url = undefined;
    }
    const bare = url && (url.protocol === 'http:' || url.protocol === 'https:') && !url.username && !url.password && url.search === '' && url.hash === '' && /^[a-z][a-z0-9+.-]*:\/\/[^/]+\/?$/i.test(origin);
    if (!url || !bare) throw new ConfigError(`"${origin}" is not an origin; expected http(s)://host[:port] with no path, e.g. https://app.example.com, separated by commas, or *`);
    return url.origin;
  });
}

function httpUrl(raw: string): string {
  const value = raw.trim();
  try {
    const url = new URL(value);
    if (url.protocol === 'http:' || url.protocol === 'https:') return value;
  } catch {
    // reported below
  }
  throw new ConfigError(`expected an http:// or https:// URL, got "${raw}"`);
}

function executionProviders(raw: string): string[] {
  const names = raw.split(',').map((name) => name.trim().toLowerCase());
  if (names.some((name) => name === '')) throw new ConfigError(`expected a comma-separated list of ${EXECUTION_PROVIDERS.join(', ')}, got "${raw}"`);
  const unknown = names.filter((name) => !isExecutionProvider(name));
  if (unknown.length > 0) throw new ConfigError(`unknown execution provider ${unknown.map((n) => `"${n}"`).join(', ')}; ONNX Runtime for Node knows ${EXECUTION_PROVIDERS.join(', ')}`);
  if (new Set(names).size !== names.length) throw new ConfigError(`"${raw}" names a provider twice`);
  return names;
}

function logLevel(raw: string): LogLevel {
  const value = raw.trim().toLowerCase() as LogLevel;
  if (!LOG_LEVELS.includes(value)) throw new ConfigError(`expected one of ${LOG_LEVELS.join(', ')}, got "${raw}"`);
  return value;
}

// The table the README's settings section documents, one row per setting.
export const SETTINGS = [
  { key: 'host', env: 'HOST', flag: '--host', description: 'Interface to listen on', default: () => '127.0.0.1', parse: nonEmpty },
  { key: 'port', env: 'PORT', flag: '--port', description: 'HTTP port (0 picks a free one)', default: () => 4000, parse: integer(0, 65535) },
  { key: 'modelsDir', env: 'MODELS_DIR', flag: '--models-dir', description: 'Model repository: one folder per model with a manifest.json', default: () => resolve('models'), parse: (raw) => resolve(nonEmpty(raw)) },
  { key: 'cacheUrl', env: 'CACHE_URL', flag: '--cache-url', description: 'Result cache store: lmdb://<dir> (on disk), redis://host:port (shared by instances), redis+cluster://host1:port,host2:port (a Redis Cluster), memory:// or off', default: () => 'lmdb://./data/cache', parse: cacheUrl },
  { key: 'cacheTtlSeconds', env: 'CACHE_TTL_SECONDS', flag: '--cache-ttl-seconds', description: 'Lifetime of a cached answer, for models whose manifest sets none; 0 keeps answers until cleared', default: () => 0, parse: integer(0, 100 * 365 * 86400) },
  { key: 'cacheTimeoutMs', env: 'CACHE_TIMEOUT_MS', flag: '--cache-timeout-ms', description: 'Longest wait for the cache store before a read counts as a miss', default: () => 100, parse: integer(1, 60_000) },
  { key: 'cacheMaxBytes', env: 'CACHE_MAX_BYTES', flag: '--cache-max-bytes', description: 'Bound on the size of the lmdb:// cache directory on disk (and of the memory:// store in memory): past it the oldest answers are evicted; a write that still does not fit is skipped', default: () => 2 * 1024 ** 3, parse: integer(4 * 1024 ** 2, 2 ** 50) },
  { key: 'cacheSweepIntervalMs', env: 'CACHE_SWEEP_INTERVAL_MS', flag: '--cache-sweep-interval-ms', description: 'How often the lmdb:// cache removes expired entries and checks its bounds (it also checks the size bound as it writes)', default: () => 30_000, parse: integer(50, 3_600_000) },
  { key: 'apqMaxEntries', env: 'APQ_MAX_ENTRIES', flag: '--apq-max-entries', description: 'Most automatic persisted queries kept (lmdb:// evicts the oldest, memory:// the least recently used; on Redis the lifetime and its maxmemory policy bound them)', default: () => 10_000, parse: integer(1, 10_000_000) },
  { key: 'apqMaxQueryBytes', env: 'APQ_MAX_QUERY_BYTES', flag: '--apq-max-query-bytes', description: 'Longest query text kept as an automatic persisted query; a longer one runs but is not kept', default: () => 65_536, parse: integer(64, 100_000_000) },
  { key: 'apqTtlSeconds', env: 'APQ_TTL_SECONDS', flag: '--apq-ttl-seconds', description: 'Lifetime of an automatic persisted query (the client sends the text again after it)', default: () => 86_400, parse: integer(1, 100 * 365 * 86400) },
  { key: 'l1MaxBytes', env: 'L1_MAX_BYTES', flag: '--l1-max-bytes', description: 'Bytes of answers kept in memory in front of the cache store (0: no in-memory level)', default: () => 64 * 1024 * 1024, parse: integer(0, 2 ** 40) },
  { key: 'processes', env: 'PROCESSES', flag: '--processes', description: 'Server processes sharing the port (node:cluster) and the cache', default: () => 1, parse: integer(1, 256) },
  { key: 'workers', env: 'WORKERS', flag: '--workers', description: 'Inference worker threads per process; 0 means cores / PROCESSES + 1 (one model saturating its share of the cores still leaves a worker for the others)', default: () => 0, parse: integer(0, 256) },
  { key: 'ortThreads', env: 'ORT_THREADS', flag: '--ort-threads', description: 'ONNX Runtime intra-op threads per worker', default: () => 1, parse: integer(1, 256) },
  { key: 'ortSpinning', env: 'ORT_SPINNING', flag: '--ort-spinning', description: "Let ONNX Runtime's idle intra-op threads spin-wait for work", default: () => false, parse: boolean },
  { key: 'workerNice', env: 'WORKER_NICE', flag: '--worker-nice', description: 'Nice increment of the inference workers (Linux, macOS): positive values let the HTTP event loop win the CPU over inference', default: () => 5, parse: integer(0, 19) },
  { key: 'modelMaxWorkers', env: 'MODEL_MAX_WORKERS', flag: '--model-max-workers', description: 'Workers one model may occupy at once, for models whose manifest sets none; 0 means WORKERS - 1 (at least 1)', default: () => 0, parse: integer(0, 256) },
  { key: 'workerHeapMb', env: 'WORKER_HEAP_MB', flag: '--worker-heap-mb', description: 'JS heap limit of each inference worker; a worker past it is stopped and replaced, failing only its batch', default: () => 2048, parse: integer(32, 65536) },
  { key: 'maxBatchSize', env: 'MAX_BATCH_SIZE', flag: '--max-batch-size', description: 'Largest model batch, for models whose manifest sets none', default: () => 64, parse: integer(1, 65536) },
  { key: 'maxDelayMs', env: 'MAX_DELAY_MS', flag: '--max-delay-ms', description: 'Extra wait for a batch to fill while another batch of the model runs, for models whose manifest sets none (0: none; batches grow by themselves while workers are busy)', default: () => 0, parse: number(0, 10_000) },
  { key: 'maxQueue', env: 'MAX_QUEUE', flag: '--max-queue', description: 'Inputs that may wait in one model queue before new ones are refused with OVERLOADED, for models whose manifest sets none', default: () => 1024, parse: integer(1, 10_000_000) },
  { key: 'deadlineMs', env: 'DEADLINE_MS', flag: '--deadline-ms', description: 'Deadline of a prediction, queue time included, when the request sets none', default: () => 30_000, parse: integer(1, 600_000) },
  { key: 'maxInputsPerRequest', env: 'MAX_INPUTS_PER_REQUEST', flag: '--max-inputs-per-request', description: 'Most inputs one predictMany may send, for models whose manifest sets none', default: () => 10_000, parse: integer(1, 10_000_000) },
  { key: 'maxRequestCost', env: 'MAX_REQUEST_COST', flag: '--max-request-cost', description: "Most work one request may queue, in cost units (about a millisecond of one worker's time each): every input costs its model's costPerInput times its size in units (text 1000 characters, image 100 kB or a megapixel, audio 32 kB, tensor 10000 numbers), plus a unit per 100 values the answers write and per 2000 values of the variables", default: () => 60_000, parse: integer(1, 1_000_000_000) },
  { key: 'maxBodyBytes', env: 'MAX_BODY_BYTES', flag: '--max-body-bytes', description: 'Largest HTTP request body; larger ones get 413 PAYLOAD_TOO_LARGE before they are parsed', default: () => 16_000_000, parse: integer(1024, 1_000_000_000) },
  { key: 'maxQueryBytes', env: 'MAX_QUERY_BYTES', flag: '--max-query-bytes', description: 'Longest query text, in UTF-8 bytes, refused with QUERY_LIMIT_EXCEEDED before it is parsed (inputs belong in variables, which this does not count)', default: () => 262_144, parse: integer(1024, 100_000_000) },
  { key: 'documentCacheMaxBytes', env: 'DOCUMENT_CACHE_MAX_BYTES', flag: '--document-cache-max-bytes', description: 'Memory for parsed and validated documents, each counted with its query text (least recently used evicted past it)', default: () => 32 * 1024 * 1024, parse: integer(1024 * 1024, 2 ** 40) },
  { key: 'maxVariablesDepth', env: 'MAX_VARIABLES_DEPTH', flag: '--max-variables-depth', description: 'Deepest nesting of arrays and objects in the variables, refused with VARIABLES_LIMIT_EXCEEDED before anything walks them', default: () => 20, parse: integer(1, 10_000) },
  { key: 'maxVariablesBytes', env: 'MAX_VARIABLES_BYTES', flag: '--max-variables-bytes', description: "Most bytes of variables (every value counts 8, plus a string's characters and an object's keys), refused with VARIABLES_LIMIT_EXCEEDED before anything walks past it", default: () => 16_000_000, parse: integer(1024, 1_000_000_000) },
  { key: 'maxBodyJsonValues', env: 'MAX_BODY_JSON_VALUES', flag: '--max-body-json-values', description: "Most JSON values in a request body (every array, object, string, number, boolean and null counts one), counted by a scan of its bytes and refused with VARIABLES_LIMIT_EXCEEDED before it is parsed; the scan also refuses a body nesting deeper than MAX_VARIABLES_DEPTH allows. The default passes a 1000000-number tensor or a 100000-row iris job", default: () => 2_000_000, parse: integer(1000, 1_000_000_000) },
  { key: 'maxBodyBytesInFlight', env: 'MAX_BODY_BYTES_IN_FLIGHT', flag: '--max-body-bytes-in-flight', description: 'Request-body bytes all connections together may have in flight (declared or read, held until each request ends); a request whose body would pass it gets 503 OVERLOADED unread. At least MAX_BODY_BYTES', default: () => 64 * 1024 ** 2, parse: integer(1024, 2 ** 40) },
  { key: 'maxConnections', env: 'MAX_CONNECTIONS', flag: '--max-connections', description: 'Open HTTP connections per process; past it new connections are closed at once and open ones keep working. Keep it under the open-files limit (ulimit -n)', default: () => 10_000, parse: integer(1, 10_000_000) },
  { key: 'headersTimeoutMs', env: 'HEADERS_TIMEOUT_MS', flag: '--headers-timeout-ms', description: "Time a connection has to send a request's complete headers, from its opening (or a later request's first byte); a silent or slowloris connection is then answered 408 and closed", default: () => 10_000, parse: integer(100, 3_600_000) },
  { key: 'requestTimeoutMs', env: 'REQUEST_TIMEOUT_MS', flag: '--request-timeout-ms', description: 'Time a request, headers and body, has to arrive completely; a body sent too slowly is then cut off (408) and its connection closed. At least HEADERS_TIMEOUT_MS', default: () => 30_000, parse: integer(100, 3_600_000) },
  { key: 'sendTimeoutMs', env: 'SEND_TIMEOUT_MS', flag: '--send-timeout-ms', description: "Longest time an answer's writing may stall because the client does not read it; the connection is then closed and the answer's memory freed", default: () => 30_000, parse: integer(100, 3_600_000) },
  { key: 'keepAliveTimeoutMs', env: 'KEEP_ALIVE_TIMEOUT_MS', flag: '--keep-alive-timeout-ms', description: 'How long an idle keep-alive connection stays open waiting for its next request (longer than the 60 s idle timeout of common load balancers, so they close first)', default: () => 72_000, parse: integer(100, 3_600_000) },
  { key: 'maxQueryDepth', env: 'MAX_QUERY_DEPTH', flag: '--max-query-depth', description: 'Deepest field nesting in a GraphQL document (introspection excepted)', default: () => 12, parse: integer(1, 1000) },
  { key: 'maxAliases', env: 'MAX_ALIASES', flag: '--max-aliases', description: 'Most aliases in a GraphQL document', default: () => 32, parse: integer(0, 100_000) },
  { key: 'maxTokens', env: 'MAX_TOKENS', flag: '--max-tokens', description: 'Most lexical tokens in a GraphQL document (large batches belong in variables, which this does not count)', default: () => 50_000, parse: integer(100, 10_000_000) },
  { key: 'maxDirectives', env: 'MAX_DIRECTIVES', flag: '--max-directives', description: 'Most directives in a GraphQL document', default: () => 20, parse: integer(0, 100_000) },
  { key: 'maxEventLoopDelayMs', env: 'MAX_EVENT_LOOP_DELAY_MS', flag: '--max-event-loop-delay-ms', description: 'While the event loop runs this many milliseconds late, new GraphQL requests get 503 OVERLOADED unread, so the server catches up instead of letting requests pile up in socket buffers (0: never; off by default until measured on a machine where the load generator does not share the cores)', default: () => 0, parse: integer(0, 600_000) },
  { key: 'jobsMaxInputs', env: 'JOBS_MAX_INPUTS', flag: '--jobs-max-inputs', description: 'Most inputs in one prediction job (submitPredictionJob; send them as a variable)', default: () => 100_000, parse: integer(1, 100_000_000) },
  { key: 'jobsMaxActive', env: 'JOBS_MAX_ACTIVE', flag: '--jobs-max-active', description: 'Most prediction jobs queued or running in the job store (the machine\'s with lmdb://, every instance\'s with Redis); more are refused with OVERLOADED', default: () => 16, parse: integer(1, 1_000_000) },
  { key: 'jobsMaxWorkers', env: 'JOBS_MAX_WORKERS', flag: '--jobs-max-workers', description: 'Workers prediction jobs may occupy at once; their batches run only while no interactive batch waits. 0 means WORKERS - 1 (at least 1)', default: () => 0, parse: integer(0, 256) },
  { key: 'jobsTtlSeconds', env: 'JOBS_TTL_SECONDS', flag: '--jobs-ttl-seconds', description: 'How long a finished prediction job is kept, with its inputs and results; then its id answers JOB_NOT_FOUND', default: () => 86_400, parse: integer(1, 100 * 365 * 86400) },
  { key: 'maxStreams', env: 'MAX_STREAMS', flag: '--max-streams', description: 'predictStream subscriptions open at once per process (graphql-ws and graphql-sse together); past it new ones get TOO_MANY_STREAMS', default: () => 256, parse: integer(1, 1_000_000) },
  { key: 'streamBufferEvents', env: 'STREAM_BUFFER_EVENTS', flag: '--stream-buffer-events', description: "Inputs one stream holds at once, queued, computing or answered and not yet sent: more are submitted as the client takes answers, so a slow reader holds at most this many answers in memory", default: () => 256, parse: integer(1, 1_000_000) },
  { key: 'streamStallMs', env: 'STREAM_STALL_MS', flag: '--stream-stall-ms', description: 'A stream whose client takes no answer for this long while answers wait for it is ended with STREAM_TOO_SLOW and its connection closed', default: () => 30_000, parse: integer(1, 3_600_000) },
  { key: 'playground', env: 'PLAYGROUND', flag: '--playground', description: 'Serve the GraphiQL playground on GET /graphql, allow introspection and suggest field names in errors', default: () => true, parse: boolean },
  { key: 'logLevel', env: 'LOG_LEVEL', flag: '--log-level', description: `Log level: ${LOG_LEVELS.join(', ')}`, default: () => 'info', parse: logLevel },
  { key: 'shutdownGraceMs', env: 'SHUTDOWN_GRACE_MS', flag: '--shutdown-grace-ms', description: 'How long SIGTERM waits for in-flight requests before exiting', default: () => 10_000, parse: integer(0, 600_000) },
  { key: 'watchModels', env: 'WATCH_MODELS', flag: '--watch-models', description: 'Reload the model repository when files under MODELS_DIR change', default: () => true, parse: boolean },
  { key: 'adminToken', env: 'ADMIN_TOKEN', flag: '--admin-token', description: 'Bearer token for admin mutations (reloadModels); admin operations are refused when unset', default: (): string | undefined => undefined, parse: nonEmpty },
  { key: 'corsOrigins', env: 'CORS_ORIGINS', flag: '--cors-origins', description: 'Origins whose pages may call the server from a browser (CORS), comma-separated (https://app.example.com,http://localhost:5173), or * for any; unset: no CORS headers, so browsers let only same-origin pages read answers', default: (): readonly string[] | '*' => [], parse: corsOrigins },
  { key: 'corsCredentials', env: 'CORS_CREDENTIALS', flag: '--cors-credentials', description: "Let those pages send cookies and HTTP authentication with their requests (Access-Control-Allow-Credentials); needs a list of origins, not *", default: () => false, parse: boolean },
  { key: 'metricsToken', env: 'METRICS_TOKEN', flag: '--metrics-token', description: 'Bearer token GET /metrics then requires (`Authorization: Bearer <token>`; 401 without it); unset: /metrics is open', default: (): string | undefined => undefined, parse: nonEmpty },
  { key: 'metricsPort', env: 'METRICS_PORT', flag: '--metrics-port', description: 'Serve /metrics on this port, on its own listener (it answers while the main port is saturated), and no longer on the main port; unset: on the main port (0 picks a free one)', default: (): number | undefined => undefined, parse: integer(0, 65535) },
  { key: 'executionProviders', env: 'EXECUTION_PROVIDERS', flag: '--execution-providers', description: `ONNX Runtime execution providers in order of preference, comma-separated (${EXECUTION_PROVIDERS.join(', ')}); a session falls back to the next when one cannot be used here, CPU last (see "GPUs")`, default: () => ['cpu'], parse: executionProviders },
  { key: 'otelEndpoint', env: 'OTEL_EXPORTER_OTLP_ENDPOINT', flag: '--otel-exporter-otlp-endpoint', description: 'OpenTelemetry collector base URL: request traces are sent over OTLP/HTTP to <it>/v1/traces; unset (with the next one): no tracing at all', default: (): string | undefined => undefined, parse: httpUrl },
  { key: 'otelTracesEndpoint', env: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', flag: '--otel-exporter-otlp-traces-endpoint', description: 'Full OTLP/HTTP URL for traces, used as it is (wins over OTEL_EXPORTER_OTLP_ENDPOINT)', default: (): string | undefined => undefined, parse: httpUrl },
  { key: 'otelServiceName', env: 'OTEL_SERVICE_NAME', flag: '--otel-service-name', description: "The traces' service.name", default: () => 'predictql', parse: nonEmpty },
  { key: 'otelScheduleDelayMs', env: 'OTEL_BSP_SCHEDULE_DELAY', flag: '--otel-bsp-schedule-delay', description: 'Longest wait, in milliseconds, before finished spans are sent to the collector', default: () => 5000, parse: integer(1, 600_000) },
  { key: 'otelSampleRatio', env: 'OTEL_TRACES_SAMPLER_ARG', flag: '--otel-traces-sampler-arg', description: "Share of requests traced, 0 to 1 (OpenTelemetry's parentbased_traceidratio sampler): a request whose traceparent carries the caller's decision follows it; others are traced at this ratio, decided by trace id. An untraced request makes no spans", default: () => 1, parse: number(0, 1) },
  { key: 'debugErrors', env: 'DEBUG_ERRORS', flag: '--debug-errors', description: 'Include stack traces in GraphQL error responses (never in production)', default: () => false, parse: boolean },
] as const satisfies readonly Setting<keyof Config>[];

export function helpText(): string {
  const shown = (value: unknown) => (value === undefined || (Array.isArray(value) && value.length === 0) ? 'none' : String(value));
  const rows = SETTINGS.map((s) => `  ${`${s.flag} <value>`.padEnd(28)} ${s.env.padEnd(18)} ${s.description} (default: ${shown(s.default())})`);
  return ['Usage: npm start -- [options]', '', '  flag                         env variable       meaning', ...rows, '  --help                       print this text'].join('\n');
}

/**
 * Reads the settings from CLI arguments (`--port 4001` or `--port=4001`) over environment
 * variables over defaults. Throws ConfigError naming the setting on the first bad value.
 */
export function loadConfig(argv: readonly string[] = [], env: NodeJS.ProcessEnv = process.env): Config {
  const fromFlags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    if (!SETTINGS.some((s) => s.flag === flag)) {
      throw new ConfigError(`unknown option "${arg}"; run with --help for the list`);
    }
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined) throw new ConfigError(`${flag} needs a value`);
    fromFlags.set(flag, value);
  }

  const config: Record<string, unknown> = {};
  for (const setting of SETTINGS) {
    const raw = fromFlags.get(setting.flag) ?? env[setting.env];
    if (raw === undefined) {
      config[setting.key] = setting.default();
      continue;
    }
    try {
      config[setting.key] = setting.parse(raw);
    } catch (error) {
      const source = fromFlags.has(setting.flag) ? setting.flag : setting.env;
      throw new ConfigError(`invalid ${source}: ${(error as Error).message}`);
    }
  }
  const result = config as unknown as Config;
  if (result.corsCredentials && result.corsOrigins === '*') {
    throw new ConfigError('CORS_CREDENTIALS=true needs CORS_ORIGINS to list origins: browsers refuse credentials with an origin of *, and allowing every origin to send them would let any site act as the user');
  }
  if (result.maxBodyBytesInFlight < result.maxBodyBytes) {
    throw new ConfigError(`MAX_BODY_BYTES_IN_FLIGHT (${result.maxBodyBytesInFlight}) is below MAX_BODY_BYTES (${result.maxBodyBytes}): a body of the largest allowed size could never be read; raise MAX_BODY_BYTES_IN_FLIGHT or lower MAX_BODY_BYTES`);
  }
  if (result.requestTimeoutMs < result.headersTimeoutMs) {
    throw new ConfigError(`REQUEST_TIMEOUT_MS (${result.requestTimeoutMs}) is below HEADERS_TIMEOUT_MS (${result.headersTimeoutMs}): the whole request cannot take less time than its headers`);
  }
  if (result.workers === 0) result.workers = Math.max(1, Math.floor(availableParallelism() / result.processes)) + 1;
  if (result.modelMaxWorkers === 0) result.modelMaxWorkers = Math.max(1, result.workers - 1);
  if (result.jobsMaxWorkers === 0) result.jobsMaxWorkers = Math.max(1, result.workers - 1);
  return result;
}
