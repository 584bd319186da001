// Helpers for writing ONNX models from TypeScript, on top of the protobuf classes in onnx-proto.
//
// onnx-proto knows the ONNX 1.10 schema (IR 8, opset 15, ai.onnx.ml 3), so it is for writing
// models this project trains, never for rewriting newer files: unknown fields would be dropped.
//
// Everything here is plain data in, bytes out, with no clock, randomness or host details, so that
// a training script run twice writes byte-identical files.

// onnx-proto is a protobufjs static module that assigns `module.exports.onnx` at run time. Node's
// CommonJS export detection cannot see it, so `import { onnx } from 'onnx-proto'` type-checks but
// fails to link at run time; the default import is the whole module.exports object.
import onnxProto from 'onnx-proto';
import type { onnx as Onnx } from 'onnx-proto';

export const { onnx } = onnxProto;
export type ModelProto = Onnx.IModelProto;
export type GraphProto = Onnx.IGraphProto;
export type NodeProto = Onnx.INodeProto;
export type TensorProto = Onnx.ITensorProto;
export type ValueInfoProto = Onnx.IValueInfoProto;
export type AttributeProto = Onnx.IAttributeProto;

/** ONNX element types, by the names used in the ONNX spec. */
export const DataType = onnx.TensorProto.DataType;
export type DataType = Onnx.TensorProto.DataType;

export const IR_VERSION = 8;
export const DEFAULT_OPSET = 15;
export const ML_DOMAIN = 'ai.onnx.ml';
export const ML_OPSET = 3;
export const PRODUCER_NAME = 'predictql';

const utf8 = new TextEncoder();

/** A dimension is a fixed size or a symbolic name (e.g. 'N' for the batch). */
export type Dim = number | string;

// ---------------------------------------------------------------------------------------------
// Tensors

function assertShape(name: string, dims: readonly number[], count: number): void {
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0) {
      throw new Error(`tensor '${name}': dims must be non-negative integers, got [${dims.join(', ')}]`);
    }
  }
  const expected = dims.reduce((a, b) => a * b, 1);
  if (expected !== count) {
    throw new Error(`tensor '${name}': dims [${dims.join(', ')}] hold ${expected} values, got ${count}`);
  }
}

// Numeric tensors go into raw_data rather than float_data/int64_data: it is the compact form
// ORT reads fastest, and for large weight matrices (the MNIST MLP) protobufjs encodes one byte
// copy instead of a packed varint/float per element. Written little-endian explicitly because
// the ONNX spec fixes that order whatever the host is.
function rawFloat32(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  return out;
}

function rawFloat64(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat64(i * 8, values[i]!, true);
  return out;
}

function rawInt64(name: string, values: ArrayLike<number | bigint>): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (typeof v === 'number' && !Number.isSafeInteger(v)) {
      throw new Error(`tensor '${name}': int64 value #${i} is not a safe integer: ${v}`);
    }
    view.setBigInt64(i * 8, BigInt(v), true);
  }
  return out;
}

function rawInt32(name: string, values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) {
      throw new Error(`tensor '${name}': int32 value #${i} is out of range: ${v}`);
    }
    view.setInt32(i * 4, v, true);
  }
  return out;
}

/** A float32 tensor (an initializer or a tensor attribute). Values are rounded to float32. */
export function floatTensor(name: string, dims: readonly number[], values: ArrayLike<number>): TensorProto {
  assertShape(name, dims, values.length);
  return { name, dataType: DataType.FLOAT, dims: [...dims], rawData: rawFloat32(values) };
}

/** A float64 tensor, e.g. for `nodes_values_as_tensor`-style attributes that need doubles. */
export function doubleTensor(name: string, dims: readonly number[], values: ArrayLike<number>): TensorProto {
  assertShape(name, dims, values.length);
  return { name, dataType: DataType.DOUBLE, dims: [...dims], rawData: rawFloat64(values) };
}

/** An int64 tensor (shapes for Reshape, indices for Gather, ...). */
export function int64Tensor(name: string, dims: readonly number[], values: ArrayLike<number | bigint>): TensorProto {
  assertShape(name, dims, values.length);
  return { name, dataType: DataType.INT64, dims: [...dims], rawData: rawInt64(name, values) };
}

/** An int32 tensor. */
export function int32Tensor(name: string, dims: readonly number[], values: ArrayLike<number>): TensorProto {
  assertShape(name, dims, values.length);
  return { name, dataType: DataType.INT32, dims: [...dims], rawData: rawInt32(name, values) };
}

/** A string tensor; ONNX has no raw form for strings, so they go into string_data as UTF-8. */
export function stringTensor(name: string, dims: readonly number[], values: readonly string[]): TensorProto {
  assertShape(name, dims, values.length);
  return { name, dataType: DataType.STRING, dims: [...dims], stringData: values.map((s) => utf8.encode(s)) };
}

/** A scalar (rank 0) tensor. */
export function scalarTensor(name: string, dataType: DataType, value: number | bigint | string): TensorProto {
  switch (dataType) {
    case DataType.FLOAT:
      return floatTensor(name, [], [Number(value)]);
    case DataType.DOUBLE:
      return doubleTensor(name, [], [Number(value)]);
    case DataType.INT64:
      return int64Tensor(name, [], [typeof value === 'string' ? BigInt(value) : value]);
    case DataType.INT32:
      return int32Tensor(name, [], [Number(value)]);
    case DataType.STRING:
      return stringTensor(name, [], [String(value)]);
    default:
      throw new Error(`scalarTensor '${name}': data type ${DataType[dataType]} is not supported here`);
  }
}

// ---------------------------------------------------------------------------------------------
// Graph inputs and outputs

/** A tensor graph input/output; string dims become symbolic (dim_param), e.g. ['N', 4]. */
export function tensorValueInfo(name: string, elemType: DataType, shape: readonly Dim[] | null, docString?: string): ValueInfoProto {
  const tensorType: Onnx.TypeProto.ITensor = { elemType };
  // A null shape means "rank unknown", which differs from [] (a scalar).
  if (shape !== null) {
    tensorType.shape = {
      dim: shape.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })),
    };
  }
  const info: ValueInfoProto = { name, type: { tensorType } };
  if (docString !== undefined) info.docString = docString;
  return info;
}

// ---------------------------------------------------------------------------------------------
// Attributes

// ONNX attributes are typed, and JS numbers cannot tell 1 (int) from 1.0 (float): an operator
// given a float where it expects an int is rejected by ORT at load time. So every attribute value
// names its type through one of these constructors.
export type AttrValue =
  | { readonly kind: 'int'; readonly value: number | bigint }
  | { readonly kind: 'ints'; readonly value: readonly (number | bigint)[] }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'floats'; readonly value: ArrayLike<number> }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'strings'; readonly value: readonly string[] }
  | { readonly kind: 'tensor'; readonly value: TensorProto };

// FLOAT/FLOATS attributes are float32 on the wire, so doubles are rounded when encoded: a trainer
// that compares against such values (tree thresholds) must round them with Math.fround itself.
export const attr = {
  int: (value: number | bigint): AttrValue => ({ kind: 'int', value }),
  ints: (value: readonly (number | bigint)[]): AttrValue => ({ kind: 'ints', value }),
  float: (value: number): AttrValue => ({ kind: 'float', value }),
  floats: (value: ArrayLike<number>): AttrValue => ({ kind: 'floats', value }),
  string: (value: string): AttrValue => ({ kind: 'string', value }),
  strings: (value: readonly string[]): AttrValue => ({ kind: 'strings', value }),
  tensor: (value: TensorProto): AttrValue => ({ kind: 'tensor', value }),
};

// protobufjs 6 writes int64 fields from JS numbers only when they are safe integers, and
// silently wraps anything else; bigints are narrowed after the same check.
function toInt64(name: string, v: number | bigint): number {
  const n = typeof v === 'bigint' ? Number(v) : v;
  if (!Number.isSafeInteger(n)) throw new Error(`attribute '${name}': ${String(v)} is not a safe int64 value`);
  return n;
}

function toFloat(name: string, v: number): number {
  if (typeof v !== 'number' || Number.isNaN(v)) throw new Error(`attribute '${name}': expected a number, got ${String(v)}`);
  return v;
}

const T = onnx.AttributeProto.AttributeType;

export function attribute(name: string, value: AttrValue): AttributeProto {
  switch (value.kind) {
    case 'int':
      return { name, type: T.INT, i: toInt64(name, value.value) };
    case 'ints':
      return { name, type: T.INTS, ints: value.value.map((v) => toInt64(name, v)) };
    case 'float':
      return { name, type: T.FLOAT, f: toFloat(name, value.value) };
    case 'floats':
      return { name, type: T.FLOATS, floats: Array.from(value.value, (v) => toFloat(name, v)) };
    case 'string':
      return { name, type: T.STRING, s: utf8.encode(value.value) };
    case 'strings':
      return { name, type: T.STRINGS, strings: value.value.map((s) => utf8.encode(s)) };
    case 'tensor':
      return { name, type: T.TENSOR, t: value.value };
  }
}

// ---------------------------------------------------------------------------------------------
// Nodes, graphs, models

export interface NodeOptions {
  /** Node name; optional in ONNX but it makes ORT's error messages point at the right node. */
  name?: string;
  /** Operator domain: '' (default ONNX) or ML_DOMAIN for the ONNX-ML operators. */
  domain?: string;
  attributes?: Readonly<Record<string, AttrValue>>;
  docString?: string;
}

/** One operator call. Attributes keep the order of the record's keys, so output is stable. */
export function node(opType: string, inputs: readonly string[], outputs: readonly string[], options: NodeOptions = {}): NodeProto {
  const n: NodeProto = {
    opType,
    input: [...inputs],
    output: [...outputs],
    attribute: Object.entries(options.attributes ?? {}).map(([k, v]) => attribute(k, v)),
  };
  if (options.name !== undefined) n.name = options.name;
  if (options.domain !== undefined && options.domain !== '') n.domain = options.domain;
  if (options.docString !== undefined) n.docString = options.docString;
  return n;
}

export interface GraphSpec {
  name: string;
  nodes: readonly NodeProto[];
  inputs: readonly ValueInfoProto[];
  outputs: readonly ValueInfoProto[];
  initializers?: readonly TensorProto[];
  docString?: string;
}

export function graph(spec: GraphSpec): GraphProto {
  const g: GraphProto = {
    name: spec.name,
    node: [...spec.nodes],
    input: [...spec.inputs],
    output: [...spec.outputs],
    initializer: [...(spec.initializers ?? [])],
  };
  if (spec.docString !== undefined) g.docString = spec.docString;
  return g;
}

export interface ModelSpec {
  graph: GraphProto;
  /** Opset per domain; defaults to { '': 15, 'ai.onnx.ml': 3 }, the newest onnx-proto knows. */
  opsets?: Readonly<Record<string, number>>;
  docString?: string;
  /** Stored as metadata_props; ORT exposes it as the session's custom metadata map. */
  metadata?: Readonly<Record<string, string>>;
  /** model_version (an int64 in ONNX). */
  modelVersion?: number;
  /** Left out unless given, so a dependency bump alone does not change the file's bytes. */
  producerVersion?: string;
}

export function model(spec: ModelSpec): ModelProto {
  const opsets = spec.opsets ?? { '': DEFAULT_OPSET, [ML_DOMAIN]: ML_OPSET };
  const m: ModelProto = {
    irVersion: IR_VERSION,
    producerName: PRODUCER_NAME,
    opsetImport: Object.entries(opsets).map(([domain, version]) => ({ domain, version })),
    graph: spec.graph,
  };
  if (spec.producerVersion !== undefined) m.producerVersion = spec.producerVersion;
  if (spec.modelVersion !== undefined) m.modelVersion = toInt64('model_version', spec.modelVersion);
  if (spec.docString !== undefined) m.docString = spec.docString;
  if (spec.metadata !== undefined) {
    m.metadataProps = Object.entries(spec.metadata).map(([key, value]) => ({ key, value }));
  }
  return m;
}

/** Serialises a model to the bytes of a .onnx file. */
export function serialize(m: ModelProto): Uint8Array {
  // verify() catches wrong JS types (a string where an int64 goes, ...) that encode() would
  // otherwise write as garbage without complaint.
  const problem = onnx.ModelProto.verify(m);
  if (problem !== null) throw new Error(`invalid ModelProto: ${problem}`);
  return onnx.ModelProto.encode(m).finish();
}

/** Parses .onnx bytes back, e.g. for a test that inspects what a script wrote. */
export function deserialize(bytes: Uint8Array): Onnx.ModelProto {
  return onnx.ModelProto.decode(bytes);
}
