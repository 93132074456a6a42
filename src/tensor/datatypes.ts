/**
 * The V2 (Open Inference Protocol) tensor datatypes and how each one is held in memory.
 * One table, so codecs and runtimes never disagree on a type.
 */
export const V2_DATATYPES = [
  'BOOL', 'INT8', 'INT16', 'INT32', 'INT64', 'UINT8', 'UINT16', 'UINT32', 'UINT64',
  'FP16', 'FP32', 'FP64', 'BYTES',
] as const;

export type Datatype = (typeof V2_DATATYPES)[number];

/** In-memory data of a tensor, flat and row-major. FP16 holds IEEE half bit patterns; BOOL holds 0/1 bytes. */
export type TensorData =
  | Uint8Array | Int8Array | Int16Array | Int32Array | BigInt64Array
  | Uint16Array | Uint32Array | BigUint64Array | Float32Array | Float64Array
  | string[];

type TypedArrayCtor =
  | Uint8ArrayConstructor | Int8ArrayConstructor | Int16ArrayConstructor | Int32ArrayConstructor
  | BigInt64ArrayConstructor | Uint16ArrayConstructor | Uint32ArrayConstructor | BigUint64ArrayConstructor
  | Float32ArrayConstructor | Float64ArrayConstructor;

export interface DatatypeInfo {
  /** Bytes per element; 0 for BYTES, whose elements vary in length. */
  readonly byteSize: number;
  /** Typed array that holds the data; undefined for BYTES (an array of strings). */
  readonly array?: TypedArrayCtor;
  /** Integer range for integer types that fit in a double, checked when values arrive as JSON numbers. */
  readonly min?: number;
  readonly max?: number;
  readonly kind: 'bool' | 'int' | 'bigint' | 'float' | 'fp16' | 'bytes';
}

export const DATATYPES: Readonly<Record<Datatype, DatatypeInfo>> = {
  BOOL: { byteSize: 1, array: Uint8Array, kind: 'bool' },
  INT8: { byteSize: 1, array: Int8Array, kind: 'int', min: -128, max: 127 },
  INT16: { byteSize: 2, array: Int16Array, kind: 'int', min: -32768, max: 32767 },
  INT32: { byteSize: 4, array: Int32Array, kind: 'int', min: -2147483648, max: 2147483647 },
  INT64: { byteSize: 8, array: BigInt64Array, kind: 'bigint', min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER },
  UINT8: { byteSize: 1, array: Uint8Array, kind: 'int', min: 0, max: 255 },
  UINT16: { byteSize: 2, array: Uint16Array, kind: 'int', min: 0, max: 65535 },
  UINT32: { byteSize: 4, array: Uint32Array, kind: 'int', min: 0, max: 4294967295 },
  UINT64: { byteSize: 8, array: BigUint64Array, kind: 'bigint', min: 0, max: Number.MAX_SAFE_INTEGER },
  FP16: { byteSize: 2, array: Uint16Array, kind: 'fp16' },
  FP32: { byteSize: 4, array: Float32Array, kind: 'float' },
  FP64: { byteSize: 8, array: Float64Array, kind: 'float' },
  BYTES: { byteSize: 0, kind: 'bytes' },
};

const DATATYPE_SET: ReadonlySet<string> = new Set(V2_DATATYPES);

export function isDatatype(s: unknown): s is Datatype {
  return typeof s === 'string' && DATATYPE_SET.has(s);
}
