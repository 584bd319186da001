// Runs a written text classifier in onnxruntime-node the way the server will feed it, and checks
// that batching and padding do not change any answer.

import * as ort from 'onnxruntime-node';
import { PROBABILITIES_OUTPUT } from './onnx.ts';
import { TOKENS_INPUT, padTokens, tokenize } from '../../src/processing/text.ts';

/** Probabilities [N][2] for `texts`, run as one padded batch. */
export async function runTexts(session: ort.InferenceSession, texts: readonly string[]): Promise<number[][]> {
  return runTokens(session, texts.map(tokenize));
}

/** Probabilities [N][2] for pre-tokenised rows, run as one padded batch. */
export async function runTokens(session: ort.InferenceSession, rows: readonly (readonly string[])[]): Promise<number[][]> {
  const { data, dims } = padTokens(rows);
  const out = await session.run({ [TOKENS_INPUT]: new ort.Tensor('string', data, dims) });
  const probs = out[PROBABILITIES_OUTPUT];
  if (probs === undefined || !(probs.data instanceof Float32Array)) {
    throw new Error(`expected a float32 '${PROBABILITIES_OUTPUT}' output, got: ${Object.keys(out).join(', ')}`);
  }
  if (probs.dims.length !== 2 || probs.dims[0] !== rows.length || probs.dims[1] !== 2) {
    throw new Error(`'${PROBABILITIES_OUTPUT}' has dims [${probs.dims.join(', ')}], expected [${rows.length}, 2]`);
  }
  const p = probs.data;
  return rows.map((_, i) => [p[2 * i]!, p[2 * i + 1]!]);
}

/** Runs `texts` in batches of `batchSize` (the last one may be smaller). */
export async function runTextsBatched(session: ort.InferenceSession, texts: readonly string[], batchSize: number): Promise<number[][]> {
  const out: number[][] = [];
  for (let i = 0; i < texts.length; i += batchSize) out.push(...(await runTexts(session, texts.slice(i, i + batchSize))));
  return out;
}

export interface PaddingReport {
  cases: number;
  /** Largest |alone - batched| over all probabilities compared. */
  maxDiff: number;
}

/**
 * For every text in `texts`: its probabilities alone ([1, T], no padding) must equal those it gets
 * (a) padded in a batch behind `longText`, and (b) as an unpadded row followed by a row that starts
 * with `nextRowFirstToken` (so a bigram leaking across rows of the flat [N, T] buffer would show).
 * `tolerance` allows for kernels that sum in a different order at another batch size.
 */
export async function checkPadding(
  session: ort.InferenceSession,
  texts: readonly string[],
  longText: string,
  nextRowFirstToken: string,
  tolerance: number,
): Promise<PaddingReport> {
  const longTokens = tokenize(longText);
  let maxDiff = 0;
  let cases = 0;
  const problems: string[] = [];
  for (const text of texts) {
    const tokens = tokenize(text);
    if (tokens.length >= longTokens.length) throw new Error(`padding check: '${text}' is not shorter than the long text`);
    const [alone] = await runTokens(session, [tokens]);
    const padded = await runTokens(session, [longTokens, tokens, []]);
    const unpaddedThenNext = await runTokens(session, [tokens, [nextRowFirstToken, ...tokens]]);
    for (const [how, got] of [
      ['padded behind a longer text', padded[1]],
      ['followed by a row starting with ' + JSON.stringify(nextRowFirstToken), unpaddedThenNext[0]],
    ] as const) {
      cases++;
      const diff = Math.max(Math.abs(alone![0]! - got![0]!), Math.abs(alone![1]! - got![1]!));
      maxDiff = Math.max(maxDiff, diff);
      if (!(diff <= tolerance)) problems.push(`${JSON.stringify(text)} ${how}: alone [${alone!.join(', ')}], batched [${got!.join(', ')}]`);
    }
  }
  if (problems.length > 0) throw new Error(`padding changed ${problems.length} answers:\n  ${problems.join('\n  ')}`);
  return { cases, maxDiff };
}
