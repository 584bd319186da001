/**
 * POST /graphql's JSON body parser: a byte scan of the raw body bounds the work JSON.parse and
 * everything after it may be asked to do, before JSON.parse runs.
 *
 * The variables walk (src/graphql/variables-size.ts) stops at MAX_VARIABLES_DEPTH and
 * MAX_VARIABLES_BYTES, but only once JSON.parse has built the whole object: 12 MB of `[0,1]`
 * pairs (6 million values) took JSON.parse about 500 ms of the event loop before any limit could
 * look at it. The scan counts the body's values and its nesting in one pass over the bytes,
 * skipping string contents (escaped quotes included), and refuses a body of more than
 * MAX_BODY_JSON_VALUES values, or whose arrays and objects nest deeper than the variables may
 * (MAX_VARIABLES_DEPTH, plus the body object and the variables object around them), with
 * VARIABLES_LIMIT_EXCEEDED: the query text is one JSON string, so a body's structure is its
 * variables'. A body within both is parsed by Fastify's own JSON parser (secure-json-parse,
 * with the instance's prototype-poisoning settings), as before.
 *
 * Registered in the GraphQL route's scope after @fastify/compress, the parser reads the inflated
 * bytes; the time it takes falls in the request's httpBodyParse phase like the parse it precedes.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';

export interface JsonBodyLimits {
  /** MAX_BODY_JSON_VALUES: arrays, objects, strings, numbers, booleans and nulls, keys not counted. */
  maxValues: number;
  /** MAX_VARIABLES_DEPTH: the body may nest this much deeper than the variables object. */
  maxVariablesDepth: number;
}

/** What the body holds, when within the limits. */
export interface JsonShape {
  values: number;
  /** Deepest nesting of arrays and objects: 1 for `{"query":"..."}`, 3 for `{"variables":{"x":[1]}}`. */
  depth: number;
}

export type JsonShapeLimit = { over: 'values'; limit: number } | { over: 'depth'; limit: number };

/** Arrays and objects around the variables' own: the body object and the variables object. */
export const BODY_LEVELS_ABOVE_VARIABLES = 2;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
/** `]` and `}` follow `[` and `{` by 2 in ASCII. */
const CLOSE_AFTER_OPEN = 2;

/** What each byte is to the scan: most (digits, letters, whitespace, UTF-8) are nothing, skipped with one look-up. */
const OTHER = 0;
const STRING = 1;
const SEPARATOR = 2;
const OPEN = 3;
const CLOSE = 4;
const BYTE_CLASS = new Uint8Array(256);
BYTE_CLASS[QUOTE] = STRING;
BYTE_CLASS[COMMA] = SEPARATOR;
BYTE_CLASS[OPEN_ARRAY] = OPEN;
BYTE_CLASS[OPEN_OBJECT] = OPEN;
BYTE_CLASS[CLOSE_ARRAY] = CLOSE;
BYTE_CLASS[CLOSE_OBJECT] = CLOSE;

const indexOf = Uint8Array.prototype.indexOf;
/** Bytes of a string read one by one before searching for its end. */
const SHORT_STRING = 32;

/**
 * The index of the quote that ends the string whose contents start at `from`, or `bytes.length`
 * when it does not end. A quote preceded by an odd run of backslashes is escaped; the run cannot
 * reach back past the opening quote.
 */
function endOfString(bytes: Uint8Array, from: number): number {
  // Short strings (keys, labels) byte by byte: a native search costs more to call than they take.
  const length = bytes.length;
  const shortEnd = Math.min(length, from + SHORT_STRING);
  let at = from;
  while (at < shortEnd) {
    const c = bytes[at]!;
    if (c === QUOTE) return at;
    at += c === BACKSLASH ? 2 : 1;
  }
  if (at >= length) return length;
  for (;;) {
    const quote = indexOf.call(bytes, QUOTE, at);
    if (quote < 0) return bytes.length;
    let before = quote - 1;
    while (bytes[before] === BACKSLASH) before--;
    if ((quote - before) % 2 === 1) return quote;
    at = quote + 1;
  }
}

/** Whether the array or object closed at `close` is empty: only whitespace back to its opening. */
function closesEmpty(bytes: Uint8Array, close: number): boolean {
  let before = close - 1;
  while (before >= 0 && bytes[before]! <= 0x20) before--;
  // A string just before ends with a quote, so a bracket inside one is never taken for the opening.
  return before >= 0 && bytes[before] === bytes[close]! - CLOSE_AFTER_OPEN;
}

/**
 * Counts the values in the JSON text `bytes` and the nesting of its arrays and objects, stopping
 * at the first limit passed. Exact for valid JSON: every value but the first is an array element
 * or an object member's value, and a non-empty container of n of them holds n - 1 commas, so
 * values = 1 + commas + non-empty containers. Invalid JSON is counted as well as it goes and left
 * to JSON.parse to refuse. UTF-8 bytes past ASCII never equal a structural character, so the
 * bytes are scanned as they are, undecoded.
 */
export function scanJson(bytes: Uint8Array, maxValues: number, maxDepth: number): JsonShape | JsonShapeLimit {
  const length = bytes.length;
  // The top-level value, then one per comma and per container opened; less those closed empty.
  // Exact at a comma (every container still open holds something); at an opening, one too many
  // until it is known to hold something, so the check there leaves it out.
  let counted = 1;
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < length; i++) {
    const c = bytes[i]!;
    // Digits, '.', '-' and capitals first: the bulk of a body of numbers, with no table look-up.
    if (c > COMMA && c < OPEN_ARRAY) continue;
    const kind = BYTE_CLASS[c]!;
    if (kind === OTHER) continue;
    if (kind === STRING) i = endOfString(bytes, i + 1);
    else if (kind === SEPARATOR) {
      if (++counted > maxValues) return { over: 'values', limit: maxValues };
    } else if (kind === OPEN) {
      if (++depth > deepest) {
        if (depth > maxDepth) return { over: 'depth', limit: maxDepth };
        deepest = depth;
      }
      if (++counted - 1 > maxValues) return { over: 'values', limit: maxValues };
    } else {
      if (closesEmpty(bytes, i)) counted--;
      if (depth > 0) depth--;
    }
  }
  if (counted > maxValues) return { over: 'values', limit: maxValues };
  if (counted === 1 && bytes.every((byte) => byte <= 0x20)) return { values: 0, depth: 0 };
  return { values: counted, depth: deepest };
}

/** A body refused by the scan, answered by the front's error handler (src/http/error-handler.ts). */
export class JsonShapeError extends Error {
  readonly code = 'PREDICTQL_JSON_SHAPE';
  readonly statusCode = 400;
  constructor(
    message: string,
    readonly setting: 'MAX_BODY_JSON_VALUES' | 'MAX_VARIABLES_DEPTH',
    readonly limit: number,
  ) {
    super(message);
  }
}

export function jsonShapeError(found: JsonShapeLimit, limits: JsonBodyLimits): JsonShapeError {
  if (found.over === 'values') {
    return new JsonShapeError(
      `the request body holds more than ${limits.maxValues} JSON values (MAX_BODY_JSON_VALUES; every array, object, string, number, boolean and null counts one), refused before it was parsed. Send large batches as several requests or as a prediction job, and tensors as dataBase64.`,
      'MAX_BODY_JSON_VALUES',
      limits.maxValues,
    );
  }
  return new JsonShapeError(
    `the variables nest deeper than ${limits.maxVariablesDepth} levels (MAX_VARIABLES_DEPTH): the request body's arrays and objects nest more than ${found.limit} levels deep (the body and the variables object count 2), refused before it was parsed.`,
    'MAX_VARIABLES_DEPTH',
    limits.maxVariablesDepth,
  );
}

/** The scan with `limits` as the front applies them: the refusal, or undefined when the body is within both. */
export function jsonShapeProblem(bytes: Uint8Array, limits: JsonBodyLimits): JsonShapeError | undefined {
  const shape = scanJson(bytes, limits.maxValues, limits.maxVariablesDepth + BODY_LEVELS_ABOVE_VARIABLES);
  return 'over' in shape ? jsonShapeError(shape, limits) : undefined;
}

/**
 * Replaces `scope`'s application/json parser with the scan followed by Fastify's own parser.
 * `scope` must be the GraphQL route's encapsulated plugin, with @fastify/compress registered
 * before, so other routes keep Fastify's parser and compressed bodies are scanned inflated.
 */
export function parseJsonBodies(scope: FastifyInstance, limits: JsonBodyLimits): void {
  const { onProtoPoisoning, onConstructorPoisoning } = scope.initialConfig;
  const parse = scope.getDefaultJsonParser(onProtoPoisoning ?? 'error', onConstructorPoisoning ?? 'error');
  const maxDepth = limits.maxVariablesDepth + BODY_LEVELS_ABOVE_VARIABLES;
  scope.removeContentTypeParser('application/json');
  scope.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request: FastifyRequest, body: Buffer, done) => {
    const shape = scanJson(body, limits.maxValues, maxDepth);
    if ('over' in shape) return done(jsonShapeError(shape, limits), undefined);
    // What Fastify's 'string' mode would have read: the same UTF-8 decoding, replacement characters included.
    return parse(request, body.toString('utf8'), done);
  });
}
