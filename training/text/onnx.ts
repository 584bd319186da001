// The ONNX graph shared by the project's text classifiers: TF-IDF over unigrams and bigrams of
// the JS tokens, L2 normalisation, and a binary logistic regression.
//
//   tokens  string [N, T]  (see tokenize.ts: rows right-padded with '')
//     -> TfIdfVectorizer (ai.onnx, mode TFIDF, 1..2-grams, no skips)   float [N, F]
//     -> Normalizer (ai.onnx.ml, L2)                                   float [N, F]
//     -> LinearClassifier (ai.onnx.ml, one coefficient row, LOGISTIC)  probabilities float [N, 2]
//
// Behaviours of onnxruntime-node 1.30 this relies on (checked by the parity scripts, which run
// the written files):
// - TfIdfVectorizer counts n-grams within a row only; '' matches no pool entry, so padding adds
//   nothing. `weights[i]` belongs to the i-th n-gram of the pool (not to output column i): with
//   ngram_indexes = 0..F-1, as written here, the two are the same.
// - Normalizer L2 leaves an all-zero row (no known token) at zero instead of dividing by 0, so
//   such a row scores sigmoid(intercept), as the reference implementations do.
// - LinearClassifier with one coefficient row, two class labels and post_transform LOGISTIC
//   outputs [1 - p, p] with p = sigmoid(w.x + b): two columns summing to 1 (with two rows,
//   LOGISTIC would squash each column on its own and they would not sum to 1). No ZipMap.

import { DataType, ML_DOMAIN, attr, graph, model, node, serialize, tensorValueInfo } from '../onnx/builder.ts';
import { TOKENS_INPUT } from '../../src/processing/text.ts';

export const PROBABILITIES_OUTPUT = 'probabilities';

export interface TextClassifierSpec {
  /** Graph name, e.g. 'spam_tfidf_logreg'. */
  name: string;
  /**
   * Feature columns in order: each term is one token or two tokens joined by a single space
   * (the scikit-learn / llm_guardrail vocabulary form). All unigrams must come before all bigrams,
   * as the TfIdfVectorizer pool requires.
   */
  terms: readonly string[];
  /** Inverse document frequency of each term (TF-IDF = raw count x idf). */
  idf: ArrayLike<number>;
  /** Logistic-regression weight of each term, for the positive class (labels[1]). */
  coefficients: ArrayLike<number>;
  intercept: number;
  /** [negative, positive]: the order of the two probability columns. */
  labels: readonly [string, string];
  docString: string;
  metadata?: Readonly<Record<string, string>>;
}

/** Builds and serialises the graph. Deterministic: the same spec gives the same bytes. */
export function textClassifierOnnx(spec: TextClassifierSpec): Uint8Array {
  const F = spec.terms.length;
  if (spec.idf.length !== F || spec.coefficients.length !== F) {
    throw new Error(`${spec.name}: ${F} terms but ${spec.idf.length} idf values and ${spec.coefficients.length} coefficients`);
  }
  const pool: string[] = [];
  let unigrams = 0;
  let seenBigram = false;
  const seen = new Set<string>();
  spec.terms.forEach((term, i) => {
    if (seen.has(term)) throw new Error(`${spec.name}: term #${i} '${term}' appears twice`);
    seen.add(term);
    const parts = term.split(' ');
    if (parts.length < 1 || parts.length > 2 || parts.some((p) => p === '')) {
      throw new Error(`${spec.name}: term #${i} '${term}' is not one token or two space-separated tokens`);
    }
    if (parts.length === 1) {
      if (seenBigram) throw new Error(`${spec.name}: unigram '${term}' (#${i}) comes after a bigram`);
      unigrams++;
    } else {
      seenBigram = true;
    }
    pool.push(...parts);
  });
  for (const [what, values] of [['idf', spec.idf], ['coefficients', spec.coefficients]] as const) {
    for (let i = 0; i < F; i++) {
      if (!Number.isFinite(values[i])) throw new Error(`${spec.name}: ${what}[${i}] is not finite: ${values[i]}`);
    }
  }
  if (!Number.isFinite(spec.intercept)) throw new Error(`${spec.name}: intercept is not finite`);

  const tfidf = node('TfIdfVectorizer', [TOKENS_INPUT], ['tfidf'], {
    name: 'tfidf',
    attributes: {
      max_gram_length: attr.int(2),
      max_skip_count: attr.int(0),
      min_gram_length: attr.int(1),
      mode: attr.string('TFIDF'),
      // Offsets into the pool where the 1-grams and the 2-grams start.
      ngram_counts: attr.ints([0, unigrams]),
      ngram_indexes: attr.ints(Array.from({ length: F }, (_, i) => i)),
      pool_strings: attr.strings(pool),
      weights: attr.floats(spec.idf),
    },
  });
  const normalizer = node('Normalizer', ['tfidf'], ['tfidf_l2'], {
    name: 'l2_normalize',
    domain: ML_DOMAIN,
    attributes: { norm: attr.string('L2') },
  });
  const classifier = node('LinearClassifier', ['tfidf_l2'], ['label', PROBABILITIES_OUTPUT], {
    name: 'logistic_regression',
    domain: ML_DOMAIN,
    attributes: {
      classlabels_ints: attr.ints([0, 1]),
      coefficients: attr.floats(spec.coefficients),
      intercepts: attr.floats([spec.intercept]),
      post_transform: attr.string('LOGISTIC'),
    },
  });

  return serialize(
    model({
      docString: spec.docString,
      ...(spec.metadata !== undefined ? { metadata: spec.metadata } : {}),
      graph: graph({
        name: spec.name,
        nodes: [tfidf, normalizer, classifier],
        inputs: [
          tensorValueInfo(
            TOKENS_INPUT,
            DataType.STRING,
            ['N', 'T'],
            "string [N,T]: tokenize() of each text (src/processing/text.ts), rows right-padded with ''",
          ),
        ],
        outputs: [
          tensorValueInfo(
            PROBABILITIES_OUTPUT,
            DataType.FLOAT,
            ['N', 2],
            `float32 [N,2]: probabilities of ${JSON.stringify(spec.labels)}, summing to 1`,
          ),
        ],
      }),
    }),
  );
}
