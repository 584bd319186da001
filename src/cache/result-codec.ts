/**
 * The cache's value format: a model's answer to one input as compact little-endian binary
 * (float32 arrays stay float32 bytes, not JSON text of numbers). Every GraphQL field of a
 * prediction is derived from this on read, so one stored value answers any selection.
 *
 *   entry:  32 bytes: SHA-256 of the input   then the result
 *   result: byte 0: format version (2)   byte 1: kind   then the kind's fields
 *
 * The key holds only a prefix of the input's digest; the entry holds all of it, and a read
 * compares it, so two inputs whose key prefixes collide can never get each other's answer.
 */
import type { ItemResult, NamedTensor } from '../domain/types.ts';

// 2: classifications carry their label index, and probabilities only when they were computed.
const FORMAT_VERSION = 2;
const KIND_TAGS = { classification: 1, textRecognition: 2, speechDetection: 3, tensor: 4 } as const;

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
  text(value: string) {
    const bytes = new TextEncoder().encode(value);
    this.u32(bytes.length);
    this.reserve(bytes.length);
    new Uint8Array(this.buffer, this.offset, bytes.length).set(bytes);
    this.offset += bytes.length;
  }
  bytes(): Uint8Array {
    return new Uint8Array(this.buffer.slice(0, this.offset));
  }
}

class Reader {
  private readonly view: DataView;
  private offset = 0;
  constructor(private readonly data: Uint8Array) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }
  u8() {
    return this.view.getUint8(this.offset++);
  }
  u32() {
    const v = this.view.getUint32(this.offset, true);
    this.offset += 4;
    return v;
  }
  f32() {
    const v = this.view.getFloat32(this.offset, true);
    this.offset += 4;
    return v;
  }
  f32s(): Float32Array {
    const n = this.u32();
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.view.getFloat32(this.offset + i * 4, true);
    this.offset += n * 4;
    return out;
  }
  text(): string {
    const n = this.u32();
    const s = new TextDecoder().decode(this.data.subarray(this.offset, this.offset + n));
    this.offset += n;
    return s;
  }
  get done() {
    return this.offset === this.data.byteLength;
  }
}

export function encodeResult(result: ItemResult): Uint8Array {
  const w = new Writer();
  w.u8(FORMAT_VERSION);
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
  }
  return w.bytes();
}

/** Decodes a stored value; undefined for anything malformed or of another format version. */
export function decodeResult(bytes: Uint8Array): ItemResult | undefined {
  try {
    const r = new Reader(bytes);
    if (r.u8() !== FORMAT_VERSION) return undefined;
    let result: ItemResult;
    switch (r.u8()) {
      case KIND_TAGS.classification: {
        const labelIndex = r.u32();
        const probabilities = r.f32s();
        result = probabilities.length > 0 ? { kind: 'classification', labelIndex, probabilities } : { kind: 'classification', labelIndex };
        break;
      }
      case KIND_TAGS.textRecognition: {
        const confidence = r.f32();
        result = { kind: 'textRecognition', confidence, text: r.text() };
        break;
      }
      case KIND_TAGS.speechDetection: {
        const speechRatio = r.f32();
        const durationSeconds = r.f32();
        result = { kind: 'speechDetection', speechRatio, durationSeconds, segments: r.f32s() };
        break;
      }
      case KIND_TAGS.tensor: {
        const outputs: NamedTensor[] = [];
        for (let n = r.u32(); n > 0; n--) {
          const name = r.text();
          const dims = Array.from({ length: r.u32() }, () => r.u32());
          outputs.push({ name, dims, data: r.f32s() });
        }
        result = { kind: 'tensor', outputs };
        break;
      }
      default:
        return undefined;
    }
    return r.done ? result : undefined;
  } catch {
    return undefined;
  }
}

export const DIGEST_BYTES = 32;

export function encodeEntry(digest: Uint8Array, result: ItemResult): Uint8Array {
  if (digest.byteLength !== DIGEST_BYTES) throw new Error(`an input digest has ${DIGEST_BYTES} bytes, got ${digest.byteLength}`);
  const body = encodeResult(result);
  const entry = new Uint8Array(DIGEST_BYTES + body.byteLength);
  entry.set(digest, 0);
  entry.set(body, DIGEST_BYTES);
  return entry;
}

/** The entry's result if its stored digest is `digest`; 'collision' if another input's; undefined if malformed. */
export function decodeEntry(bytes: Uint8Array, digest: Uint8Array): ItemResult | 'collision' | undefined {
  if (bytes.byteLength <= DIGEST_BYTES) return undefined;
  for (let i = 0; i < DIGEST_BYTES; i++) if (bytes[i] !== digest[i]) return 'collision';
  return decodeResult(bytes.subarray(DIGEST_BYTES));
}
