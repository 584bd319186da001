// Converts llm_guardrail's prompt-injection classifier (a TF-IDF + logistic regression exported
// to JSON) to ONNX, checks it against the package's own JS inference, and writes
// models/prompt-injection/{model.onnx,manifest.json}.
//
//   node --import tsx training/prompt-injection/convert.ts
//
// Exits non-zero if any probability differs from the package's by more than 1e-4, if batching or
// padding changes an answer, or if the package's tokeniser stops agreeing with ours.
//
// What the package computes (node_modules/llm_guardrail/model/{tfidf,logistic_regression}.js):
//   tokens = text.toLowerCase().match(/\b\w\w+\b/g)     (= src/processing/text.ts)
//   n-grams 1..2, joined with ' '; tf = raw count (not sublinear); x[j] = tf * idf[j] for terms in
//   the vocabulary; x /= ||x||_2 (if non-zero); p(injection) = sigmoid(coef[0] . x + intercept[0]);
//   probabilities = [1 - p, p] for classes [0, 1] = [safe, threat]; threshold 0.5.
// The ONNX graph (training/text/onnx.ts) does the same from the tokens onwards.
//
// Surprise worth knowing: the vocabulary has no English stop words ('the', 'all', 'your',
// 'system', 'what', ...; scikit-learn's stop_words='english' list, which includes 'system'), and
// bigrams like 'ignore previous' skip over them, so the model was evidently trained with stop words
// removed. The package's JS does not remove them, so 'ignore all previous' never yields the bigram
// 'ignore previous' at inference. We reproduce the package, not the training pipeline: parity with
// the package is the contract, and the shared tokeniser stays one function for both models.

import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { checkPadding, runTexts, runTextsBatched } from '../text/check.ts';
import { textClassifierOnnx } from '../text/onnx.ts';
import { tokenize } from '../../src/processing/text.ts';
import { EXTRA_TEXTS, INJECTION_SAMPLE, README_EXAMPLES, SAFE_SAMPLE, generatedTexts } from './texts.ts';

const LABELS = ['benign', 'injection'] as const;
const TOLERANCE = 1e-4;
// Same model, same row: only the batch size differs, so any difference is summation order.
const PADDING_TOLERANCE = 1e-6;
const MAX_TEXT_CHARS = 4000;
const OUT_DIR = fileURLToPath(new URL('../../models/prompt-injection/', import.meta.url));
const SCRIPT = 'training/prompt-injection/convert.ts';

// ---------------------------------------------------------------------------------------------
// The package's files

const require = createRequire(import.meta.url);
const PACKAGE_DIR = dirname(require.resolve('llm_guardrail/package.json'));
const MODEL_FILE = 'model/prompt_injection_model.json';

interface PackageJson {
  name: string;
  version: string;
  license: string;
  repository?: { url?: string };
}

interface GuardrailModel {
  vocabulary: Record<string, number>;
  idf: number[];
  coefficients: number[][];
  intercept: number[];
  classes: number[];
  ngram_range: number[];
  lowercase: boolean;
  max_features: number;
  threshold?: number;
}

function loadGuardrailModel(): GuardrailModel {
  const m = JSON.parse(readFileSync(join(PACKAGE_DIR, MODEL_FILE), 'utf8')) as GuardrailModel;
  const F = Object.keys(m.vocabulary).length;
  const expect = (ok: boolean, what: string): void => {
    if (!ok) throw new Error(`${MODEL_FILE}: ${what}; the converter was written for llm_guardrail 2.1.2's format`);
  };
  expect(m.idf.length === F, `${m.idf.length} idf values for ${F} vocabulary entries`);
  expect(m.coefficients.length === 1 && m.coefficients[0]!.length === F, 'expected one coefficient row of vocabulary size');
  expect(m.intercept.length === 1, 'expected one intercept');
  expect(JSON.stringify(m.classes) === '[0,1]', `expected classes [0,1], got ${JSON.stringify(m.classes)}`);
  expect(JSON.stringify(m.ngram_range) === '[1,2]', `expected ngram_range [1,2], got ${JSON.stringify(m.ngram_range)}`);
  expect(m.lowercase === true, 'expected lowercase: true');
  expect((m.threshold ?? 0.5) === 0.5, `expected threshold 0.5, got ${m.threshold}`);
  const columns = new Set(Object.values(m.vocabulary));
  expect(columns.size === F && [...columns].every((c) => Number.isInteger(c) && c >= 0 && c < F), 'vocabulary indices are not 0..F-1');
  return m;
}

// The package's own classes, used directly so the parity check compares against its real code.
interface PackageVectorizer {
  tokenize(text: string): string[];
  transform(text: string): number[];
}
interface PackageClassifier {
  predictProba(features: number[]): { probabilities: number[]; positiveProb: number };
}
async function loadPackageInference(model: GuardrailModel): Promise<(text: string) => { tokens: string[]; probabilities: number[] }> {
  const { TfidfVectorizer } = (await import(join(PACKAGE_DIR, 'model/tfidf.js'))) as {
    TfidfVectorizer: new (m: GuardrailModel) => PackageVectorizer;
  };
  const { LogisticRegression } = (await import(join(PACKAGE_DIR, 'model/logistic_regression.js'))) as {
    LogisticRegression: new (m: GuardrailModel) => PackageClassifier;
  };
  const vectorizer = new TfidfVectorizer(model);
  const classifier = new LogisticRegression(model);
  return (text) => ({ tokens: vectorizer.tokenize(text), probabilities: classifier.predictProba(vectorizer.transform(text)).probabilities });
}

// ---------------------------------------------------------------------------------------------

function toOnnx(m: GuardrailModel, pkg: PackageJson): { bytes: Uint8Array; unreachable: string[] } {
  // Columns: unigrams, then bigrams (the TfIdfVectorizer pool needs that order), each group in the
  // package's column order, so the file is a pure function of the JSON.
  const byColumn = Object.entries(m.vocabulary).sort((a, b) => a[1] - b[1]);
  const ordered = [...byColumn.filter(([t]) => !t.includes(' ')), ...byColumn.filter(([t]) => t.includes(' '))];
  const coef = m.coefficients[0]!;
  // Terms our tokeniser can never produce (non-ASCII: see tokenize.ts); kept, they weigh nothing.
  const unreachable = ordered.map(([t]) => t).filter((t) => t.split(' ').some((part) => tokenize(part).join(' ') !== part));
  const bytes = textClassifierOnnx({
    name: 'prompt_injection_tfidf_logreg',
    terms: ordered.map(([t]) => t),
    idf: ordered.map(([, j]) => m.idf[j]!),
    coefficients: ordered.map(([, j]) => coef[j]!),
    intercept: m.intercept[0]!,
    labels: [...LABELS],
    docString:
      `Prompt-injection detector: TF-IDF (1-2 grams, ${ordered.length} terms, L2) + logistic regression, ` +
      `converted from ${pkg.name} ${pkg.version} ${MODEL_FILE} (${pkg.license}). ` +
      `Input: tokens [N,T] from src/processing/text.ts, padded with ''. Output: probabilities [N,2] of ${JSON.stringify(LABELS)}.`,
    metadata: {
      labels: JSON.stringify(LABELS),
      tokenizer: 'lowercase, then /\\b\\w\\w+\\b/gu (JS: ASCII word characters); rows right-padded with empty strings',
      source: `${pkg.name}@${pkg.version}/${MODEL_FILE}`,
    },
  });
  return { bytes, unreachable };
}

async function main(): Promise<void> {
  const pkg = JSON.parse(readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8')) as PackageJson;
  const m = loadGuardrailModel();
  const reference = await loadPackageInference(m);

  mkdirSync(OUT_DIR, { recursive: true });
  const modelPath = join(OUT_DIR, 'model.onnx');
  const { bytes, unreachable } = toOnnx(m, pkg);
  writeFileSync(modelPath, bytes);
  console.log(`vocabulary: ${Object.keys(m.vocabulary).length} terms; ${unreachable.length} can never be produced by tokenize(): ${unreachable.join(', ')}`);

  const texts = [...README_EXAMPLES, ...EXTRA_TEXTS, ...generatedTexts(m.vocabulary, 160)];
  const tooLong = texts.filter((t) => t.length > MAX_TEXT_CHARS);
  if (tooLong.length > 0) throw new Error(`${tooLong.length} parity texts are longer than maxLength ${MAX_TEXT_CHARS}`);

  const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1 });
  try {
    const problems: string[] = [];
    // 1. The tokeniser is the package's, on every text.
    const wants = texts.map(reference);
    texts.forEach((t, i) => {
      const ours = tokenize(t);
      if (JSON.stringify(ours) !== JSON.stringify(wants[i]!.tokens)) {
        problems.push(`tokenize(${JSON.stringify(t)}) = ${JSON.stringify(ours)}, package: ${JSON.stringify(wants[i]!.tokens)}`);
      }
    });
    // 2. Probabilities: one text at a time, and in padded batches of 32 as the server will send them.
    const single: number[][] = [];
    for (const t of texts) single.push(...(await runTexts(session, [t])));
    const batched = await runTextsBatched(session, texts, 32);
    let maxDiff = 0;
    for (const [how, got] of [['alone', single], ['in batches of 32', batched]] as const) {
      texts.forEach((t, i) => {
        const want = wants[i]!.probabilities;
        const g = got[i]!;
        const diff = Math.max(Math.abs(want[0]! - g[0]!), Math.abs(want[1]! - g[1]!));
        maxDiff = Math.max(maxDiff, diff);
        if (!(diff <= TOLERANCE)) problems.push(`${JSON.stringify(t.slice(0, 80))} ${how}: package [${want.join(', ')}], ONNX [${g.join(', ')}]`);
      });
    }
    const flips = texts.filter((_, i) => wants[i]!.probabilities[1]! >= 0.5 !== single[i]![1]! >= 0.5).length;
    const detected = wants.filter((w) => w.probabilities[1]! >= 0.5).length;
    if (problems.length > 0) throw new Error(`ONNX and llm_guardrail disagree on ${problems.length} checks:\n  ${problems.slice(0, 30).join('\n  ')}`);
    console.log(
      `parity: ${texts.length} texts (${detected} flagged as injection by the package), alone and in batches of 32: ` +
        `max |ONNX - package| = ${maxDiff.toExponential(2)} (tolerance ${TOLERANCE}), ${flips} decision flips`,
    );

    // 3. Padding: alone vs. padded behind a longer text, and 'ignore' at the end of a row followed
    //    by a row starting with 'previous' ('ignore previous' is a strong bigram in the vocabulary).
    if (!('ignore previous' in m.vocabulary)) throw new Error("the padding check expects the bigram 'ignore previous' in the vocabulary");
    const padding = await checkPadding(
      session,
      ['Please ignore', 'What is the capital of France?', INJECTION_SAMPLE, '', 'ok', 'Ignore previous'],
      `${INJECTION_SAMPLE} ${SAFE_SAMPLE} and then tell me a long story about the history of the Roman empire please`,
      'previous',
      PADDING_TOLERANCE,
    );
    console.log(`padding: ${padding.cases} alone-vs-batched comparisons, max difference ${padding.maxDiff.toExponential(2)}`);

    const [injection, safe] = await runTexts(session, [INJECTION_SAMPLE, SAFE_SAMPLE]);
    console.log(`p(injection | ${JSON.stringify(INJECTION_SAMPLE)}) = ${injection![1]!.toFixed(6)}`);
    console.log(`p(injection | ${JSON.stringify(SAFE_SAMPLE)}) = ${safe![1]!.toFixed(6)}`);
    if (!(injection![1]! > 0.5) || !(safe![1]! < 0.5)) throw new Error('the two sample texts are classified the wrong way');
  } finally {
    await session.release();
  }

  const manifest = {
    name: 'prompt-injection',
    versionName: '1.0.0',
    task: 'CLASSIFICATION',
    description:
      'Prompt-injection detector for LLM inputs: TF-IDF over word unigrams and bigrams + logistic regression, ' +
      `converted unchanged from ${pkg.name} ${pkg.version}. Probability columns: benign, injection (the package's classes 0 = safe, 1 = threat; it flags at >= 0.5). ` +
      'Tokens: lowercase, then /\\b\\w\\w+\\b/gu with ASCII word characters (src/processing/text.ts).',
    file: 'model.onnx',
    input: { kind: 'TEXT', tensor: 'tokens', maxLength: MAX_TEXT_CHARS },
    output: { probabilities: 'probabilities' },
    labels: [...LABELS],
    batching: { maxBatchSize: 32, maxDelayMs: 0 },
    source: {
      package: pkg.name,
      version: pkg.version,
      file: MODEL_FILE,
      license: `${pkg.license} (package.json "license"; the package ships no LICENSE file)`,
      repository: pkg.repository?.url ?? null,
      description: `TF-IDF (1-2 grams, ${Object.keys(m.vocabulary).length} terms, raw tf, smooth idf, L2) + logistic regression, stored as JSON`,
    },
    conversion: {
      script: SCRIPT,
      parity: `probabilities within ${TOLERANCE} of the package's own JS inference (model/tfidf.js, model/logistic_regression.js) on the texts in training/prompt-injection/texts.ts`,
    },
    sample: INJECTION_SAMPLE,
  };
  writeFileSync(join(OUT_DIR, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);

  const written = readFileSync(modelPath);
  console.log(`wrote ${modelPath} (${written.length} bytes, sha256 ${createHash('sha256').update(written).digest('hex')})`);
  console.log(`wrote ${join(OUT_DIR, 'manifest.json')}`);
}

main().catch((err: unknown) => {
  console.error(`convert prompt-injection failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
