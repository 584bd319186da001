/**
 * Piscina moves a typed array only when it is the whole result; a result object holding typed
 * arrays must name their buffers through Piscina's transferable protocol, or they are copied.
 */
import { move, transferableSymbol, valueSymbol } from 'piscina';

/** Wraps `value` so Piscina transfers `buffers` with it instead of cloning them. */
export function withTransfer<T>(value: T, buffers: ArrayBufferLike[]): T {
  return move({ [transferableSymbol]: buffers, [valueSymbol]: value } as never) as unknown as T;
}
