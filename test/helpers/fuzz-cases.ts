/**
 * Malformed requests for the fuzz test, drawn from a seeded generator so a failure can be
 * replayed (FUZZ_SEED): random bytes, JSON of the wrong shape, token soup, deep nesting, wrong
 * types, huge and non-finite numbers, bad base64, truncated and corrupted PNGs, JPEGs and WAVs,
 * bad tensors, oversized batches, mutated valid documents, odd headers.
 */
import { readFileSync } from 'node:fs';
import { mulberry32, randomInt } from '../../training/random.ts';

export interface FuzzCase {
  kind: string;
  method: 'GET' | 'POST';
  /** Path and query string. */
  path: string;
  headers: Record<string, string>;
  body?: Uint8Array | string;
}

const PNG = new Uint8Array(readFileSync(new URL('../../models/digits/sample.png', import.meta.url)));
const LINE_PNG = new Uint8Array(readFileSync(new URL('../../models/ocr/sample.png', import.meta.url)));
const WAV = new Uint8Array(readFileSync(new URL('../../models/vad/sample.wav', import.meta.url)));

const TOKENS = ['{', '}', '(', ')', '[', ']', ':', '...', '@', '$', '!', '=', '|', '&', ',', 'query', 'mutation', 'subscription', 'fragment', 'on', 'predict', 'predictMany', 'models', 'model', 'name', 'input', 'inputs', 'features', 'text', 'image', 'audio', 'tensor', 'options', 'deadlineMs', '__schema', '__type', '__typename', 'Classification', '"iris"', '"digits"', '"x"', '""', '"""', '"\\u0000"', '1e309', '-0', '0x10', '9999999999999999999999', 'NaN', 'Infinity', 'null', 'true', '#', '\n', '@skip(if: true)', 'label', 'score', 'classes(top: -1)'];

const VALID_DOCUMENTS = [
  '{ predict(model: "iris", input: { features: [5.1, 3.5, 1.4, 0.2] }) { ... on Classification { label score classes(top: 3) { label score } } cacheSource } }',
  '{ predictMany(model: "spam", inputs: [{ text: "win money now" }, { text: "lunch at noon?" }]) { ... on Classification { label } } }',
  'query Q($i: String!) { predict(model: "digits", input: { image: $i }) { ... on Classification { label probabilities(encoding: BASE64_F32) } } }',
  '{ models { name version task input { kind features description } labels state loadTimeMs batching { maxBatchSize maxQueue } } }',
  '{ predict(model: "temperature", input: { tensor: [{ name: "celsius", dims: [1, 1], data: [20] }] }) { ... on TensorPrediction { outputs { name dims data } } } }',
];

export class FuzzCases {
  private readonly rand: () => number;
  constructor(seed: number) {
    this.rand = mulberry32(seed);
  }

  private int(n: number): number {
    return randomInt(this.rand, n);
  }
  private pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  private bytes(n: number): Uint8Array {
    return Uint8Array.from({ length: n }, () => this.int(256));
  }
  private base64(bytes: Uint8Array): string {
    return Buffer.from(bytes).toString('base64');
  }
  /** A copy of `bytes` with `flips` random bytes replaced. */
  private corrupt(bytes: Uint8Array, flips: number): Uint8Array {
    const copy = bytes.slice();
    for (let i = 0; i < flips; i++) copy[this.int(copy.length)] = this.int(256);
    return copy;
  }
  private truncate(bytes: Uint8Array): Uint8Array {
    return bytes.slice(0, this.int(bytes.length));
  }
  private randomString(max: number): string {
    const length = this.int(max);
    let s = '';
    for (let i = 0; i < length; i++) s += String.fromCharCode(this.pick([this.int(128), this.int(0xffff), 0, 0xd800 + this.int(0x800)]));
    return s;
  }
  private randomJson(depth: number): unknown {
    switch (depth <= 0 ? this.int(4) : this.int(7)) {
      case 0:
        return this.pick([0, -1, 1e308, -1e308, 5e-324, 2 ** 53 + 1, 3.14]);
      case 1:
        return this.randomString(40);
      case 2:
        return this.pick([true, false, null]);
      case 3:
        return this.pick(['', 'iris', 'digits', '{ models { name } }']);
      case 4:
      case 5:
        return Array.from({ length: this.int(5) }, () => this.randomJson(depth - 1));
      default:
        return Object.fromEntries(Array.from({ length: this.int(5) }, () => [this.pick(['query', 'variables', 'operationName', 'extensions', 'features', 'input', 'x']), this.randomJson(depth - 1)]));
    }
  }

  private post(kind: string, body: unknown, headers: Record<string, string> = {}): FuzzCase {
    return { kind, method: 'POST', path: '/graphql', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) };
  }

  private predict(model: string, input: unknown, selection = '... on Classification { label score }'): FuzzCase {
    return this.post(`input:${model}`, { query: `query ($input: PredictionInput!) { predict(model: "${model}", input: $input) { ${selection} } }`, variables: { input } });
  }

  private image(): unknown {
    const source = this.pick([PNG, LINE_PNG]);
    switch (this.int(9)) {
      case 0:
        return this.randomString(200); // not base64 at all
      case 1:
        return '';
      case 2:
        return this.base64(this.bytes(this.int(3000))); // base64 of noise
      case 3:
        return this.base64(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...this.bytes(this.int(500))])); // PNG signature, then noise
      case 4:
        return this.base64(this.truncate(source));
      case 5:
        return this.base64(this.corrupt(source, 1 + this.int(20)));
      case 6: {
        // A PNG whose header claims a huge image (IHDR width and height at bytes 16-23).
        const huge = source.slice();
        new DataView(huge.buffer).setUint32(16, 1 + this.int(2 ** 31 - 1));
        new DataView(huge.buffer).setUint32(20, 1 + this.int(2 ** 31 - 1));
        return this.base64(huge);
      }
      case 7:
        return this.base64(new Uint8Array([0xff, 0xd8, 0xff, 0xe0, ...this.bytes(this.int(2000))])); // JPEG marker, then noise
      default:
        return this.base64(source).slice(0, -1 - this.int(5)); // base64 with a bad length
    }
  }

  private wav(): unknown {
    const view = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    switch (this.int(8)) {
      case 0:
        return this.base64(this.truncate(WAV));
      case 1:
        return this.base64(this.corrupt(WAV.slice(0, 44 + this.int(2000)), 1 + this.int(8)));
      case 2: {
        const w = WAV.slice();
        view(w).setUint32(40, 0xffffffff, true); // data chunk claims 4 GB
        return this.base64(w);
      }
      case 3: {
        const w = WAV.slice();
        view(w).setUint16(20, this.pick([0, 2, 3, 6, 0xfffe]), true); // audio format
        return this.base64(w);
      }
      case 4: {
        const w = WAV.slice();
        view(w).setUint16(22, this.pick([0, 3, 255, 65535]), true); // channels
        view(w).setUint32(24, this.pick([0, 1, 4294967295]), true); // sample rate
        return this.base64(w);
      }
      case 5: {
        const w = WAV.slice();
        view(w).setUint16(34, this.pick([0, 8, 24, 32, 7]), true); // bits per sample
        return this.base64(w);
      }
      case 6:
        return this.base64(new Uint8Array([...new TextEncoder().encode('RIFF'), ...this.bytes(this.int(100))]));
      default:
        return this.randomString(100);
    }
  }

  private tensor(): unknown {
    switch (this.int(8)) {
      case 0:
        return [{ name: 'celsius', dims: [this.int(5), this.int(5)], data: [1, 2, 3] }]; // shape and data disagree
      case 1:
        return [{ name: 'celsius', dims: [-1, 1], data: [1] }];
      case 2:
        return [{ name: 'celsius', dims: [2 ** 31, 2 ** 31], data: [1] }]; // element count overflows
      case 3:
        return [{ name: 'celsius', dims: [1, 1], dataBase64: this.base64(this.bytes(1 + this.int(7))) }]; // not a whole float32
      case 4:
        return [{ name: 'celsius', dims: [1, 1], dataBase64: this.base64(new Uint8Array(new Float32Array([this.pick([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])]).buffer)) }];
      case 5:
        return [{ name: 'celsius', dims: [1, 1], data: [1], dataBase64: 'AACAPw==' }]; // both
      case 6:
        return [{ name: this.randomString(20), dims: [1, 1], data: [1] }, { name: 'celsius', dims: [1, 1], data: [2] }];
      default:
        return [{ name: 'celsius', dims: [20000, 1], data: Array.from({ length: 20000 }, () => 1) }]; // over maxElements
    }
  }

  next(): FuzzCase {
    switch (this.int(20)) {
      case 0:
        return { kind: 'bytes', method: 'POST', path: '/graphql', headers: { 'content-type': 'application/json' }, body: this.bytes(this.int(3000)) };
      case 1:
        return this.post('json-shape', this.randomJson(4));
      case 2:
        return this.post('token-soup', { query: Array.from({ length: 1 + this.int(200) }, () => this.pick(TOKENS)).join(' ') });
      case 3: {
        const depth = 1 + this.int(3000);
        const balanced = this.int(2) === 0;
        return this.post('deep-document', { query: `{ ${'models { versions '.repeat(depth)}name${balanced ? ' }'.repeat(depth * 2) : ''} }` });
      }
      case 4: {
        const depth = 1 + this.int(20000);
        const raw = `{"query":"query ($f: [Float!]!) { predict(model: \\"iris\\", input: { features: $f }) { __typename } }","variables":{"f":${'['.repeat(depth)}1${']'.repeat(depth)}}}`;
        return this.post('deep-json', raw);
      }
      case 5: {
        // Numbers JSON can write but float32 (or Float) cannot hold, written raw.
        const value = this.pick(['1e400', '-1e400', '1e39', '-3.5e38', '1e-50', '123456789012345678901234567890', '-0']);
        return this.post('huge-number', `{"query":"query ($f: [Float!]!) { predict(model: \\"iris\\", input: { features: $f }) { ... on Classification { label } } }","variables":{"f":[${value},1,1,1]}}`);
      }
      case 6:
        return this.post('literal-number', {
          query: `{ predict(model: "iris", input: { features: [${this.pick(['NaN', 'Infinity', '1e400', '"5.1"', 'true', 'null', '[1]', '{a: 1}'])}, 1, 1, 1] }, options: { deadlineMs: ${this.pick(['0', '-5', '1e12', '99999999999', '"x"'])} }) { ... on Classification { classes(top: ${this.pick(['0', '-1', '99999999999', '1e3', '411'])}) { label } } } }`,
        });
      case 7:
        return this.predict(this.pick(['iris', 'spam', 'digits', 'vad', 'temperature']), this.randomJson(3));
      case 8:
        return this.predict(this.pick(['digits', 'symbols']), { image: this.image() });
      case 9:
        return this.predict(this.pick(['ocr', 'ocr-page']), { image: this.image() }, '... on TextRecognition { text confidence } ... on DocumentText { text lines { text box { x y width height } } }');
      case 10:
        return this.predict('vad', { audio: this.wav() }, '... on SpeechDetection { segments { start end } }');
      case 11:
        return this.predict('temperature', { tensor: this.tensor() }, '... on TensorPrediction { outputs { name data } }');
      case 12:
        return this.predict(this.pick(['spam', 'prompt-injection']), { text: this.pick(['', this.randomString(300), 'x'.repeat(10_001 + this.int(50_000)), '\ud800\udfff\ud800', '\u0000'.repeat(100), '😀'.repeat(5000)]) });
      case 13: {
        const count = this.pick([0, 1, 10_001, 20_000]);
        return this.post('batch-size', { query: 'query ($i: [PredictionInput!]!) { predictMany(model: "iris", inputs: $i) { cached } }', variables: { i: Array.from({ length: count }, (_, k) => (k % 7 === 3 ? { features: [1, 2] } : { features: [k, 1, 1, 1] })) } });
      }
      case 14: {
        const doc = this.pick(VALID_DOCUMENTS).split('');
        for (let edits = 1 + this.int(6); edits > 0; edits--) {
          const at = this.int(doc.length);
          const op = this.int(3);
          if (op === 0) doc.splice(at, 1);
          else if (op === 1) doc.splice(at, 0, this.pick(TOKENS));
          else doc[at] = this.pick(TOKENS);
        }
        return this.post('mutated-document', { query: doc.join(''), variables: this.int(2) ? { i: this.base64(PNG) } : this.randomJson(2) });
      }
      case 15: {
        const query = encodeURIComponent(this.pick([...VALID_DOCUMENTS, this.randomString(100).replace(/[\ud800-\udfff]/g, '?'), 'mutation { clearCache { removed } }']));
        return { kind: 'get', method: 'GET', path: `/graphql?query=${query}&variables=${encodeURIComponent(this.pick(['{', 'null', '[]', '{"i":1}']))}`, headers: { 'apollo-require-preflight': 'true' } };
      }
      case 16: {
        const contentType = this.pick(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=utf-16', 'application/graphql', '']);
        return { kind: 'content-type', method: 'POST', path: '/graphql', headers: contentType ? { 'content-type': contentType } : {}, body: JSON.stringify({ query: '{ models { name } }' }) };
      }
      case 17:
        return { kind: 'content-encoding', method: 'POST', path: '/graphql', headers: { 'content-type': 'application/json', 'content-encoding': this.pick(['gzip', 'deflate', 'br', 'compress', 'x-bogus']) }, body: this.bytes(this.int(500)) };
      case 18:
        return this.post('apq', { query: this.int(2) ? undefined : '{ models { name } }', extensions: { persistedQuery: { version: this.pick([1, 2, '1', null]), sha256Hash: this.pick(['', 'zz', 'a'.repeat(64), this.randomString(64)]) } } });
      default:
        return this.post('operations', this.pick([[{ query: '{ models { name } }' }, { query: '{ models { name } }' }], { query: VALID_DOCUMENTS[0], operationName: this.randomString(10) }, { query: `${VALID_DOCUMENTS[0]} ${VALID_DOCUMENTS[3]}` }, { query: VALID_DOCUMENTS[0], variables: this.pick(['x', 1, [1]]) }]));
    }
  }
}
