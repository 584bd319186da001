/**
 * Writing raw entries into a cache store the way another process (or an attacker with access to
 * it) could: the tests forge collisions and corrupt answers with these.
 */
import { createHash } from 'node:crypto';
import { LmdbCache } from '../../src/cache/lmdb-cache.ts';
import { KeyvLmdbStore } from '../../src/cache/lmdb-store.ts';
import { APQ_NAMESPACE, PREDICTIONS_NAMESPACE } from '../../src/cache/stores.ts';

/** Stores `bytes` under the prediction key `key` (without the namespace) in the LMDB cache at `dir`. */
export async function writeLmdbEntry(dir: string, key: string, bytes: Uint8Array): Promise<void> {
  const cache = new LmdbCache(dir, { maxBytes: 64 * 1024 ** 2, sweepIntervalMs: 60_000, spaces: [{ name: PREDICTIONS_NAMESPACE }, { name: APQ_NAMESPACE }] });
  const store = new KeyvLmdbStore(cache, PREDICTIONS_NAMESPACE);
  await store.set(`${PREDICTIONS_NAMESPACE}:${key}`, { value: bytes });
  await cache.close();
}

/** The base64url SHA-256 the server computes for a features input (see src/predict/input.ts). */
export function featuresDigest(features: number[]): string {
  return createHash('sha256').update('features').update(new Uint8Array(Float32Array.from(features).buffer)).digest('base64url');
}
