/**
 * Float arrays on the wire: JSON numbers by default, or base64 of little-endian float32 when a
 * client asks for `encoding: BASE64_F32`. Base64 float32 is about a third the size of JSON text
 * for model outputs (8 bytes of text per value shrink to 5.3) and decodes exactly, with no
 * rounding through decimal text. (Tensor inputs' `dataBase64` is decoded by
 * src/processing/base64.ts, with the other input checks.)
 */
import { GraphQLScalarType, Kind } from 'graphql';

/** How float arrays in a response are written (GraphQL `FloatEncoding`). */
export type FloatEncoding = 'JSON' | 'BASE64_F32';

const LITTLE_ENDIAN = new Uint8Array(Float32Array.of(1).buffer)[3] === 0x3f;

export function encodeFloats(values: Float32Array, encoding: FloatEncoding | null | undefined): number[] | string {
  if (encoding !== 'BASE64_F32') return Array.from(values);
  if (LITTLE_ENDIAN) return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');
  const bytes = Buffer.alloc(values.byteLength);
  values.forEach((v, i) => bytes.writeFloatLE(v, i * 4));
  return bytes.toString('base64');
}

export const FloatData = new GraphQLScalarType({
  name: 'FloatData',
  description: 'Float values: a JSON list of numbers, or a base64 string of little-endian float32 (encoding BASE64_F32).',
  serialize: (value) => {
    if (typeof value === 'string' || (Array.isArray(value) && value.every((v) => typeof v === 'number'))) return value;
    throw new TypeError('FloatData holds a list of numbers or a base64 string');
  },
  parseValue: () => {
    throw new TypeError('FloatData is an output type');
  },
  parseLiteral: (ast) => {
    throw new TypeError(`FloatData is an output type (got a ${ast.kind === Kind.STRING ? 'string' : ast.kind})`);
  },
});
