/**
 * Errors thrown by the processing modules when the caller's data, not the server, is at fault.
 *
 * Every one of them extends `InputError`, so the input checks (src/predict/input.ts) and the
 * pipeline skeleton (src/pipelines/pipeline.ts) map all of them to BAD_USER_INPUT with one
 * `instanceof` check; the subclasses only say which decoder complained. Their messages are
 * written for the API's user: what was wrong, what came, and what is allowed. They never include
 * the input's bytes.
 *
 * Crossing a worker thread: structured clone keeps `message` but turns an Error subclass into a
 * plain `Error` (the class, `name` and own properties such as `code` are lost). So a worker
 * returns an input's InputError as data (an ItemFailure with its code and message), which the
 * pipeline skeleton does, for the main thread to turn into BAD_USER_INPUT.
 */

export class InputError extends Error {
  /** The GraphQL error code the server should answer with. */
  readonly code = 'BAD_USER_INPUT';

  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** An image that is not an acceptable PNG/JPEG, is corrupt, or is too large. */
export class ImageInputError extends InputError {}

/** A WAV file that cannot be read, is not in an accepted sample format, or is too long. */
export class AudioInputError extends InputError {}

/** Text that should carry bytes (base64) but is malformed or too large. */
export class InputFormatError extends InputError {}
