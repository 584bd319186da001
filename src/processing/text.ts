// The tokeniser shared by the project's text classifiers (spam, prompt-injection), and the
// contract for the string tensor they take.
//
// Tokenisation happens in JS, before ONNX, because ONNX has no regex tokeniser that ORT runs on a
// batch ([N, T] input). Both models were built for exactly this function: change it and both
// must be re-exported (training/spam/train.ts, training/prompt-injection/convert.ts), or they
// silently lose accuracy.
//
// tokenize(text) = text.toLowerCase(), then every match of /\b\w\w+\b/gu, in order.
//
// This is scikit-learn's default token_pattern (r"(?u)\b\w\w+\b") applied with JS semantics, and
// it is character for character what llm_guardrail 2.1.2's own inference code does
// (model/tfidf.js: `text.toLowerCase().match(/\b\w\w+\b/g)`), which the prompt-injection ONNX
// model must match. Unicode handling, decided and pinned here:
//
// - Lowercasing is String.prototype.toLowerCase: full Unicode, locale-independent (so 'İ' becomes
//   'i' + U+0307, and the Kelvin sign U+212A becomes an ASCII 'k').
// - `\w` and `\b` are ASCII-only in JS, with or without the `u` flag (only `u` + `i` together
//   widen them, and `i` is not used): a word character is [A-Za-z0-9_]. Every other character,
//   accented and non-Latin letters included, separates tokens. So 'café' -> ['caf'],
//   'naïve' -> ['na', 've'], 'für' -> [] (single letters are dropped), CJK text -> [], and
//   full-width 'ｉｇｎｏｒｅ' -> []. Python's `\w` is Unicode-aware, so scikit-learn itself would keep
//   'café'; the llm_guardrail vocabulary has 3 such entries ('für', 'façade', 'möchte') that
//   neither its JS code nor this function can ever produce. No Unicode normalisation (NFC/NFKC)
//   is applied, again to match llm_guardrail's behaviour exactly.
// - The `u` flag makes the regex iterate by code point; with this ASCII-only pattern that changes
//   no match, it only keeps lone surrogates from being split oddly.
// - Stop words are not removed (llm_guardrail's JS does not remove them either; see
//   training/prompt-injection/convert.ts for why that matters for that model).
//
// Every token therefore has at least two ASCII word characters and is never the empty string,
// which is what makes '' a safe padding value below.

/** The token pattern; global, so use it only through String.prototype.match/matchAll. */
export const TOKEN_PATTERN = /\b\w\w+\b/gu;

/** Lowercases `text` and returns its tokens in order (possibly none). */
export function tokenize(text: string): string[] {
  return text.toLowerCase().match(TOKEN_PATTERN) ?? [];
}

/** The value rows are right-padded with. No token is ever '', and no vocabulary entry contains it. */
export const PAD_TOKEN = '';

/** The ONNX graph input name of both text models. */
export const TOKENS_INPUT = 'tokens';

/**
 * Lays out token lists as the row-major data of the string tensor `tokens` [N, T]: T is the
 * longest list's length, at least 1 (ORT rejects a zero-sized dimension here), and shorter rows
 * are right-padded with PAD_TOKEN. Padding never changes a row's answer: the models' n-grams are
 * counted within a row, and an n-gram containing '' matches nothing.
 */
export function padTokens(rows: readonly (readonly string[])[]): { data: string[]; dims: [number, number] } {
  const width = Math.max(1, ...rows.map((r) => r.length));
  const data: string[] = [];
  for (const row of rows) {
    for (let i = 0; i < width; i++) data.push(row[i] ?? PAD_TOKEN);
  }
  return { data, dims: [rows.length, width] };
}
