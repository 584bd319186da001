/**
 * What one request asks of the workers, estimated before anything is queued. Each input costs its
 * model's cost per input (manifest `limits.costPerInput`, about the milliseconds of one worker's
 * time an input of unit size takes; a default per input kind otherwise) times its size in units, so a thousand OCR lines
 * weigh what they cost and a thousand iris rows do not. The total is checked against
 * MAX_REQUEST_COST by the cost-limit plugin.
 */
import type { InputKind } from '../domain/types.ts';
import type { ServedModel } from '../models/served-model.ts';

/** The size of one unit: an input counts as many units as it spans (at least one). */
export const COST_UNIT = {
  TEXT: 1000, // characters
  IMAGE: 100_000, // bytes, decoded from base64
  AUDIO: 32_000, // bytes, decoded: about a second of 16 kHz 16-bit audio
  TENSOR: 10_000, // numbers
} as const;

/** The shape of a `PredictionInput` as it arrives, before it is checked. */
export interface RawInput {
  text?: unknown;
  image?: unknown;
  audio?: unknown;
  tensor?: unknown;
}

const base64Bytes = (value: unknown) => (typeof value === 'string' ? Math.floor((value.length * 3) / 4) : 0);

function tensorElements(value: unknown): number {
  if (!Array.isArray(value)) return 0;
  let total = 0;
  for (const t of value as Array<{ data?: unknown; dataBase64?: unknown }>) {
    if (Array.isArray(t?.data)) total += t.data.length;
    else if (typeof t?.dataBase64 === 'string') total += base64Bytes(t.dataBase64) / 4;
  }
  return total;
}

/** Units an input spans for its model's input kind (1 for a malformed one: the resolver refuses it). */
export function inputUnits(kind: InputKind, input: RawInput | null | undefined): number {
  if (!input || typeof input !== 'object') return 1;
  const span = (() => {
    switch (kind) {
      case 'FEATURES':
        return 1;
      case 'TEXT':
        return typeof input.text === 'string' ? input.text.length / COST_UNIT.TEXT : 1;
      case 'IMAGE':
        return base64Bytes(input.image) / COST_UNIT.IMAGE;
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
  return costPerInput * inputUnits(model.manifest.input.kind, input) + costPerInputOfCalls;
}
