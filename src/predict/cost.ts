/**
 * What one request asks of the workers, estimated before anything is queued. Each input costs its
 * model's cost per input (manifest `limits.costPerInput`, about the milliseconds of one worker's
 * time an input of unit size takes; a default per input kind otherwise) times its size in units, so a thousand OCR lines
 * weigh what they cost and a thousand iris rows do not. The total is checked against
 * MAX_REQUEST_COST by the cost-limit plugin.
 */
import type { InputKind } from '../domain/types.ts';
import type { ServedModel } from '../models/served-model.ts';
import { declaredImageSize } from '../processing/headers.ts';
import { sniffImageFormat } from '../processing/image.ts';

/** The size of one unit: an input counts as many units as it spans (at least one). */
export const COST_UNIT = {
  TEXT: 1000, // characters
  IMAGE: 100_000, // bytes, decoded from base64; or IMAGE_PIXELS, whichever counts more units
  AUDIO: 32_000, // bytes, decoded: about a second of 16 kHz 16-bit audio
  TENSOR: 10_000, // numbers
} as const;

/**
 * Pixels per image unit. Decoding is paid per pixel, not per compressed byte: a 1-bit 5000x5000
 * PNG of 3 KB took the ocr model 774 ms of worker time (sample line: 43 ms), digits 181 ms and
 * symbols 131 ms, measured on this project's 2-core machine; at a megapixel per unit it costs
 * ocr 25 x 25 = 625.
 */
export const IMAGE_PIXELS = 1_000_000;

/**
 * Main-thread work, priced in the same units (about a millisecond each) on top of the model's:
 * the values an answer writes and the values of the variables (coerced by GraphQL and checked
 * value by value). Measured on this project's 2-core machine, loaded: 10,000 cached iris rows
 * took 0.4-1.1 s with `label` selected and 1.7-2.1 s with 15 values a row (7-10 us a value
 * written); 4 million numbers in a variable held the event loop 1.9 s (0.5 us a value). The first
 * unit's worth of each is free, so a small request costs what its inputs cost.
 */
export const RESPONSE_VALUES_PER_UNIT = 100;
export const VARIABLE_VALUES_PER_UNIT = 2000;

export const responseCost = (values: number) => Math.floor(values / RESPONSE_VALUES_PER_UNIT);
export const variablesCost = (values: number) => Math.floor(values / VARIABLE_VALUES_PER_UNIT);

/** The shape of a `PredictionInput` as it arrives, before it is checked. */
export interface RawInput {
  text?: unknown;
  image?: unknown;
  audio?: unknown;
  tensor?: unknown;
}

const base64Bytes = (value: unknown) => (typeof value === 'string' ? Math.floor((value.length * 3) / 4) : 0);

/** Base64 characters read for an image's header: a PNG's is in its first 24 bytes, a JPEG's frame header after its metadata segments. */
const HEADER_BASE64_CHARS = 256 * 1024;

/**
 * The pixels an image (base64, maybe a data URL) declares in its PNG or JPEG header, read from a
 * prefix of it without decoding the image: 0 for what is not a PNG or JPEG (the input checks
 * refuse it before it is queued), `unknown` for one whose header is not in that prefix (a JPEG
 * with more metadata than that) or is damaged.
 */
export function declaredPixels(image: string, unknown: number): number {
  const comma = image.startsWith('data:') ? image.indexOf(',') + 1 : 0;
  const prefix = image.slice(comma, comma + HEADER_BASE64_CHARS);
  const bytes = Buffer.from(prefix.slice(0, prefix.length - (prefix.length % 4)), 'base64');
  const format = sniffImageFormat(bytes);
  if (format !== 'png' && format !== 'jpeg') return 0;
  const size = declaredImageSize(bytes);
  // Over the model's limit, the input checks refuse it before it is queued: no dearer than the limit.
  return size ? Math.min(size.width * size.height, unknown) : unknown;
}

function tensorElements(value: unknown): number {
  if (!Array.isArray(value)) return 0;
  let total = 0;
  for (const t of value as Array<{ data?: unknown; dataBase64?: unknown }>) {
    if (Array.isArray(t?.data)) total += t.data.length;
    else if (typeof t?.dataBase64 === 'string') total += base64Bytes(t.dataBase64) / 4;
  }
  return total;
}

/**
 * Units an input spans for its model's input kind (1 for a malformed one: the resolver refuses
 * it). `maxPixels`: what an image whose header cannot be read is priced at.
 */
export function inputUnits(kind: InputKind, input: RawInput | null | undefined, maxPixels = 0): number {
  if (!input || typeof input !== 'object') return 1;
  const span = (() => {
    switch (kind) {
      case 'FEATURES':
        return 1;
      case 'TEXT':
        return typeof input.text === 'string' ? input.text.length / COST_UNIT.TEXT : 1;
      case 'IMAGE':
        if (typeof input.image !== 'string') return 1;
        return Math.max(base64Bytes(input.image) / COST_UNIT.IMAGE, declaredPixels(input.image, maxPixels) / IMAGE_PIXELS);
      case 'AUDIO':
        return base64Bytes(input.audio) / COST_UNIT.AUDIO;
      case 'TENSOR':
        return tensorElements(input.tensor) / COST_UNIT.TENSOR;
    }
  })();
  return Math.max(1, Math.ceil(span));
}

/**
 * What one input costs: its model's cost per unit (src/models/settings.ts) times its units, plus,
 * for a multi-stage model, the most its calls to other models may cost (a page's lines, each
 * read by the line model: counted at the page's limit of lines, since how many there are is
 * known only once the page has been looked at).
 */
export function inputCost(model: ServedModel, input: RawInput | null | undefined): number {
  const { costPerInput, costPerInputOfCalls } = model.settings.limits;
  const { input: spec } = model.manifest;
  return costPerInput * inputUnits(spec.kind, input, spec.kind === 'IMAGE' ? spec.maxPixels : 0) + costPerInputOfCalls;
}
