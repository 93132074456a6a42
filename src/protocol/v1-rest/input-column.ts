/**
 * One model input filled row by row from JSON values: the shared part of the records API's row format (one value
 * per instance) and its columnar format (one list per input, a row per entry). Each row is checked against the
 * input's shape as the model declares it past the batch dimension, and each element against the datatype, with a
 * message that names the row, the field and what was expected: a client reads "instance 3: missing field 'age'"
 * rather than a shape error about the whole batch.
 *
 * Missing values: records with named features (an input of shape [-1] per feature, FP64 for numbers, BYTES for
 * categories and text, marked `missing` in the model's inputs) often lack some. JSON has no NaN, so for such an input
 * an absent field or a null is NaN, or "" for BYTES (the empty string is "missing" to the feature transforms), and
 * the model's config decides what a missing value becomes. For any other input an absent value is the client's
 * mistake.
 */
import { invalid } from '../../errors.js';
import { DATATYPES, isDatatype, type Datatype, type DatatypeInfo, type TensorData } from '../../tensor/datatypes.js';
import { toHalfBits } from '../../tensor/fp16.js';
import { newTypedArray } from '../../tensor/small-arrays.js';
import { markOwned } from '../../tensor/transferable.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { RecordInput } from '../../dataplane/types.js';

/** How a row is named in messages: "instance 3" (row format) or "inputs row 3" (columnar format). */
export type RowName = (row: number) => string;

/** The largest magnitudes FP32 and FP16 hold (json-codec.ts refuses the same: a finite value must not turn infinite). */
const FP32_LIMIT = 3.4028235677973366e38;
const FP16_LIMIT = 65520;

/** What a column needs of its input, worked out once per input (an input's metadata lives as long as its version). */
interface ColumnPlan {
  readonly datatype: Datatype;
  readonly info: DatatypeInfo;
  readonly declared: readonly number[];
  readonly missingAllowed: boolean;
}

const plans = new WeakMap<RecordInput, ColumnPlan>();

function planOf(spec: RecordInput): ColumnPlan {
  let plan = plans.get(spec);
  if (plan) return plan;
  if (!isDatatype(spec.datatype)) throw invalid(`input '${spec.name}' has datatype ${spec.datatype}, which JSON records cannot carry`);
  const info = DATATYPES[spec.datatype];
  const declared = spec.shape.slice(1);
  const missingAllowed = spec.missing && declared.length === 0 && (info.kind === 'float' || info.kind === 'fp16' || info.kind === 'bytes');
  plan = { datatype: spec.datatype, info, declared, missingAllowed };
  plans.set(spec, plan);
  return plan;
}

export class InputColumn {
  readonly name: string;
  readonly datatype: Datatype;
  /** True for a feature (a 1-D float or BYTES input marked missing): an absent field or null is a missing value. */
  readonly missingAllowed: boolean;
  private readonly info: DatatypeInfo;
  /** The row's shape as the model declares it (-1: any size, fixed by the first row). */
  private readonly declared: readonly number[];
  /** The row's shape once the first row has been read. */
  private inner: number[] | undefined;
  private rowSize = 0;
  private data: TensorData | undefined;

  constructor(
    spec: RecordInput,
    private readonly rows: number,
    private readonly rowName: RowName,
  ) {
    const plan = planOf(spec);
    this.name = spec.name;
    this.datatype = plan.datatype;
    this.info = plan.info;
    this.declared = plan.declared;
    this.missingAllowed = plan.missingAllowed;
  }

  /** Sets row `row` from its JSON value; `undefined` is a field the instance does not have. */
  setRow(row: number, value: unknown): void {
    if (value === undefined && !this.missingAllowed) throw invalid(`${this.rowName(row)}: missing field '${this.name}'`);
    if (this.inner === undefined) this.start(row, value);
    const data = this.data!;
    const inner = this.inner!;
    if (inner.length === 0) {
      this.put(data, row, value, row, '');
      return;
    }
    let at = row * this.rowSize;
    const walk = (v: unknown, depth: number, path: string): void => {
      const want = inner[depth]!;
      if (!Array.isArray(v)) throw invalid(`${this.rowName(row)}: input '${this.name}'${path} must be a list of ${want} values, got ${describeJson(v)}`);
      if (v.length !== want) throw invalid(`${this.rowName(row)}: input '${this.name}'${path} must hold ${want} values, got ${v.length}${this.sizeHint(depth)}`);
      const last = depth === inner.length - 1;
      for (let i = 0; i < v.length; i++) {
        if (last) this.put(data, at++, v[i], row, `${path}[${i}]`);
        else walk(v[i], depth + 1, `${path}[${i}]`);
      }
    };
    walk(value, 0, '');
  }

  /** The input as a tensor of shape [rows, ...row shape]. */
  tensor(): Tensor {
    if (this.data === undefined) throw invalid(`input '${this.name}' was given no rows`);
    return { name: this.name, datatype: this.datatype, shape: [this.rows, ...this.inner!], data: this.data };
  }

  /** The first row fixes the sizes the model leaves open (-1) and the data is allocated for every row. */
  private start(row: number, value: unknown): void {
    const inner: number[] = [];
    let v = value;
    for (let d = 0; d < this.declared.length; d++) {
      const want = this.declared[d]!;
      if (want >= 0) inner.push(want);
      else if (Array.isArray(v)) inner.push(v.length);
      else throw invalid(`${this.rowName(row)}: input '${this.name}' must be a list${d > 0 ? ` at depth ${d + 1}` : ''} (its rows have shape [${this.declared.join(',')}]), got ${describeJson(v)}`);
      v = Array.isArray(v) ? v[0] : undefined;
    }
    this.inner = inner;
    this.rowSize = inner.reduce((a, b) => a * b, 1);
    const n = this.rows * this.rowSize;
    if (this.info.kind === 'bytes') this.data = new Array<string>(n).fill('');
    else {
      this.data = newTypedArray(this.info.array!, n);
      markOwned(this.data); // this request's alone: a worker thread may take it without a copy (transferable.ts)
    }
  }

  /** For a size the model leaves open: the row that fixed it. */
  private sizeHint(depth: number): string {
    return this.declared[depth] === -1 ? ` (the first row has ${this.inner![depth]}; all rows of an input must have one shape)` : '';
  }

  /** Converts one JSON element into data[i]; `path` is where it is in the row ("" for a row that is one value). */
  private put(data: TensorData, i: number, v: unknown, row: number, path: string): void {
    const info = this.info;
    switch (info.kind) {
      case 'float':
      case 'fp16': {
        let x: number;
        if (typeof v === 'number') x = v;
        else if ((v === null || v === undefined) && this.missingAllowed) x = NaN;
        else return this.bad(row, path, v, `a number for ${this.datatype}${this.missingAllowed ? ' (or null when missing)' : ''}`);
        const limit = info.kind === 'fp16' ? FP16_LIMIT : this.datatype === 'FP32' ? FP32_LIMIT : Infinity;
        if (x >= limit || x <= -limit) return this.bad(row, path, v, `a number within ${this.datatype}'s range`);
        (data as Float64Array)[i] = info.kind === 'fp16' ? toHalfBits(x) : x;
        return;
      }
      case 'int': {
        if (typeof v !== 'number' || !Number.isInteger(v) || v < info.min! || v > info.max!) return this.bad(row, path, v, `an integer from ${info.min} to ${info.max} for ${this.datatype}`);
        (data as Int32Array)[i] = v;
        return;
      }
      case 'bigint': {
        // JSON numbers past 2^53 have already lost precision in JSON.parse: refused rather than served wrong.
        if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < info.min!) return this.bad(row, path, v, `an integer${info.min === 0 ? ' from 0' : ''} within +/-2^53 for ${this.datatype}`);
        (data as BigInt64Array)[i] = BigInt(v);
        return;
      }
      case 'bool': {
        if (typeof v !== 'boolean') return this.bad(row, path, v, 'true or false for BOOL');
        (data as Uint8Array)[i] = v ? 1 : 0;
        return;
      }
      case 'bytes': {
        (data as string[])[i] = this.text(v, row, path);
        return;
      }
    }
  }

  /**
   * A BYTES element: a string; a number or boolean as its text (a CSV-minded client's category 3 is the category
   * "3"); TensorFlow Serving's `{"b64": "..."}` for bytes, decoded as UTF-8 (ferry's BYTES elements are text).
   */
  private text(v: unknown, row: number, path: string): string {
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    if ((v === null || v === undefined) && this.missingAllowed) return '';
    if (isJsonObject(v) && typeof v.b64 === 'string' && Object.keys(v).length === 1) return Buffer.from(v.b64, 'base64').toString('utf8');
    return this.bad(row, path, v, `a string for BYTES${this.missingAllowed ? ' (or null when missing)' : ''}`);
  }

  private bad(row: number, path: string, v: unknown, expected: string): never {
    throw invalid(`${this.rowName(row)}: field '${this.name}'${path} is ${describeJson(v)}, expected ${expected}`);
  }
}

export function isJsonObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A JSON value as a message quotes it: short, and saying what kind it is. */
export function describeJson(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (typeof v === 'object') return 'an object';
  return String(v);
}
