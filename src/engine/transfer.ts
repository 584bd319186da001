/**
 * Piscina moves a typed array only when it is the whole result; a result object holding typed
 * arrays must name their buffers through Piscina's transferable protocol, or they are copied.
 */
import { move, transferableSymbol, valueSymbol } from 'piscina';

/** Wraps `value` so Piscina transfers `buffers` with it instead of cloning them. */
export function withTransfer<T>(value: T, buffers: ArrayBufferLike[]): T {
  return move({ [transferableSymbol]: buffers, [valueSymbol]: value } as never) as unknown as T;
}

/** A typed array that owns its whole buffer, copying only when it is a view into a larger one. */
export function ownBuffer<T extends Float32Array>(array: T): T {
  return array.byteOffset === 0 && array.byteLength === array.buffer.byteLength ? array : (array.slice() as T);
}
