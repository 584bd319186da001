/**
 * The error codes clients can rely on, in `extensions.code`. Every error a resolver raises is
 * built here, so each code has one meaning and its messages one style: what was wrong, and what
 * is allowed instead.
 */
import { GraphQLError } from 'graphql';

export const ErrorCode = {
  /** The input cannot be used by the model: wrong kind, shape or values. */
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  /** No model has the requested name. */
  MODEL_NOT_FOUND: 'MODEL_NOT_FOUND',
  /** The model could not be run on a valid input (a worker or ONNX Runtime error). */
  INFERENCE_FAILED: 'INFERENCE_FAILED',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export function badUserInput(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.BAD_USER_INPUT } });
}

export function modelNotFound(name: string, known: readonly string[]): GraphQLError {
  const choices = known.length > 0 ? `the models served are: ${known.join(', ')}` : 'no models are served';
  return new GraphQLError(`there is no model named "${name}"; ${choices}`, {
    extensions: { code: ErrorCode.MODEL_NOT_FOUND },
  });
}
