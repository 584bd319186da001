/**
 * Errors thrown by the processing modules when the caller's data, not the server, is at fault.
 *
 * Every one of them extends `InputError`, so the input checks (src/predict/input.ts) and the
 * pipeline skeleton (src/pipelines/pipeline.ts) map all of them to their public code
 * (BAD_USER_INPUT, or MULTIPLE_TEXT_LINES) with one `instanceof` check; the subclasses say which
 * check complained. Their messages are written for the API's user: what was wrong, what came,
 * and what is allowed. They never include the input's bytes.
 *
 * Crossing a worker thread: structured clone keeps `message` but turns an Error subclass into a
 * plain `Error` (the class, `name` and own properties such as `code` are lost). So a worker
 * returns an input's InputError as data (an ItemFailure with its code and message), which the
 * pipeline skeleton does, for the main thread to turn into a coded error.
 */

export class InputError extends Error {
  constructor(
    message: string,
    /** The public error code the server should answer with (src/domain/errors.ts). */
    readonly code: 'BAD_USER_INPUT' | 'MULTIPLE_TEXT_LINES' = 'BAD_USER_INPUT',
  ) {
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

/** An image of several lines of text given to a model that reads one line (MULTIPLE_TEXT_LINES). */
export class MultipleLinesError extends InputError {
  constructor(message: string) {
    super(message, 'MULTIPLE_TEXT_LINES');
  }
}
