/**
 * Tensor data <-> JSON, as the V2 REST protocol carries it: `data` is a flat or nested array in row-major order.
 * Decoding checks every element against the datatype, so a bad value is reported by input name and position
 * rather than turning into NaN or a runtime crash further down.
 */
import { invalid } from '../errors.js';
import { DATATYPES, type Datatype, type TensorData } from './datatypes.js';
import { fromHalfBits, toHalfBits } from './fp16.js';
import { markOwned } from './transferable.js';

/** Appends the leaves of nested arrays (any depth) to `out`, in row-major order. */
function flattenInto(value: readonly unknown[], out: unknown[]): void {
  for (const v of value) {
    if (Array.isArray(v)) flattenInto(v, out);
    else out.push(v);
  }
}

export function flatten(data: readonly unknown[]): readonly unknown[] {
  // The common case, a flat array, is returned as is.
  for (const v of data) {
    if (Array.isArray(v)) {
      const out: unknown[] = [];
      flattenInto(data, out);
      return out;
    }
  }
  return data;
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return String(v);
}

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
      const out = new (info.array as Float32ArrayConstructor | Float64ArrayConstructor)(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v !== 'number') badElement(what, i, v, `a number for ${datatype}`);
        out[i] = v;
      }
      markOwned(out);
      return out;
    }
    case 'fp16': {
      const out = new Uint16Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v !== 'number') badElement(what, i, v, 'a number for FP16');
        out[i] = toHalfBits(v);
      }
      return out;
    }
    case 'int': {
      const out = new (info.array as Int32ArrayConstructor)(n);
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
      const out = new (info.array as BigInt64ArrayConstructor | BigUint64ArrayConstructor)(n);
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
      const out = new Uint8Array(n);
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
