/**
 * Tensor data <-> JSON, as the V2 REST protocol carries it: `data` is a flat or nested array in row-major order.
 * Decoding checks every element against the datatype, so a bad value is reported by input name and position
 * rather than turning into NaN or a runtime crash further down.
 */
import { invalid } from '../errors.js';
import { DATATYPES, type Datatype, type TensorData } from './datatypes.js';
import { fromHalfBits, toHalfBits } from './fp16.js';
import { markOwned } from './transferable.js';
import { newTypedArray } from './small-arrays.js';

/**
 * Checks nested data against the shape it claims (each array at depth d holds shape[d] entries, values only at the
 * innermost level) while appending its values to `out` in row-major order. Ragged data (`[[1, 2, 3], [4, 5, 6, 7, 8]]`
 * for shape [2, 4]) has the right number of values in all, which a count alone would let through.
 */
function flattenAs(value: readonly unknown[], shape: readonly number[], depth: number, at: string, what: string, out: unknown[]): void {
  if (value.length !== shape[depth]) {
    throw invalid(`${what}: data${at} holds ${value.length} value${value.length === 1 ? '' : 's'}, but the shape [${shape.join(',')}] says ${shape[depth]} (nested data must match the shape, or be flat)`);
  }
  const inner = depth + 1 < shape.length;
  for (let i = 0; i < value.length; i++) {
    const v = value[i];
    if (inner) {
      if (!Array.isArray(v)) throw invalid(`${what}: data${at}[${i}] is ${describe(v)}, expected an array of ${shape[depth + 1]} (nested data must match the shape, or be flat)`);
      flattenAs(v, shape, depth + 1, `${at}[${i}]`, what, out);
    } else if (Array.isArray(v)) {
      throw invalid(`${what}: data${at}[${i}] is an array, but the shape [${shape.join(',')}] has no more dimensions (nested data must match the shape, or be flat)`);
    } else out.push(v);
  }
}

/**
 * The values of `data` in row-major order: flat data as it is (the common case: no copy), nested data checked
 * against `shape` (see flattenAs). `shape` undefined: nested data is flattened unchecked (clients building requests).
 */
export function flatten(data: readonly unknown[], shape?: readonly number[], what = 'tensor'): readonly unknown[] {
  for (const v of data) {
    if (Array.isArray(v)) {
      const out: unknown[] = [];
      if (shape && shape.length === 0) throw invalid(`${what}: the shape [] is a scalar, so data must be flat ([value]), not nested`);
      if (shape) flattenAs(data, shape, 0, '', what, out);
      else flattenAny(data, out);
      return out;
    }
  }
  return data;
}

function flattenAny(value: readonly unknown[], out: unknown[]): void {
  for (const v of value) {
    if (Array.isArray(v)) flattenAny(v, out);
    else out.push(v);
  }
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return String(v);
}

/** The largest finite FP32, and the magnitude from which a double rounds to FP32 infinity (halfway to 2^128). */
const FP32_MAX = 3.4028234663852886e38;
const FP32_LIMIT = 3.4028235677973366e38;
/** The same for FP16: 65504, and 65520 (halfway to 2^16), from which it rounds to infinity. */
const FP16_MAX = 65504;
const FP16_LIMIT = 65520;

function badElement(what: string, i: number, v: unknown, expected: string): never {
  throw invalid(`${what}: element ${i} is ${describe(v)}, expected ${expected}`);
}

/**
 * Converts flat JSON values to the in-memory data of `datatype`.
 * `what` names the tensor in messages, for example "input 'float_input'".
 */
export function jsonToTensorData(values: readonly unknown[], datatype: Datatype, what: string): TensorData {
  const info = DATATYPES[datatype];
  const n = values.length;
  switch (info.kind) {
    case 'float': {
      const out = newTypedArray(info.array as Float32ArrayConstructor | Float64ArrayConstructor, n);
      const fp32 = datatype === 'FP32';
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v !== 'number') badElement(what, i, v, `a number for ${datatype}`);
        // A finite number past FP32's range would be stored as Infinity and answered as NaN: refuse it instead
        // (Infinity itself, which Triton's JSON writes and reads as a token, is a value FP32 holds).
        if (fp32 && (v > FP32_LIMIT || v < -FP32_LIMIT) && Number.isFinite(v)) badElement(what, i, v, `a number within FP32's range (+/-${FP32_MAX})`);
        out[i] = v;
      }
      markOwned(out);
      return out;
    }
    case 'fp16': {
      const out = newTypedArray(Uint16Array, n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v !== 'number') badElement(what, i, v, 'a number for FP16');
        if ((v >= FP16_LIMIT || v <= -FP16_LIMIT) && Number.isFinite(v)) badElement(what, i, v, `a number within FP16's range (+/-${FP16_MAX})`);
        out[i] = toHalfBits(v);
      }
      return out;
    }
    case 'int': {
      const out = newTypedArray(info.array as Int32ArrayConstructor, n);
      const min = info.min as number;
      const max = info.max as number;
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
          badElement(what, i, v, `an integer from ${min} to ${max} for ${datatype}`);
        }
        out[i] = v;
      }
      markOwned(out);
      return out;
    }
    case 'bigint': {
      const out = newTypedArray(info.array as BigInt64ArrayConstructor | BigUint64ArrayConstructor, n);
      const min = info.min as number;
      for (let i = 0; i < n; i++) {
        const v = values[i];
        // JSON numbers past 2^53 have already lost precision in JSON.parse: refuse them rather than serve a wrong value.
        if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
          badElement(what, i, v, `an integer${min === 0 ? ' from 0' : ''} within +/-2^53 for ${datatype} (send larger values with the binary extension)`);
        }
        out[i] = BigInt(v);
      }
      return out;
    }
    case 'bool': {
      const out = newTypedArray(Uint8Array, n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (v === true || v === 1) out[i] = 1;
        else if (v !== false && v !== 0) badElement(what, i, v, 'true or false for BOOL');
      }
      return out;
    }
    case 'bytes': {
      const out = new Array<string>(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v !== 'string') badElement(what, i, v, 'a string for BYTES');
        out[i] = v;
      }
      return out;
    }
  }
}

function numberToJson(x: number): string {
  // V2 servers (Triton) write non-finite floats as the bare tokens Python's json module reads.
  if (Number.isFinite(x)) return String(x);
  return Number.isNaN(x) ? 'NaN' : x > 0 ? 'Infinity' : '-Infinity';
}

/** The JSON text of a tensor's flat data array, written directly: faster than JSON.stringify and exact for 64-bit integers. */
export function tensorDataToJson(data: TensorData, datatype: Datatype): string {
  const kind = DATATYPES[datatype].kind;
  if (kind === 'bytes') return JSON.stringify(data);
  if (kind === 'bool') return `[${Array.from(data as Uint8Array, (b) => (b ? 'true' : 'false')).join(',')}]`;
  if (kind === 'int' || kind === 'bigint') return `[${(data as Int32Array).join(',')}]`;
  const n = data.length;
  const parts = new Array<string>(n);
  const arr = data as Float32Array;
  if (kind === 'fp16') for (let i = 0; i < n; i++) parts[i] = numberToJson(fromHalfBits(arr[i] as number));
  else for (let i = 0; i < n; i++) parts[i] = numberToJson(arr[i] as number);
  return `[${parts.join(',')}]`;
}
