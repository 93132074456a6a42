/**
 * Output tensors -> the answer of `:predict`, in the request's format, as TensorFlow Serving writes it:
 * - row format, `{"predictions": [...]}`: one entry per instance; with one output the entry is that output's row
 *   (a scalar for an output of shape [N], a list for [N,k], nested lists deeper), with several an object keyed by
 *   output name;
 * - columnar format, `{"outputs": ...}`: with one output its whole value as nested lists, with several an object
 *   keyed by output name.
 * JSON has no NaN or infinity, so they are written null (as `ferry batch` writes them in JSON Lines); 64-bit
 * integers are numbers where a double holds them exactly, else strings, so no answer is silently rounded.
 */
import { invalid } from '../../errors.js';
import { DATATYPES } from '../../tensor/datatypes.js';
import { fromHalfBits } from '../../tensor/fp16.js';
import type { Tensor } from '../../tensor/tensor.js';

/** `{"predictions": [...]}` for `rows` instances. */
export function predictionsJson(outputs: readonly Tensor[], rows: number): string {
  const perOutput = outputs.map((t) => rowsOf(t, rows));
  const predictions = new Array<unknown>(rows);
  for (let r = 0; r < rows; r++) {
    if (outputs.length === 1) predictions[r] = perOutput[0]![r];
    else {
      const entry: Record<string, unknown> = {};
      outputs.forEach((t, o) => (entry[t.name] = perOutput[o]![r]));
      predictions[r] = entry;
    }
  }
  return JSON.stringify({ predictions });
}

/** `{"outputs": ...}`: the one output's value, or an object of every output's. */
export function outputsJson(outputs: readonly Tensor[]): string {
  if (outputs.length === 1) return JSON.stringify({ outputs: nestedOf(outputs[0]!) });
  const byName: Record<string, unknown> = {};
  for (const t of outputs) byName[t.name] = nestedOf(t);
  return JSON.stringify({ outputs: byName });
}

/** Per instance, the output's row. An output with no row per instance can only be answered in columns. */
function rowsOf(t: Tensor, rows: number): unknown[] {
  if (t.shape.length === 0 || t.shape[0] !== rows) {
    throw invalid(`output '${t.name}' has shape [${t.shape.join(',')}], not one row for each of the ${rows} instances: ask in the columnar format ({"inputs": ...}), which answers every output whole`);
  }
  const values = valuesOf(t);
  const inner = t.shape.slice(1);
  const size = values.length / rows;
  const out = new Array<unknown>(rows);
  for (let r = 0; r < rows; r++) out[r] = inner.length === 0 ? values[r] : nest(values, r * size, inner);
  return out;
}

/** The whole output as nested lists of its shape (a scalar for shape []). */
function nestedOf(t: Tensor): unknown {
  const values = valuesOf(t);
  return t.shape.length === 0 ? values[0] : nest(values, 0, t.shape);
}

/** The values from `start` as nested lists of `shape`. */
function nest(values: readonly unknown[], start: number, shape: readonly number[]): unknown[] {
  const [size, ...rest] = shape as [number, ...number[]];
  if (rest.length === 0) return values.slice(start, start + size);
  const step = rest.reduce((a, b) => a * b, 1);
  return Array.from({ length: size }, (_, i) => nest(values, start + i * step, rest));
}

/** An output's elements as JSON-ready values. */
function valuesOf(t: Tensor): unknown[] {
  switch (DATATYPES[t.datatype].kind) {
    case 'fp16':
      return Array.from(t.data as Uint16Array, (h) => finite(fromHalfBits(h)));
    case 'float':
      return Array.from(t.data as Float64Array, finite);
    case 'bigint':
      return Array.from(t.data as BigInt64Array, exactInteger);
    case 'bool':
      return Array.from(t.data as Uint8Array, (b) => b !== 0);
    case 'int':
      return Array.from(t.data as Int32Array);
    case 'bytes':
      return t.data as string[];
  }
}

function finite(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

const MIN_EXACT = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);

function exactInteger(x: bigint): number | string {
  return x >= MIN_EXACT && x <= MAX_EXACT ? Number(x) : String(x);
}
