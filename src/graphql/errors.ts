/**
 * The error codes clients can rely on, in `extensions.code`. Every error a resolver raises is
 * built here, so each code has one meaning and its messages one style: what was wrong, and what
 * is allowed instead. The README lists them.
 */
import { GraphQLError } from 'graphql';

export const ErrorCode = {
  /** The input cannot be used by the model: wrong kind, shape, size or values. */
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  /** No model (or no version of it) has the requested name. */
  MODEL_NOT_FOUND: 'MODEL_NOT_FOUND',
  /** The model could not be loaded (its file is broken, say); fixed by replacing its folder. */
  MODEL_LOAD_FAILED: 'MODEL_LOAD_FAILED',
  /** The model's queue is full: retry after the Retry-After header's seconds (HTTP 503). */
  OVERLOADED: 'OVERLOADED',
  /** The request's deadline passed before its prediction could be computed. */
  DEADLINE_EXCEEDED: 'DEADLINE_EXCEEDED',
  /** The client went away; its queued work was dropped (seen only in logs and metrics). */
  CANCELLED: 'CANCELLED',
  /** The worker running the batch died; the pool replaced it, and a retry will run. */
  WORKER_CRASHED: 'WORKER_CRASHED',
  /** ONNX Runtime failed on a valid input. */
  INFERENCE_FAILED: 'INFERENCE_FAILED',
  /** An admin operation without the right `Authorization: Bearer <ADMIN_TOKEN>` header. */
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  /** reloadModels found a manifest it cannot use; the models served before keep serving. */
  INVALID_MODEL_REPOSITORY: 'INVALID_MODEL_REPOSITORY',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

function error(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...extensions } });
}

export function codeOf(e: unknown): string {
  const code = (e as { extensions?: { code?: unknown } } | undefined)?.extensions?.code;
  return typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR';
}

export function badUserInput(message: string): GraphQLError {
  return error(ErrorCode.BAD_USER_INPUT, message);
}

export function modelNotFound(what: string, choices: string): GraphQLError {
  return error(ErrorCode.MODEL_NOT_FOUND, `${what}; ${choices}`);
}

export function modelLoadFailed(model: string, detail: string): GraphQLError {
  return error(ErrorCode.MODEL_LOAD_FAILED, `model "${model}" could not be loaded: ${detail}`);
}

export function overloaded(model: string, maxQueue: number, retryAfterSeconds: number): GraphQLError {
  return error(ErrorCode.OVERLOADED, `model "${model}" has ${maxQueue} inputs queued, its limit; retry in ${retryAfterSeconds} s`, { retryAfterSeconds });
}

export function overloadedForDeadline(model: string, queued: number, waitMs: number, leftMs: number): GraphQLError {
  const retryAfterSeconds = Math.max(1, Math.ceil(waitMs / 1000));
  return error(
    ErrorCode.OVERLOADED,
    `model "${model}" has ${queued} inputs queued, about ${Math.round(waitMs)} ms of work, more than the ${Math.max(0, Math.round(leftMs))} ms left of this request's deadline; retry in ${retryAfterSeconds} s or with a longer options.deadlineMs`,
    { retryAfterSeconds },
  );
}

export function deadlineExceeded(deadlineMs: number): GraphQLError {
  return error(ErrorCode.DEADLINE_EXCEEDED, `the prediction did not finish within its deadline of ${deadlineMs} ms (queue time included); raise options.deadlineMs or retry later`);
}

export function cancelled(): GraphQLError {
  return error(ErrorCode.CANCELLED, 'the client closed the request before its prediction ran');
}

export function workerCrashed(model: string, detail: string): GraphQLError {
  return error(ErrorCode.WORKER_CRASHED, `model "${model}": ${detail}; the worker was replaced, retry the request`);
}

export function inferenceFailed(model: string, detail: string): GraphQLError {
  return error(ErrorCode.INFERENCE_FAILED, `model "${model}" failed to run: ${detail}`);
}

export function unauthenticated(operation: string): GraphQLError {
  return error(ErrorCode.UNAUTHENTICATED, `${operation} needs the header "Authorization: Bearer <ADMIN_TOKEN>" with the server's admin token (set ADMIN_TOKEN to enable admin operations)`);
}

export function invalidModelRepository(detail: string): GraphQLError {
  return error(ErrorCode.INVALID_MODEL_REPOSITORY, `the model repository was not reloaded, the models served before keep serving: ${detail}`);
}

export function itemFailed(code: string, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code } });
}
