/**
 * The cache's value format: a model's answer to one input as compact little-endian binary
 * (float32 arrays stay float32 bytes, not JSON text of numbers). Every GraphQL field of a
 * prediction is derived from this on read, so one stored value answers any selection.
 *
 *   entry:  byte 0: format version (3)   32 bytes: SHA-256 of the input   then the result
 *   result: byte 0: kind   then the kind's fields
 *
 * The key holds only a prefix of the input's digest; the entry holds all of it, and a read
 * compares it, so two inputs whose key prefixes collide can never get each other's answer.
 *
 * Numbers are stored as float32, and the pipelines compute their scalars as float32 values
 * (Math.fround) for that reason: the answer served from the cache is the computed answer, to
 * the last digit.
 *
 * A stored value is untrusted input (anyone who can write to Redis can write one): decoding
 * checks every length against the bytes actually there before allocating, so a corrupt count
 * cannot make the server allocate gigabytes or loop for billions of steps.
 */
import type { ItemResult, NamedTensor, TextLineResult } from '../domain/types.ts';

// 3: the format version moved to the front of the entry, ahead of the digest.
const FORMAT_VERSION = 3;
const KIND_TAGS = { classification: 1, textRecognition: 2, speechDetection: 3, tensor: 4, documentText: 5 } as const;
export const DIGEST_BYTES = 32;

class Writer {
  private buffer = new ArrayBuffer(256);
  private view = new DataView(this.buffer);
  private offset = 0;

  private reserve(bytes: number): void {
    if (this.offset + bytes <= this.buffer.byteLength) return;
    const next = new ArrayBuffer(Math.max(this.buffer.byteLength * 2, this.offset + bytes));
    new Uint8Array(next).set(new Uint8Array(this.buffer, 0, this.offset));
    this.buffer = next;
    this.view = new DataView(next);
  }
  u8(v: number) {
    this.reserve(1);
    this.view.setUint8(this.offset, v);
    this.offset += 1;
  }
  u32(v: number) {
    this.reserve(4);
    this.view.setUint32(this.offset, v, true);
    this.offset += 4;
  }
  f32(v: number) {
    this.reserve(4);
    this.view.setFloat32(this.offset, v, true);
    this.offset += 4;
  }
  f32s(values: Float32Array) {
    this.u32(values.length);
    this.reserve(values.byteLength);
    for (let i = 0; i < values.length; i++) this.view.setFloat32(this.offset + i * 4, values[i]!, true);
    this.offset += values.byteLength;
  }
  raw(bytes: Uint8Array) {
    this.reserve(bytes.byteLength);
    new Uint8Array(this.buffer, this.offset, bytes.byteLength).set(bytes);
    this.offset += bytes.byteLength;
  }
  text(value: string) {
    const bytes = new TextEncoder().encode(value);
    this.u32(bytes.length);
    this.raw(bytes);
  }
  bytes(): Uint8Array {
    return new Uint8Array(this.buffer.slice(0, this.offset));
  }
}

/** Thrown by Reader on a value that cannot be what the writer wrote. */
class Malformed extends Error {}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

class Reader {
  private readonly view: DataView;
  private offset = 0;
  constructor(private readonly data: Uint8Array) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }
  private need(bytes: number, what: string): void {
    if (bytes > this.data.byteLength - this.offset) throw new Malformed(`${what} needs ${bytes} bytes, ${this.data.byteLength - this.offset} left`);
  }
  u8() {
    this.need(1, 'a byte');
    return this.view.getUint8(this.offset++);
  }
  u32() {
    this.need(4, 'a count');
    const v = this.view.getUint32(this.offset, true);
    this.offset += 4;
    return v;
  }
  f32() {
    this.need(4, 'a number');
    const v = this.view.getFloat32(this.offset, true);
    this.offset += 4;
    return v;
  }
  /** A count of items of at least `itemBytes` each, checked against the bytes left. */
  count(itemBytes: number, what: string): number {
    const n = this.u32();
    this.need(n * itemBytes, `${n} ${what}`);
    return n;
  }
  f32s(): Float32Array {
    const n = this.count(4, 'floats');
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.view.getFloat32(this.offset + i * 4, true);
    this.offset += n * 4;
    return out;
  }
  text(): string {
    const n = this.count(1, 'bytes of text');
    let s: string;
    try {
      s = UTF8.decode(this.data.subarray(this.offset, this.offset + n));
    } catch {
      throw new Malformed('text that is not UTF-8');
    }
    this.offset += n;
    return s;
  }
  get left(): number {
    return this.data.byteLength - this.offset;
  }
}

export function encodeResult(result: ItemResult): Uint8Array {
  const w = new Writer();
  writeResult(w, result);
  return w.bytes();
}

function writeResult(w: Writer, result: ItemResult): void {
  w.u8(KIND_TAGS[result.kind]);
  switch (result.kind) {
    case 'classification':
      w.u32(result.labelIndex);
      w.f32s(result.probabilities ?? new Float32Array(0));
      break;
    case 'textRecognition':
      w.f32(result.confidence);
      w.text(result.text);
      break;
    case 'speechDetection':
      w.f32(result.speechRatio);
      w.f32(result.durationSeconds);
      w.f32s(result.segments);
      break;
    case 'tensor':
      w.u32(result.outputs.length);
      for (const t of result.outputs) {
        w.text(t.name);
        w.u32(t.dims.length);
        t.dims.forEach((d) => w.u32(d));
        w.f32s(t.data);
      }
      break;
    case 'documentText':
      w.u32(result.detectedLines);
      w.u8(result.truncated ? 1 : 0);
      w.u32(result.lines.length);
      for (const line of result.lines) {
        w.f32(line.confidence);
        for (const v of [line.box.x, line.box.y, line.box.width, line.box.height]) w.u32(v);
        w.text(line.text);
      }
      break;
  }
}

function readResult(r: Reader): ItemResult {
  const tag = r.u8();
  switch (tag) {
    case KIND_TAGS.classification: {
      const labelIndex = r.u32();
      const probabilities = r.f32s();
      return probabilities.length > 0 ? { kind: 'classification', labelIndex, probabilities } : { kind: 'classification', labelIndex };
    }
    case KIND_TAGS.textRecognition: {
      const confidence = r.f32();
      return { kind: 'textRecognition', confidence, text: r.text() };
    }
    case KIND_TAGS.speechDetection: {
      const speechRatio = r.f32();
      const durationSeconds = r.f32();
      return { kind: 'speechDetection', speechRatio, durationSeconds, segments: r.f32s() };
    }
    case KIND_TAGS.tensor: {
      const outputs: NamedTensor[] = [];
      // Each output takes at least 12 bytes (name length, dims count, data count).
      for (let n = r.count(12, 'outputs'); n > 0; n--) {
        const name = r.text();
        const dims = Array.from({ length: r.count(4, 'dimensions') }, () => r.u32());
        outputs.push({ name, dims, data: r.f32s() });
      }
      return { kind: 'tensor', outputs };
    }
    case KIND_TAGS.documentText: {
      const detectedLines = r.u32();
      const truncated = r.u8();
      if (truncated > 1) throw new Malformed(`truncated flag ${truncated}`);
      const lines: TextLineResult[] = [];
      // Each line takes at least 24 bytes (confidence, box, text length).
      for (let n = r.count(24, 'lines'); n > 0; n--) {
        const confidence = r.f32();
        const [x, y, width, height] = [r.u32(), r.u32(), r.u32(), r.u32()] as [number, number, number, number];
        lines.push({ text: r.text(), confidence, box: { x, y, width, height } });
      }
      return { kind: 'documentText', lines, detectedLines, truncated: truncated === 1 };
    }
    default:
      throw new Malformed(`unknown kind tag ${tag}`);
  }
}

/** Decodes a result written by encodeResult; throws on anything else. */
export function decodeResult(bytes: Uint8Array): ItemResult {
  const r = new Reader(bytes);
  const result = readResult(r);
  if (r.left !== 0) throw new Malformed(`${r.left} bytes after the result`);
  return result;
}

export function encodeEntry(digest: Uint8Array, result: ItemResult): Uint8Array {
  if (digest.byteLength !== DIGEST_BYTES) throw new Error(`an input digest has ${DIGEST_BYTES} bytes, got ${digest.byteLength}`);
  const w = new Writer();
  w.u8(FORMAT_VERSION);
  w.raw(digest);
  writeResult(w, result);
  return w.bytes();
}

/**
 * What a stored entry turned out to be: the answer, another input's answer under a colliding
 * key prefix, or bytes that are not an answer at all (why, for the log).
 */
export type DecodedEntry = { ok: true; result: ItemResult } | { ok: false; problem: 'collision' } | { ok: false; problem: 'invalid'; reason: string };

/** Decodes the entry stored for the input whose SHA-256 is `digest`. */
export function decodeEntry(bytes: Uint8Array, digest: Uint8Array): DecodedEntry {
  if (bytes.byteLength < 1 + DIGEST_BYTES + 1) return { ok: false, problem: 'invalid', reason: `${bytes.byteLength} bytes is too short for an entry` };
  if (bytes[0] !== FORMAT_VERSION) return { ok: false, problem: 'invalid', reason: `format version ${bytes[0]}, expected ${FORMAT_VERSION}` };
  for (let i = 0; i < DIGEST_BYTES; i++) if (bytes[1 + i] !== digest[i]) return { ok: false, problem: 'collision' };
  try {
    return { ok: true, result: decodeResult(bytes.subarray(1 + DIGEST_BYTES)) };
  } catch (error) {
    if (error instanceof Malformed || error instanceof RangeError) return { ok: false, problem: 'invalid', reason: error.message };
    throw error;
  }
}
