/**
 * "One answer": the same input must get the same answer, to the last digit, whether it was
 * computed, read from the in-memory L1, or read from the store (L1 off, after a restart). Every
 * bundled model is asked for its manifest's sample with every field selected.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startTestServer, type TestServer } from './server.ts';

const MODELS_DIR = resolve('models');

export const EVERY_FIELD = `query ($model: String!, $input: PredictionInput!) {
  predict(model: $model, input: $input) {
    cached
    cacheSource
    model { name version }
    ... on Classification { label score classes { label score } top2: classes(top: 2) { label score } probabilities probabilitiesBase64: probabilities(encoding: BASE64_F32) }
    ... on TextRecognition { text confidence }
    ... on SpeechDetection { segments { start end } speechRatio durationSeconds }
    ... on TensorPrediction { outputs { name dims data dataBase64: data(encoding: BASE64_F32) } }
    ... on DocumentText { text lines { text confidence box { x y width height } } detectedLines truncated }
  }
}`;

type Sample = { features: number[] } | { text: string } | { image: string } | { audio: string };

/** Each bundled model with its manifest's sample as a GraphQL input. */
export function bundledSamples(): Array<{ model: string; input: Sample }> {
  return readdirSync(MODELS_DIR, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => {
      const manifest = JSON.parse(readFileSync(join(MODELS_DIR, entry.name, 'manifest.json'), 'utf8')) as { name: string; input: { kind: string }; sample: unknown };
      const sample = manifest.sample;
      let input: Sample;
      if (Array.isArray(sample)) input = { features: sample as number[] };
      else if (typeof sample === 'string') input = { text: sample };
      else {
        const bytes = readFileSync(join(MODELS_DIR, entry.name, (sample as { file: string }).file)).toString('base64');
        input = manifest.input.kind === 'AUDIO' ? { audio: bytes } : { image: bytes };
      }
      return { model: manifest.name, input };
    });
}

async function ask(server: TestServer, model: string, input: Sample) {
  const res = await server.graphql(EVERY_FIELD, { model, input });
  assert.equal(res.errors, undefined, JSON.stringify(res.errors));
  const { cached, cacheSource, ...answer } = res.data.predict as Record<string, unknown>;
  return { cached, cacheSource, answer: JSON.stringify(answer) };
}

/**
 * Asks every bundled model for its sample: computed, from L1, then (a second server on the same
 * store, L1 off) from the store; the three JSON answers must be identical.
 */
export async function assertOneAnswerPerModel(env: Record<string, string>): Promise<string[]> {
  const samples = bundledSamples();
  const computed = new Map<string, string>();
  const first = await startTestServer({ ...env, WATCH_MODELS: 'false' });
  try {
    for (const { model, input } of samples) {
      const fresh = await ask(first, model, input);
      assert.equal(fresh.cacheSource, 'NONE', `${model}: the first answer is computed`);
      const fromL1 = await ask(first, model, input);
      assert.equal(fromL1.cacheSource, 'L1', `${model}: the second answer comes from L1`);
      assert.equal(fromL1.answer, fresh.answer, `${model}: the L1 answer is the computed one`);
      computed.set(model, fresh.answer);
    }
  } finally {
    await first.close();
  }
  // close() flushed the writes; a new server with no L1 must read each answer from the store.
  const second = await startTestServer({ ...env, WATCH_MODELS: 'false', L1_MAX_BYTES: '0' });
  try {
    for (const { model, input } of samples) {
      const stored = await ask(second, model, input);
      assert.equal(stored.cacheSource, 'STORE', `${model}: the answer comes from the store`);
      assert.equal(stored.answer, computed.get(model), `${model}: the stored answer is the computed one`);
    }
  } finally {
    await second.close();
  }
  return samples.map((s) => s.model);
}
