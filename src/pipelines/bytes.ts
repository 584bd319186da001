/** The bytes of an encoded file input (an image, a WAV file). */
import type { Payload } from '../domain/types.ts';

export function bytesOf(payload: Payload): Uint8Array {
  if (payload.kind !== 'bytes') throw new Error(`expected an encoded file, got ${payload.kind}`);
  return payload.bytes;
}
