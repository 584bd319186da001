/**
 * Corrupt cache entries with the right digest, as a bad write, another program or someone with
 * access to the store could leave them, and the check that the server serves the right answer
 * anyway, counts each one, logs once per model, and overwrites it. Shared by the LMDB test and
 * the Redis test.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cacheKey } from '../../src/cache/prediction-cache.ts';
import { DIGEST_BYTES, encodeEntry } from '../../src/cache/result-codec.ts';
import type { ItemResult } from '../../src/domain/types.ts';
import type { CliServer } from './cli.ts';
import { graphql } from './client.ts';
import { metricTotal } from './metrics.ts';

type Input = { features: number[] } | { image: string } | { audio: string };

interface CorruptCase {
  name: string;
  model: string;
  input: Input;
  /** The entry, given the input's full digest. */
  entry: (digest: Uint8Array) => Uint8Array;
}

const ocrImage = readFileSync('models/ocr/sample.png');
const vadAudio = readFileSync('models/vad/sample.wav');
const digitImage = readFileSync('models/digits/sample.png');

const iris = (i: number): Input => ({ features: [5.0 + i / 100, 3.4, 1.5, 0.2] });
const valid = (digest: Uint8Array) => encodeEntry(digest, { kind: 'classification', labelIndex: 0, probabilities: Float32Array.of(1, 0, 0) });
const entryOf = (result: ItemResult) => (digest: Uint8Array) => encodeEntry(digest, result);

export const CORRUPT_CASES: CorruptCase[] = [
  { name: 'a label index past the labels', model: 'iris', input: iris(1), entry: entryOf({ kind: 'classification', labelIndex: 7, probabilities: Float32Array.of(1, 0, 0) }) },
  { name: 'a short probability array', model: 'iris', input: iris(2), entry: entryOf({ kind: 'classification', labelIndex: 0, probabilities: Float32Array.of(1, 0) }) },
  { name: 'a NaN probability', model: 'iris', input: iris(3), entry: entryOf({ kind: 'classification', labelIndex: 0, probabilities: Float32Array.of(Number.NaN, 0, 1) }) },
  { name: 'a probability above 1', model: 'iris', input: iris(4), entry: entryOf({ kind: 'classification', labelIndex: 2, probabilities: Float32Array.of(0, 0, 2) }) },
  { name: "another task's answer", model: 'iris', input: iris(5), entry: entryOf({ kind: 'textRecognition', text: 'virginica', confidence: 1 }) },
  { name: 'truncated bytes', model: 'iris', input: iris(6), entry: (d) => valid(d).subarray(0, valid(d).byteLength - 3) },
  { name: 'bytes after the answer', model: 'iris', input: iris(7), entry: (d) => Uint8Array.from([...valid(d), 0]) },
  {
    // A count of 4 billion floats: decoding must refuse it, not allocate 16 GB.
    name: 'a huge array count',
    model: 'iris',
    input: iris(8),
    entry: (d) => Uint8Array.from([3, ...d, 1, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]),
  },
  { name: 'an older format version', model: 'iris', input: iris(9), entry: (d) => Uint8Array.from([2, ...valid(d).subarray(1)]) },
  { name: 'JSON text', model: 'iris', input: iris(10), entry: () => new TextEncoder().encode('{"value":{"b64":"AAAA"},"expires":null}') },
  { name: 'a NaN confidence', model: 'ocr', input: { image: ocrImage.toString('base64') }, entry: entryOf({ kind: 'textRecognition', text: 'PredictQL', confidence: Number.NaN }) },
  {
    name: 'a segment past the end of the clip',
    model: 'vad',
    input: { audio: vadAudio.toString('base64') },
    entry: entryOf({ kind: 'speechDetection', speechRatio: 0.5, durationSeconds: 2, segments: Float32Array.of(0.5, 50) }),
  },
  { name: 'a label index past ten digits', model: 'digits', input: { image: digitImage.toString('base64') }, entry: entryOf({ kind: 'classification', labelIndex: 10 }) },
];

/** The digest the server computes for an input (src/predict/input.ts). */
function digestOf(input: Input): string {
  const hash = createHash('sha256');
  if ('features' in input) hash.update('features').update(new Uint8Array(Float32Array.from(input.features).buffer));
  else if ('image' in input) hash.update('image').update(Buffer.from(input.image, 'base64'));
  else hash.update('audio').update(Buffer.from(input.audio, 'base64'));
  return hash.digest('base64url');
}

const ASK = `query ($model: String!, $input: PredictionInput!, $cache: CachePolicy) {
  predict(model: $model, input: $input, options: { cache: $cache }) {
    cacheSource
    ... on Classification { label }
    ... on TextRecognition { text confidence }
    ... on SpeechDetection { segments { start end } speechRatio durationSeconds }
  }
}`;

/** A query that must succeed: its data. */
async function ask(url: string, query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const res = await graphql(url, { query, variables });
  assert.equal(res.errors, undefined, JSON.stringify(res.errors));
  return res.data;
}

const invalidLookups = (url: string) => metricTotal(url, 'predictql_cache_lookups_total', { result: 'invalid' });

/**
 * Against a running server whose L1 is off: forges every case into the store with `write`,
 * then checks each is a miss with the right answer, counted, logged once per model, and
 * replaced by the right answer in the store.
 */
export async function exerciseCorruptEntries(server: CliServer, write: (key: string, entry: Uint8Array) => Promise<void>): Promise<void> {
  const versions = new Map<string, string>(((await ask(server.url, '{ models { name version } }')).models as Array<{ name: string; version: string }>).map((m) => [m.name, m.version]));
  const truth: string[] = [];
  for (const c of CORRUPT_CASES) {
    const { cacheSource, ...answer } = (await ask(server.url, ASK, { model: c.model, input: c.input, cache: 'BYPASS' })).predict;
    truth.push(JSON.stringify(answer));
  }
  for (const c of CORRUPT_CASES) {
    const key = cacheKey(`${c.model}@${versions.get(c.model)}`, digestOf(c.input));
    assert.equal(key.digest.byteLength, DIGEST_BYTES);
    await write(key.key, c.entry(key.digest));
  }

  const before = await invalidLookups(server.url);
  for (const [i, c] of CORRUPT_CASES.entries()) {
    const { cacheSource, ...answer } = (await ask(server.url, ASK, { model: c.model, input: c.input })).predict;
    assert.equal(cacheSource, 'NONE', `${c.name}: the entry was not served`);
    assert.equal(JSON.stringify(answer), truth[i], `${c.name}: the answer is the computed one`);
  }
  assert.equal((await invalidLookups(server.url)) - before, CORRUPT_CASES.length, 'every invalid entry was counted');
  const logged = server.logs.filter((line) => String(line.msg).startsWith('invalid cache entry'));
  assert.deepEqual(logged.map((line) => line.model).sort(), [...new Set(CORRUPT_CASES.map((c) => c.model))].sort(), 'logged once per model');

  // The recomputed answers replaced the entries (writes land in the background).
  for (const [i, c] of CORRUPT_CASES.entries()) {
    let source = '';
    let answer = '';
    for (let attempt = 0; attempt < 40 && source !== 'STORE'; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 25));
      const { cacheSource, ...rest } = (await ask(server.url, ASK, { model: c.model, input: c.input })).predict;
      source = cacheSource;
      answer = JSON.stringify(rest);
    }
    assert.equal(source, 'STORE', `${c.name}: the store holds the recomputed answer`);
    assert.equal(answer, truth[i]);
  }
}
