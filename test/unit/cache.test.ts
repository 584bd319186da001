/** The result cache's parts alone: the byte-bounded LRU (L1), the binary result codec (format 3) and the check of a stored answer against the model. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ByteLru } from '../../src/cache/l1.ts';
import { problemWith, type ExpectedResult } from '../../src/cache/result-check.ts';
import { decodeEntry, decodeResult, DIGEST_BYTES, encodeEntry, encodeResult } from '../../src/cache/result-codec.ts';
import type { ItemResult, TextLineResult } from '../../src/domain/types.ts';

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

  it('can also be bounded in entries, evicting the least recently used past that count', () => {
    const lru = new ByteLru(1000, 2);
    lru.set('a', bytes(4));
    lru.set('b', bytes(4));
    lru.get('a');
    lru.set('c', bytes(4));
    assert.equal(lru.count, 2);
    assert.equal(lru.get('b'), undefined);
    assert.ok(lru.get('a') && lru.get('c'));
    assert.equal(lru.bytes, 2 * (4 + 2));
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
  {
    kind: 'documentText',
    lines: [
      { text: 'Invoice 2024-0173', confidence: Math.fround(0.998), box: { x: 40, y: 44, width: 320, height: 19 } },
      { text: 'Grüße, 世界', confidence: Math.fround(0.91), box: { x: 2479, y: 3000, width: 1, height: 508 } },
    ],
    detectedLines: 3,
    truncated: true,
  },
  { kind: 'documentText', lines: [], detectedLines: 0, truncated: false },
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

  it('refuses a truncated value, trailing bytes, an unknown kind and nothing at all, saying why', () => {
    const good = encodeResult(RESULTS[0]!);
    assert.throws(() => decodeResult(good.subarray(0, good.length - 1)), /needs \d+ bytes, \d+ left/);
    assert.throws(() => decodeResult(Uint8Array.of(...good, 0)), /^Error: 1 bytes after the result$/);
    assert.throws(() => decodeResult(Uint8Array.of(99)), /unknown kind tag 99/);
    assert.throws(() => decodeResult(new Uint8Array(0)), /a byte needs 1 bytes, 0 left/);
  });

  it('checks a stored count against the bytes there before allocating, and refuses text that is not UTF-8', () => {
    // A classification claiming 2^32-1 probabilities in a 9-byte value: refused, not allocated.
    const huge = Uint8Array.of(1, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff);
    assert.throws(() => decodeResult(huge), /4294967295 floats needs 17179869180 bytes, 0 left/);
    // A tensor answer claiming 2^32-1 outputs.
    assert.throws(() => decodeResult(Uint8Array.of(4, 0xff, 0xff, 0xff, 0xff)), /4294967295 outputs needs/);
    const badText = Uint8Array.of(2, 0, 0, 0x80, 0x3f, 2, 0, 0, 0, 0xff, 0xfe);
    assert.throws(() => decodeResult(badText), /text that is not UTF-8/);
    // A page claiming 2^32-1 lines, and one whose truncated flag is neither 0 nor 1.
    assert.throws(() => decodeResult(Uint8Array.of(5, 3, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff)), /4294967295 lines needs/);
    assert.throws(() => decodeResult(Uint8Array.of(5, 3, 0, 0, 0, 2, 0, 0, 0, 0)), /truncated flag 2/);
  });
});

describe('cache entry (format 3)', () => {
  const digest = bytes(DIGEST_BYTES, 7);

  it('is the format version, the input\'s full digest, then the result', () => {
    const entry = encodeEntry(digest, RESULTS[2]!);
    assert.equal(entry[0], 3);
    assert.deepEqual(entry.subarray(1, 1 + DIGEST_BYTES), digest);
    assert.deepEqual(entry.subarray(1 + DIGEST_BYTES), encodeResult(RESULTS[2]!));
    assert.throws(() => encodeEntry(bytes(16), RESULTS[0]!), /an input digest has 32 bytes, got 16/);
  });

  it("gives the answer for the input's digest, and tells a collision from a hit", () => {
    const entry = encodeEntry(digest, RESULTS[2]!);
    const decoded = decodeEntry(entry, digest);
    assert.ok(decoded.ok);
    assert.deepEqual(plain(decoded.result), plain(RESULTS[2]));
    const other = digest.slice();
    other[31] = 8;
    assert.deepEqual(decodeEntry(entry, other), { ok: false, problem: 'collision' });
  });

  it('calls anything else invalid, with the reason: too short, another format version, a malformed result', () => {
    const entry = encodeEntry(digest, RESULTS[0]!);
    assert.deepEqual(decodeEntry(entry.subarray(0, 1 + DIGEST_BYTES), digest), { ok: false, problem: 'invalid', reason: '33 bytes is too short for an entry' });
    const version2 = entry.slice();
    version2[0] = 2;
    assert.deepEqual(decodeEntry(version2, digest), { ok: false, problem: 'invalid', reason: 'format version 2, expected 3' });
    assert.deepEqual(decodeEntry(entry.subarray(0, entry.length - 1), digest), { ok: false, problem: 'invalid', reason: '3 floats needs 12 bytes, 11 left' });
    const trailing = decodeEntry(Uint8Array.of(...entry, 0), digest);
    assert.deepEqual(trailing, { ok: false, problem: 'invalid', reason: '1 bytes after the result' });
  });
});

describe('stored answer check', () => {
  const classifier: ExpectedResult = { kind: 'classification', labels: 3 };
  const pageExpected: ExpectedResult = { kind: 'documentText', maxLines: 200, maxPixels: 40_000_000 };
  /** RESULTS[6] (a page of two lines) with its second line changed. */
  type Page = Extract<ItemResult, { kind: 'documentText' }>;
  const page = (second: Partial<TextLineResult> = {}): Page => {
    const { lines, ...rest } = RESULTS[6] as Page;
    return { ...rest, lines: [lines[0]!, { ...lines[1]!, ...second }] };
  };

  it('accepts what the model could have answered', () => {
    assert.equal(problemWith(RESULTS[0]!, classifier), undefined);
    assert.equal(problemWith({ kind: 'classification', labelIndex: 2 }, classifier), undefined);
    assert.equal(problemWith(RESULTS[2]!, { kind: 'textRecognition' }), undefined);
    const speech: ItemResult = { kind: 'speechDetection', segments: Float32Array.of(0.994, 3.678, 4.5, 4.595), speechRatio: Math.fround(0.5840734), durationSeconds: Math.fround(4.5953125) };
    assert.equal(problemWith(speech, { kind: 'speechDetection', maxSeconds: 30 }), undefined);
    assert.equal(problemWith(RESULTS[4]!, { kind: 'speechDetection', maxSeconds: 30 }), undefined);
    assert.equal(problemWith(RESULTS[5]!, { kind: 'tensor', outputs: ['fahrenheit', 'kelvin'] }), undefined);
    assert.equal(problemWith(RESULTS[5]!, { kind: 'tensor', outputs: null }), undefined);
    const page: ExpectedResult = { kind: 'documentText', maxLines: 200, maxPixels: 40_000_000 };
    assert.equal(problemWith(RESULTS[6]!, page), undefined);
    assert.equal(problemWith(RESULTS[7]!, page), undefined);
  });

  it('names what is wrong with an answer the model could not give', () => {
    const cases: Array<[ItemResult, ExpectedResult, string]> = [
      [RESULTS[2]!, classifier, 'a textRecognition answer for a model that gives classification answers'],
      [{ kind: 'classification', labelIndex: 3 }, classifier, 'label index 3 for 3 labels'],
      [{ kind: 'classification', labelIndex: 0, probabilities: Float32Array.of(0.5, 0.5) }, classifier, '2 probabilities for 3 labels'],
      [{ kind: 'classification', labelIndex: 0, probabilities: Float32Array.of(0.5, Number.NaN, 0.5) }, classifier, 'probability NaN at 1, outside 0..1'],
      [{ kind: 'textRecognition', text: 'a', confidence: 1.5 }, { kind: 'textRecognition' }, 'confidence 1.5, outside 0..1'],
      [{ kind: 'speechDetection', segments: new Float32Array(0), speechRatio: -0.25, durationSeconds: 1 }, { kind: 'speechDetection', maxSeconds: 30 }, 'speech ratio -0.25, outside 0..1'],
      [{ kind: 'speechDetection', segments: new Float32Array(0), speechRatio: 0, durationSeconds: 31 }, { kind: 'speechDetection', maxSeconds: 30 }, 'duration 31 s, outside 0..30'],
      [{ kind: 'speechDetection', segments: Float32Array.of(1), speechRatio: 0, durationSeconds: 2 }, { kind: 'speechDetection', maxSeconds: 30 }, '1 segment bounds, not start/end pairs'],
      [{ kind: 'speechDetection', segments: Float32Array.of(1, 1.5, 1.25, 1.75), speechRatio: 0.5, durationSeconds: 2 }, { kind: 'speechDetection', maxSeconds: 30 }, 'segment 1 (1.25 s to 1.75 s) is not within the clip (2 s) after the previous one'],
      [{ kind: 'tensor', outputs: [] }, { kind: 'tensor', outputs: null }, 'a tensor answer without outputs'],
      [RESULTS[5]!, { kind: 'tensor', outputs: ['kelvin', 'fahrenheit'] }, "outputs fahrenheit, kelvin; the model's are kelvin, fahrenheit"],
      [{ kind: 'tensor', outputs: [{ name: 'y', dims: [2, 2], data: Float32Array.of(1, 2, 3) }] }, { kind: 'tensor', outputs: null }, 'output y has dims [2, 2] (4 values) but 3 values'],
      [{ kind: 'tensor', outputs: [{ name: 'y', dims: [1], data: Float32Array.of(1) }, { name: 'y', dims: [1], data: Float32Array.of(2) }] }, { kind: 'tensor', outputs: null }, 'the same output name twice'],
      [RESULTS[6]!, { kind: 'documentText', maxLines: 1, maxPixels: 1e7 }, '2 lines, more than the model reads per page (1)'],
      [{ ...page(), detectedLines: 1 }, pageExpected, '2 lines read of 1 detected'],
      [{ ...page(), detectedLines: 300, truncated: false }, pageExpected, '300 lines detected, over the limit of 200, without the truncated flag'],
      [page({ text: '' }), pageExpected, 'line 1 is empty (empty readings are left out)'],
      [page({ confidence: -1 }), pageExpected, 'line 1: confidence -1, outside 0..1'],
      [page({ box: { x: 0, y: 0, width: 0, height: 5 } }), pageExpected, 'line 1: box 0,0 0x5 cannot be on a page of at most 40000000 pixels'],
      [page({ box: { x: 4e9, y: 0, width: 5, height: 5 } }), pageExpected, 'line 1: box 4000000000,0 5x5 cannot be on a page of at most 40000000 pixels'],
    ];
    for (const [result, expected, problem] of cases) assert.equal(problemWith(result, expected), problem);
  });
});
