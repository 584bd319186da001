/**
 * Per-input pre-processing for pipelines whose inputs can fail one by one (an image that does not
 * decode, say): the failure becomes that input's answer and the rest of the batch still runs.
 */
import type { ItemFailure, ItemResult, Payload } from '../domain/types.ts';
import { InputError } from '../processing/errors.ts';
import { failure } from './pipeline.ts';

export type Prepared<T> = { ok: true; value: T } | { ok: false; failure: ItemFailure };

/** Runs `prepare` on each payload; an InputError fails that input with BAD_USER_INPUT. */
export async function prepareEach<T>(payloads: readonly Payload[], prepare: (payload: Payload) => Promise<T> | T): Promise<Array<Prepared<T>>> {
  const prepared: Array<Prepared<T>> = [];
  for (const payload of payloads) {
    try {
      prepared.push({ ok: true, value: await prepare(payload) });
    } catch (error) {
      // Errors cross back to the main thread as data: structured clone would drop the class.
      if (error instanceof InputError) prepared.push({ ok: false, failure: failure(error.code, error.message) });
      else throw error;
    }
  }
  return prepared;
}

/** Puts the answers of the prepared inputs back in place among the failures. */
export function mergeResults<T>(prepared: ReadonlyArray<Prepared<T>>, answers: readonly ItemResult[]): Array<ItemResult | ItemFailure> {
  let next = 0;
  return prepared.map((p) => (p.ok ? answers[next++]! : p.failure));
}

export function bytesOf(payload: Payload): Uint8Array {
  if (payload.kind !== 'bytes') throw new Error(`expected an encoded file, got ${payload.kind}`);
  return payload.bytes;
}
