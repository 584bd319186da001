/**
 * The errors clients can rely on, in one place:
 *
 * - ERROR_CODES lists every public error code, whichever layer raises it (this server's, Apollo's,
 *   the HTTP front's), with its HTTP status and whether the request rather than the server is at
 *   fault. The README's error table is checked against it (test/unit/errors.test.ts).
 * - CodedError is what the layers below GraphQL raise: a code from that table, a message that says
 *   what was wrong and what is allowed, and details such as `retryAfterSeconds`. The factories
 *   below build every one of them, so each code has one meaning and its messages one style.
 *   src/graphql/errors.ts turns them into GraphQL errors, once.
 *
 * This module imports nothing (scripts/check-layers.ts keeps it so): any layer may raise these.
 */

export interface ErrorCodeSpec {
  /**
   * The HTTP status of a response this error refuses as a whole: one raised before execution
   * (parsing, validation, limits) or by the HTTP front. null: the code is only raised while a
   * field resolves, where GraphQL answers HTTP 200 with the other fields' data.
   */
  readonly status: number | null;
  /**
   * Raised while a field resolves, the error still sets the response's status (and Retry-After,
   * or WWW-Authenticate), so load balancers and clients back off without reading the body.
   */
  readonly statusFromFields?: true;
  /** The request is at fault, not the server. */
  readonly clientFault: boolean;
}

export const ERROR_CODES = {
  // Raised by the layers below GraphQL (CodedError).
  /** The input cannot be used by the model: wrong kind, shape, size or values. Apollo also raises it for a bad variable. */
  BAD_USER_INPUT: { status: 400, clientFault: true },
  /** A model that reads one line of text (`ocr`) was given an image holding several; `ocr-page` reads whole pages. */
  MULTIPLE_TEXT_LINES: { status: null, clientFault: true },
  /** No model (or no version of it) has the requested name. */
  MODEL_NOT_FOUND: { status: null, clientFault: true },
  /** The model could not be loaded (its file is broken, say); fixed by replacing its folder. */
  MODEL_LOAD_FAILED: { status: null, clientFault: false },
  /** The model's queue is full, or the work queued ahead would outlast the deadline, or the event loop is late, or JOBS_MAX_ACTIVE jobs are queued or running. */
  OVERLOADED: { status: 503, statusFromFields: true, clientFault: false },
  /** The request's deadline passed before its prediction could be computed. */
  DEADLINE_EXCEEDED: { status: null, clientFault: false },
  /** The client went away; its queued work was dropped (seen only in logs and metrics). */
  CANCELLED: { status: null, clientFault: true },
  /** The worker running the batch died; the pool replaced it, and a retry will run. */
  WORKER_CRASHED: { status: null, clientFault: false },
  /** ONNX Runtime failed on a valid input. */
  INFERENCE_FAILED: { status: null, clientFault: false },
  /** An admin operation without the right `Authorization: Bearer <ADMIN_TOKEN>` header: HTTP 401 with `WWW-Authenticate: Bearer`. */
  UNAUTHENTICATED: { status: 401, statusFromFields: true, clientFault: true },
  /** No prediction job has this id: it never existed, or it finished more than JOBS_TTL_SECONDS ago and was removed. */
  JOB_NOT_FOUND: { status: null, clientFault: true },
  /** reloadModels found a manifest it cannot use; the models served before keep serving. */
  INVALID_MODEL_REPOSITORY: { status: null, clientFault: false },
  /** MAX_STREAMS streams are open in this server process; retry later or on another instance. */
  TOO_MANY_STREAMS: { status: null, clientFault: false },
  /** A stream's client took no answer for STREAM_STALL_MS while STREAM_BUFFER_EVENTS answers waited for it: the stream was ended. */
  STREAM_TOO_SLOW: { status: null, clientFault: true },
  /** The server is shutting down: open streams end with it (after the answers ready for them) and new ones are refused. */
  SHUTTING_DOWN: { status: null, clientFault: false },

  // Raised by the GraphQL layer before execution.
  /** The query text is longer than MAX_QUERY_BYTES, or the document nests too deep, or has too many aliases, directives or tokens. */
  QUERY_LIMIT_EXCEEDED: { status: 400, clientFault: true },
  /** The variables nest deeper than MAX_VARIABLES_DEPTH or hold more than MAX_VARIABLES_BYTES, or the body more than MAX_BODY_JSON_VALUES JSON values. */
  VARIABLES_LIMIT_EXCEEDED: { status: 400, clientFault: true },
  /** The request's predictions would cost more than MAX_REQUEST_COST. */
  COST_LIMIT_EXCEEDED: { status: 400, clientFault: true },

  // Raised by Apollo Server (not PERSISTED_QUERY_NOT_SUPPORTED: automatic persisted queries are always on).
  GRAPHQL_PARSE_FAILED: { status: 400, clientFault: true },
  GRAPHQL_VALIDATION_FAILED: { status: 400, clientFault: true },
  /** An automatic persisted query's hash the server does not know yet (Apollo answers 200: the client sends the query). */
  PERSISTED_QUERY_NOT_FOUND: { status: 200, clientFault: true },
  /** The request names an operation its document does not hold. */
  OPERATION_RESOLUTION_FAILURE: { status: 400, clientFault: true },

  // Raised by the HTTP front (and by Apollo for malformed requests).
  BAD_REQUEST: { status: 400, clientFault: true },
  PAYLOAD_TOO_LARGE: { status: 413, clientFault: true },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, clientFault: true },

  /** A bug or an unexpected failure: the client gets a generic message, the log the details. */
  INTERNAL_SERVER_ERROR: { status: 500, clientFault: false },
} as const satisfies Record<string, ErrorCodeSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}

/**
 * Whose fault an error is, decided here only: a public code says; an error without one (or with
 * INTERNAL_SERVER_ERROR) is the server's, unless it carries a 4xx HTTP status (Apollo raises a
 * few request errors that way, with no code).
 */
export function isClientFault(code: unknown, httpStatus?: number): boolean {
  if (isErrorCode(code) && code !== 'INTERNAL_SERVER_ERROR') return ERROR_CODES[code].clientFault;
  return httpStatus !== undefined && httpStatus >= 400 && httpStatus < 500;
}

/**
 * An error nobody gave a public code to and the client did not cause: a bug or an internal
 * failure. Its message may hold paths or internals, so clients get a generic one and the log
 * the details.
 */
export function isUnexpected(code: unknown, httpStatus?: number): boolean {
  return (code === undefined || code === 'INTERNAL_SERVER_ERROR') && !isClientFault(code, httpStatus);
}

export interface ErrorDetails {
  /** OVERLOADED: seconds to wait before retrying (sent as Retry-After). */
  readonly retryAfterSeconds?: number;
}

/** An error with a public code, raised by the layers below GraphQL. */
export class CodedError extends Error {
  override name = 'CodedError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetails = {},
  ) {
    super(message);
  }
}

/** The public code of an error, for metrics and logs: its own, or INTERNAL_SERVER_ERROR. */
export function codeOf(error: unknown): ErrorCode {
  return error instanceof CodedError ? error.code : 'INTERNAL_SERVER_ERROR';
}

export function badUserInput(message: string): CodedError {
  return new CodedError('BAD_USER_INPUT', message);
}

export function modelNotFound(what: string, choices: string): CodedError {
  return new CodedError('MODEL_NOT_FOUND', `${what}; ${choices}`);
}

export function modelLoadFailed(model: string, detail: string): CodedError {
  return new CodedError('MODEL_LOAD_FAILED', `model "${model}" could not be loaded: ${detail}`);
}

export function overloaded(model: string, maxQueue: number, retryAfterSeconds: number): CodedError {
  return new CodedError('OVERLOADED', `model "${model}" has ${maxQueue} inputs queued, its limit; retry in ${retryAfterSeconds} s`, { retryAfterSeconds });
}

/**
 * A request whose inputs, all together, would pass the queue bound: refused whole, since half a
 * predictMany is no answer. One larger than the bound itself is taken only while the model is idle.
 */
export function overloadedForBatch(model: string, queued: number, running: number, inputs: number, maxQueue: number, retryAfterSeconds: number): CodedError {
  const alone = inputs > maxQueue ? ' A request of more inputs than that is taken only while the model is idle (nothing queued or running).' : '';
  return new CodedError(
    'OVERLOADED',
    `model "${model}" has ${queued} inputs queued and ${running} running; this request's ${inputs} more would pass its limit of ${maxQueue} (MAX_QUEUE), so none was queued.${alone} Retry in ${retryAfterSeconds} s`,
    { retryAfterSeconds },
  );
}

export function overloadedForDeadline(model: string, queued: number, waitMs: number, leftMs: number, inputs = 1): CodedError {
  const retryAfterSeconds = Math.max(1, Math.ceil(waitMs / 1000));
  const own = inputs > 1 ? ` and this request's ${inputs}` : '';
  return new CodedError(
    'OVERLOADED',
    `model "${model}" has ${queued} inputs queued${own}, about ${Math.round(waitMs)} ms of work, more than the ${Math.max(0, Math.round(leftMs))} ms left of this request's deadline; retry in ${retryAfterSeconds} s or with a longer options.deadlineMs`,
    { retryAfterSeconds },
  );
}

export function deadlineExceeded(deadlineMs: number): CodedError {
  return new CodedError('DEADLINE_EXCEEDED', `the prediction did not finish within its deadline of ${deadlineMs} ms (queue time included); raise options.deadlineMs or retry later`);
}

export function cancelled(): CodedError {
  return new CodedError('CANCELLED', 'the client closed the request before its prediction ran');
}

export function workerCrashed(model: string, detail: string): CodedError {
  return new CodedError('WORKER_CRASHED', `model "${model}": ${detail}; the worker was replaced, retry the request`);
}

export function inferenceFailed(model: string, detail: string): CodedError {
  return new CodedError('INFERENCE_FAILED', `model "${model}" failed to run: ${detail}`);
}

export function unauthenticated(operation: string): CodedError {
  return new CodedError('UNAUTHENTICATED', `${operation} needs the header "Authorization: Bearer <ADMIN_TOKEN>" with the server's admin token (set ADMIN_TOKEN to enable admin operations)`);
}

export function invalidModelRepository(detail: string): CodedError {
  return new CodedError('INVALID_MODEL_REPOSITORY', `the model repository was not reloaded, the models served before keep serving: ${detail}`);
}

export function jobNotFound(id: string): CodedError {
  return new CodedError('JOB_NOT_FOUND', `no prediction job has the id "${id}" (finished jobs are removed after JOBS_TTL_SECONDS)`);
}

export function tooManyJobs(active: number, max: number): CodedError {
  return new CodedError('OVERLOADED', `${active} prediction jobs are queued or running, the limit (JOBS_MAX_ACTIVE is ${max}); retry once one has finished`, { retryAfterSeconds: 10 });
}

/** One input's failure reported by a worker (as plain data: error classes do not cross threads). */
export function itemFailed(code: string, message: string): CodedError {
  return new CodedError(isErrorCode(code) ? code : 'INTERNAL_SERVER_ERROR', message);
}

export function tooManyStreams(limit: number): CodedError {
  return new CodedError('TOO_MANY_STREAMS', `this server process has ${limit} streams open, its limit (MAX_STREAMS); retry in a moment, or use predictMany`, { retryAfterSeconds: 1 });
}

export function streamTooSlow(bufferEvents: number, stallMs: number): CodedError {
  return new CodedError(
    'STREAM_TOO_SLOW',
    `the stream was ended: ${bufferEvents} answers (STREAM_BUFFER_EVENTS) waited for the client and it took none for ${stallMs} ms (STREAM_STALL_MS); read the stream as it comes, or ask for fewer inputs at a time`,
  );
}

export function shuttingDown(): CodedError {
  return new CodedError('SHUTTING_DOWN', 'the server is shutting down; the answers ready were sent, the other inputs were dropped: retry them on another instance');
}
