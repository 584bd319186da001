/** The result cache's parts alone: the byte-bounded LRU (L1) and the binary result codec. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ByteLru } from '../../src/cache/l1.ts';
import { decodeEntry, decodeResult, DIGEST_BYTES, encodeEntry, encodeResult } from '../../src/cache/result-codec.ts';
import type { ItemResult } from '../../src/domain/types.ts';

const bytes = (n: number, fill = 1) => new Uint8Array(n).fill(fill);

describe('ByteLru', () => {
  it('counts an entry as its bytes plus two per key character, and evicts the least recently used past its bound', () => {
    const lru = new ByteLru(100);
    lru.set('a', bytes(30)); // 32
    lru.set('b', bytes(30)); // 32
    assert.equal(lru.bytes, 64);
    assert.ok(lru.get('a'), 'a is now the most recently used');
    lru.set('c', bytes(30)); // 96
    lru.set('d', bytes(10)); // 108 > 100: the oldest, b, goes
    assert.equal(lru.get('b'), undefined);
    assert.deepEqual([lru.get('a')?.length, lru.get('c')?.length, lru.get('d')?.length], [30, 30, 10]);
    assert.equal(lru.bytes, 32 + 32 + 12);
  });

  it('keeps nothing larger than its bound, and replaces an entry in place', () => {
    const lru = new ByteLru(50);
    lru.set('big', bytes(60));
    assert.equal(lru.get('big'), undefined);
    assert.equal(lru.bytes, 0);
    lru.set('k', bytes(10, 1));
    lru.set('k', bytes(20, 2));
    assert.equal(lru.get('k')![0], 2);
    assert.equal(lru.bytes, 22);
  });

  it('forgets an entry once its time to live has passed', (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
    const lru = new ByteLru(1000);
    lru.set('short', bytes(4), 100);
    lru.set('forever', bytes(4));
    t.mock.timers.tick(99);
    assert.ok(lru.get('short'));
    t.mock.timers.tick(1);
    assert.equal(lru.get('short'), undefined);
    assert.ok(lru.get('forever'));
    assert.equal(lru.bytes, 4 + 14);
  });

  it('deletes by key prefix (one model, or all of them), and says how many', () => {
    const lru = new ByteLru(1000);
    for (const key of ['iris@1:a', 'iris@2:b', 'spam@1:c']) lru.set(key, bytes(8));
    assert.equal(lru.deletePrefix('iris@'), 2);
    assert.equal(lru.get('iris@1:a'), undefined);
    assert.ok(lru.get('spam@1:c'));
    assert.equal(lru.deletePrefix(''), 1);
    assert.equal(lru.bytes, 0);
  });
});

/** Scalars are float32 in the cache, so the examples are float32 values. */
const RESULTS: ItemResult[] = [
  { kind: 'classification', labelIndex: 2, probabilities: Float32Array.of(0.1, 0.2, 0.7) },
  { kind: 'classification', labelIndex: 410 },
  { kind: 'textRecognition', text: 'Grüße, 世界 ✓', confidence: Math.fround(0.99956066) },
  { kind: 'speechDetection', segments: Float32Array.of(0.994, 3.678, 4.5, 5), speechRatio: Math.fround(0.5840734), durationSeconds: Math.fround(4.5953125) },
  { kind: 'speechDetection', segments: new Float32Array(0), speechRatio: 0, durationSeconds: 0.25 },
  { kind: 'tensor', outputs: [{ name: 'fahrenheit', dims: [2, 1], data: Float32Array.of(32, 212) }, { name: 'kelvin', dims: [2, 1], data: Float32Array.of(273.15, 373.15) }] },
];

/** A result as plain data, float32 values as the numbers they hold. */
const plain = (result: unknown) => JSON.parse(JSON.stringify(result, (_k, v: unknown) => (v instanceof Float32Array ? Array.from(v) : v)));

describe('result codec', () => {
  it('round-trips every kind of answer exactly', () => {
    for (const result of RESULTS) assert.deepEqual(plain(decodeResult(encodeResult(result))), plain(result));
  });

  it('keeps a label-only classification without probabilities', () => {
    const decoded = decodeResult(encodeResult({ kind: 'classification', labelIndex: 3 }));
    assert.deepEqual(decoded, { kind: 'classification', labelIndex: 3 });
  });

  it('refuses another format version, a truncated value, trailing bytes and an unknown kind', () => {
    const good = encodeResult(RESULTS[0]!);
    const otherVersion = good.slice();
    otherVersion[0] = 1;
    assert.equal(decodeResult(otherVersion), undefined);
    assert.equal(decodeResult(good.subarray(0, good.length - 1)), undefined);
    assert.equal(decodeResult(Uint8Array.of(...good, 0)), undefined);
    assert.equal(decodeResult(Uint8Array.of(good[0]!, 99)), undefined);
    assert.equal(decodeResult(new Uint8Array(0)), undefined);
  });

  it("stores the input's full digest with the answer, and tells a collision from a hit", () => {
    const digest = bytes(DIGEST_BYTES, 7);
    const entry = encodeEntry(digest, RESULTS[2]!);
    assert.deepEqual(plain(decodeEntry(entry, digest)), plain(RESULTS[2]));
    const other = digest.slice();
    other[31] = 8;
    assert.equal(decodeEntry(entry, other), 'collision');
    assert.equal(decodeEntry(entry.subarray(0, DIGEST_BYTES), digest), undefined);
    assert.throws(() => encodeEntry(bytes(16), RESULTS[0]!), /an input digest has 32 bytes, got 16/);
  });
});
