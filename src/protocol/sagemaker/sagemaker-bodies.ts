/**
 * SageMaker's row formats <-> tensors, for a model with one input: JSON instances (`{"instances": [row, ...]}`, each
 * row a value or a nested array shaped as one row of the input) and CSV (one row per line, its fields the row's
 * values in order); answers as `{"predictions": [...]}` (per row: the output's row, or an object by output name
 * when the model has several) or CSV (per row: every output's values, in output order). The CSV fields are read by
 * the same RFC 4180 reader and number parser as `ferry batch` (src/batch/csv).
 */
import { invalid } from '../../errors.js';
import { readTextRow } from '../../batch/csv/fields.js';
import { parseNumberText } from '../../batch/csv/number.js';
import { csvField } from '../../batch/writers/text-cells.js';
import { DATATYPES, isDatatype } from '../../tensor/datatypes.js';
import { flatten, jsonToTensorData } from '../../tensor/json-codec.js';
import type { Tensor } from '../../tensor/tensor.js';
import { fromHalfBits } from '../../tensor/fp16.js';
import type { TensorMetadata } from '../../dataplane/types.js';

export interface RowsRequest {
  /** The model's one input, its first dimension the rows. */
  readonly tensor: Tensor;
}


const COMMA = 0x2c;

/** The input's shape past the batch dimension, when the model fixes it (undefined: any). */
function rowShape(input: TensorMetadata): number[] | undefined {
  const inner = input.shape.slice(1);
  return inner.every((d) => d >= 0) ? inner : undefined;
}

function datatypeOf(input: TensorMetadata): Tensor['datatype'] {
  if (!isDatatype(input.datatype)) throw invalid(`input '${input.name}' has datatype ${input.datatype}, which rows cannot carry`);
  return input.datatype;
}

/** `{"instances": [...]}` (or a bare array): each instance is one row of the input. */
export function instancesRequest(doc: unknown, input: TensorMetadata): RowsRequest {
  const instances = Array.isArray(doc) ? doc : (doc as { instances?: unknown }).instances;
  if (!Array.isArray(instances) || instances.length === 0) throw invalid('"instances" must be a non-empty array, one entry per row');
  const datatype = datatypeOf(input);
  const first = instances[0];
  // A row's shape: the model's where it fixes one, else the first instance's own nesting.
  const inner = rowShape(input) ?? nestedShape(first);
  const shape = [instances.length, ...inner];
  const values = flatten(instances, shape, `instances (input '${input.name}', each row of shape [${inner.join(',')}])`);
  return { tensor: { name: input.name, datatype, shape, data: jsonToTensorData(values, datatype, `instances (input '${input.name}')`) } };
}

function nestedShape(value: unknown): number[] {
  const shape: number[] = [];
  let v = value;
  while (Array.isArray(v)) {
    shape.push(v.length);
    v = v[0];
  }
  return shape;
}

/** text/csv: one row per line, no header; blank lines are skipped. */
export function csvRequest(body: Buffer, input: TensorMetadata): RowsRequest {
  const datatype = datatypeOf(input);
  const text = DATATYPES[datatype].kind === 'bytes';
  const inner = rowShape(input);
  const width = inner === undefined ? undefined : inner.reduce((a, b) => a * b, 1);
  const values: unknown[] = [];
  let rows = 0;
  let rowWidth: number | undefined;
  for (let at = 0; at < body.length; ) {
    const row = readTextRow(body, at, body.length, true, COMMA);
    if (!row) break;
    at = row.next;
    if (row.fields.length === 1 && row.fields[0]!.trim() === '') continue;
    const line = rows + 1;
    const expected = width ?? rowWidth ?? row.fields.length;
    if (row.fields.length !== expected) {
      throw invalid(`CSV row ${line} has ${row.fields.length} fields, expected ${expected} (input '${input.name}'${inner ? ` of shape [${inner.join(',')}] per row` : ', as many as the first row'})`);
    }
    rowWidth = expected;
    row.fields.forEach((f, i) => {
      if (text) return void values.push(f);
      const n = parseNumberText(f);
      if (n === undefined) throw invalid(`CSV row ${line}, field ${i + 1}: '${f.length > 40 ? `${f.slice(0, 40)}...` : f}' is not a number (input '${input.name}' is ${datatype})`);
      values.push(DATATYPES[datatype].kind === 'bool' ? n !== 0 : n);
    });
    rows++;
  }
  if (rows === 0) throw invalid('the CSV body holds no rows');
  const shape = [rows, ...(inner ?? [rowWidth!])];
  return { tensor: { name: input.name, datatype, shape, data: jsonToTensorData(values, datatype, `CSV input '${input.name}'`) } };
}

/** An output's values as plain JS values: FP16 half bits widened, 64-bit integers as numbers (exact below 2^53). */
function valuesOf(t: Tensor): unknown[] {
  const kind = DATATYPES[t.datatype].kind;
  if (kind === 'fp16') return Array.from(t.data as Uint16Array, fromHalfBits);
  if (kind === 'bigint') return Array.from(t.data as BigInt64Array, Number);
  if (kind === 'bool') return Array.from(t.data as Uint8Array, (b) => b !== 0);
  return Array.from(t.data as ArrayLike<unknown>);
}

/** Per row, the output's values: a scalar for one value per row, else nested arrays of the output's row shape. */
function rowsOf(t: Tensor): unknown[] {
  const values = valuesOf(t);
  const rows = t.shape[0] ?? 0;
  const inner = t.shape.slice(1);
  const size = rows === 0 ? 0 : values.length / rows;
  return Array.from({ length: rows }, (_, r) => {
    const flat = values.slice(r * size, (r + 1) * size).map(jsonSafe);
    return inner.length === 0 ? flat[0] : nest(flat, inner);
  });
}

/** JSON has no NaN or infinity: null, as the JSON Lines writer of `ferry batch` writes them. */
function jsonSafe(v: unknown): unknown {
  return typeof v === 'number' && !Number.isFinite(v) ? null : v;
}

function nest(flat: unknown[], shape: readonly number[]): unknown {
  if (shape.length <= 1) return flat;
  const step = flat.length / shape[0]!;
  return Array.from({ length: shape[0]! }, (_, i) => nest(flat.slice(i * step, (i + 1) * step), shape.slice(1)));
}

/** `{"predictions": [...]}`: per row, the one output's row, or an object by output name. */
export function predictionsAnswer(outputs: readonly Tensor[]): string {
  const perOutput = outputs.map(rowsOf);
  const rows = perOutput[0]?.length ?? 0;
  const predictions = Array.from({ length: rows }, (_, r) =>
    outputs.length === 1 ? perOutput[0]![r] : Object.fromEntries(outputs.map((t, o) => [t.name, perOutput[o]![r]])));
  return JSON.stringify({ predictions });
}

/** CSV: per row, every output's values in output order (a label, then the class probabilities, say). */
export function csvAnswer(outputs: readonly Tensor[]): string {
  const perOutput = outputs.map((t) => ({ values: valuesOf(t), size: t.shape[0] ? t.data.length / t.shape[0] : 0 }));
  const rows = outputs[0]?.shape[0] ?? 0;
  let text = '';
  for (let r = 0; r < rows; r++) {
    const fields: string[] = [];
    for (const { values, size } of perOutput) for (let i = r * size; i < (r + 1) * size; i++) fields.push(csvValue(values[i]));
    text += `${fields.join(',')}\n`;
  }
  return text;
}

function csvValue(v: unknown): string {
  return typeof v === 'string' ? csvField(v) : String(v);
}
