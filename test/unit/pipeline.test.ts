/**
 * The pipeline skeleton (decode -> feed -> run -> post-process) with a fake session: where each
 * answer and each failure lands, runs, what is fetched; and the tabular and tensor pipelines'
 * own choices (label-only fetch, stacking) on the same fake.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type * as ort from 'onnxruntime-node';
import type { ItemResult, Payload } from '../../src/domain/types.ts';
import type { HandleOf } from '../../src/pipelines/handle.ts';
import { runBatch } from '../../src/pipelines/index.ts';
import { runPipeline, type Pipeline } from '../../src/pipelines/pipeline.ts';
import { InputError } from '../../src/processing/errors.ts';
import { argmax, clampProbabilities, rowsOf, softmax } from '../../src/processing/probabilities.ts';
import { padTokens, tokenize } from '../../src/processing/text.ts';

type Outputs = Record<string, { type?: string; dims: readonly number[]; data: ArrayLike<number> | BigInt64Array }>;

/** A session that records its runs and answers with `answer(feeds, outputs)`. */
function fakeSession(answer: (feeds: Record<string, ort.Tensor>, outputs: readonly string[]) => Outputs, outputNames: string[] = []) {
  const runs: Array<{ feeds: Record<string, ort.Tensor>; outputs: readonly string[] }> = [];
  const session = {
    outputNames,
    async run(feeds: Record<string, ort.Tensor>, outputs: readonly string[]) {
      runs.push({ feeds, outputs });
      return answer(feeds, outputs);
    },
  } as unknown as ort.InferenceSession;
  return { session, runs };
}

const TABULAR: HandleOf<'tabular'> = { id: 't@1', filePath: '', pipeline: 'tabular', inputTensor: 'x', outputs: { probabilities: 'p', label: 'l' }, options: { featureCount: 2, labelCount: 3 } };
const row = (...values: number[]): Payload => ({ kind: 'features', values: Float32Array.from(values) });

/** A toy pipeline: text inputs, "!" fails to decode, runs of at most two, answers = text length. */
const toy: Pipeline<'text', string, string[], number[]> = {
  decode(payload) {
    if (payload.kind !== 'text') throw new Error('not text');
    if (payload.text === '!') throw new InputError('"!" is not a word');
    return payload.text;
  },
  outputs: () => ['lengths'],
  runs: (items) => Array.from({ length: Math.ceil(items.length / 2) }, (_, r) => [2 * r, 2 * r + 1].filter((i) => i < items.length).reverse()),
  feed: (items) => [...items],
  run: async (_session, fed) => fed.map((t) => t.length),
  postprocess: (lengths) => lengths.map((n) => ({ kind: 'textRecognition', text: 'x'.repeat(n), confidence: 1 })),
};
const TEXT: HandleOf<'text'> = { id: 'toy@1', filePath: '', pipeline: 'text', inputTensor: 'tokens', outputs: {}, options: { labelCount: 0 } };
const texts = (...values: string[]): Payload[] => values.map((text) => ({ kind: 'text', text }));

describe('runPipeline', () => {
  it('answers each input in its place, an input that fails to decode alone, run by run', async () => {
    const { session } = fakeSession(() => ({}));
    const outcome = await runPipeline(toy, session, TEXT, texts('a', '!', 'bbb', 'cc', 'dddd'), 'label');
    assert.deepEqual(
      outcome.results.map((r) => (r.kind === 'failure' ? `${r.code}: ${r.message}` : (r as Extract<ItemResult, { kind: 'textRecognition' }>).text.length)),
      [1, 'BAD_USER_INPUT: "!" is not a word', 3, 2, 4],
    );
    assert.deepEqual(outcome.fetched, ['lengths']);
    for (const ms of Object.values(outcome.timings)) assert.ok(ms >= 0);
  });

  it('runs nothing when every input failed, and fails the batch on any other error', async () => {
    const { session } = fakeSession(() => ({}));
    const none = await runPipeline(toy, session, TEXT, texts('!', '!'), 'label');
    assert.deepEqual(none.fetched, []);
    assert.equal(none.results.length, 2);
    await assert.rejects(runPipeline(toy, session, TEXT, [row(1)], 'label'), /not text/);
  });

  it('refuses a pipeline that answers a run with the wrong number of results', async () => {
    const { session } = fakeSession(() => ({}));
    await assert.rejects(runPipeline({ ...toy, postprocess: () => [] }, session, TEXT, texts('a'), 'label'), /model toy@1: 0 answers for a run of 1 inputs/);
  });
});

describe('tabular pipeline', () => {
  it('stacks the rows into one tensor and fetches only the label output when only the label is selected', async () => {
    const { session, runs } = fakeSession(() => ({ l: { dims: [2], data: BigInt64Array.of(2n, 0n) } }));
    const outcome = await runBatch(session, TABULAR, [row(1, 2), row(3, 4)], 'label');
    assert.deepEqual(runs[0]!.outputs, ['l']);
    assert.deepEqual(runs[0]!.feeds.x!.dims, [2, 2]);
    assert.deepEqual(Array.from(runs[0]!.feeds.x!.data as Float32Array), [1, 2, 3, 4]);
    assert.deepEqual(outcome.results, [{ kind: 'classification', labelIndex: 2 }, { kind: 'classification', labelIndex: 0 }]);
    assert.deepEqual(outcome.fetched, ['l']);
  });

  it('fetches the probabilities for scores, clamped into 0..1, one row per input', async () => {
    const { session, runs } = fakeSession(() => ({ p: { type: 'float32', dims: [2, 3], data: Float32Array.of(0, 1.0000001, 0, 0.2, 0.3, 0.5) } }));
    const outcome = await runBatch(session, TABULAR, [row(1, 2), row(3, 4)], 'probabilities');
    assert.deepEqual(runs[0]!.outputs, ['p']);
    assert.deepEqual(
      outcome.results.map((r) => r.kind === 'classification' && [r.labelIndex, Array.from(r.probabilities!)]),
      [[1, [0, 1, 0]], [2, [Math.fround(0.2), Math.fround(0.3), 0.5]]],
    );
  });

  it('fails the batch when the model answers with the wrong shape', async () => {
    const { session } = fakeSession(() => ({ p: { type: 'float32', dims: [1, 3], data: Float32Array.of(0, 1, 0) } }));
    await assert.rejects(runBatch(session, TABULAR, [row(1, 2), row(3, 4)], 'probabilities'), /model t@1: output "p" should be float32 with 6 values, got float32 \[1, 3\]/);
  });
});

describe('tensor pipeline', () => {
  const TENSOR: HandleOf<'tensor'> = { id: 'temp@1', filePath: '', pipeline: 'tensor', inputTensor: 'c', outputs: {}, options: { tensors: [{ name: 'c', shape: ['N', 1] }], outputNames: null } };
  const input = (...celsius: number[]): Payload => ({ kind: 'tensors', tensors: [{ name: 'c', dims: [celsius.length, 1], data: Float32Array.from(celsius) }] });
  const double = (feeds: Record<string, ort.Tensor>): Outputs => ({ f: { type: 'float32', dims: feeds.c!.dims, data: Float32Array.from(feeds.c!.data as Float32Array, (v) => v * 2) } });

  it('stacks inputs along their shared free first dimension, and splits the outputs back by rows', async () => {
    const { session, runs } = fakeSession(double, ['f']);
    const outcome = await runBatch(session, TENSOR, [input(1, 2), input(3)], 'probabilities');
    assert.equal(runs.length, 1);
    assert.deepEqual(runs[0]!.feeds.c!.dims, [3, 1]);
    assert.deepEqual(JSON.parse(JSON.stringify(outcome.results, (_k, v: unknown) => (v instanceof Float32Array ? Array.from(v) : v))), [
      { kind: 'tensor', outputs: [{ name: 'f', dims: [2, 1], data: [2, 4] }] },
      { kind: 'tensor', outputs: [{ name: 'f', dims: [1, 1], data: [6] }] },
    ]);
    assert.deepEqual(outcome.fetched, ['f']);
  });

  it('runs input by input when the first dimension is fixed', async () => {
    const { session, runs } = fakeSession(double, ['f']);
    await runBatch(session, { ...TENSOR, options: { ...TENSOR.options, tensors: [{ name: 'c', shape: [1, 1] }] } }, [input(1), input(3)], 'probabilities');
    assert.equal(runs.length, 2);
  });
});

describe('array and text math', () => {
  it('argmax keeps the first of equal values; softmax sums to 1 without overflowing; clamp and rows', () => {
    assert.equal(argmax([0.2, 0.5, 0.5]), 1);
    const p = softmax(Float32Array.of(1000, 1001, 1002));
    assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-6);
    assert.equal(argmax(p), 2);
    assert.deepEqual(Array.from(clampProbabilities(Float32Array.of(-0.1, 1.5, 0.25))), [0, 1, 0.25]);
    const data = Float32Array.of(1, 2, 3, 4, 5, 6);
    const rows = rowsOf(data, 2, 3);
    assert.deepEqual(rows.map((r) => Array.from(r)), [[1, 2, 3], [4, 5, 6]]);
    assert.equal(rows[1]!.buffer, data.buffer, 'views, not copies');
  });

  it("tokenises as the text models were trained: lowercase, ASCII words of two characters or more", () => {
    assert.deepEqual(tokenize('Ignore ALL previous-instructions, a b 42!'), ['ignore', 'all', 'previous', 'instructions', '42']);
    assert.deepEqual(tokenize('café naïve für'), ['caf', 'na', 've']);
    assert.deepEqual(padTokens([['a', 'b'], [], ['c']]), { data: ['a', 'b', '', '', 'c', ''], dims: [3, 2] });
    assert.deepEqual(padTokens([[]]), { data: [''], dims: [1, 1] }, 'at least one column: ORT refuses a zero-sized dimension');
  });
});
