/**
 * Between the data plane's tensors and what a JavaScript model takes and returns: plain values become typed data
 * of the declared datatype (checked as JSON input is, so a model returning a string for an FP32 output is named),
 * a batch of tensors becomes one record per row, and records become tensors again.
 */
import { internal, isFerryError, messageOf } from '../../errors.js';
import { DATATYPES, type Datatype, type TensorData } from '../../tensor/datatypes.js';
import { jsonToTensorData } from '../../tensor/json-codec.js';
import { elementCount, formatShape, type Tensor, type TensorSpec } from '../../tensor/tensor.js';
import type { ReturnedTensor } from './model-contract.js';

/** A returned output as a tensor named `spec.name`: its datatype checked, its shape given or read off the declaration. */
export function toTensor(value: ReturnedTensor, spec: TensorSpec, rows: number | undefined): Tensor {
  const what = `output '${spec.name}'`;
  if (value === null || typeof value !== 'object' || value.data === undefined) throw internal(`${what} must be { data, shape? }, got ${value === null ? 'null' : typeof value}`);
  if (value.datatype !== undefined && value.datatype !== spec.datatype) throw internal(`${what} is declared ${spec.datatype} but came back ${value.datatype}`);
  const data = dataOf(value.data, spec.datatype, what);
  const shape = value.shape ? [...value.shape] : shapeFor(spec, data.length, rows);
  if (elementCount(shape) !== data.length) throw internal(`${what}: shape ${formatShape(shape)} needs ${elementCount(shape)} values, the data has ${data.length}`);
  return { name: spec.name, datatype: spec.datatype, shape, data };
}

/** Typed data of `datatype` from what a model returned: the right typed array as it is, anything else converted. */
function dataOf(data: ArrayLike<unknown>, datatype: Datatype, what: string): TensorData {
  const info = DATATYPES[datatype];
  if (info.array && data instanceof info.array) return data as TensorData;
  const values = Array.from(data, (v) => (typeof v === 'bigint' && info.kind !== 'bigint' ? Number(v) : v));
  if (info.kind === 'bigint') {
    try {
      return (info.array as BigInt64ArrayConstructor).from(values, (v) => BigInt(v as number | bigint));
    } catch (e) {
      throw internal(`${what}: ${messageOf(e)} (expected integers for ${datatype})`);
    }
  }
  try {
    return jsonToTensorData(values, datatype, what);
  } catch (e) {
    throw isFerryError(e) ? internal(e.message) : e;
  }
}

/** [rows, ...the declared dimensions past the first], when those are all fixed (or there are none). */
function shapeFor(spec: TensorSpec, count: number, rows: number | undefined): number[] {
  const inner = (spec.shape ?? [-1]).slice(1);
  if (inner.some((d) => d < 0)) throw internal(`output '${spec.name}' is declared ${formatShape(spec.shape)}: return its shape with its data`);
  const per = elementCount(inner);
  const n = per === 0 ? (rows ?? 0) : count / per;
  if (!Number.isInteger(n)) throw internal(`output '${spec.name}': ${count} values do not fill rows of ${per}`);
  return [n, ...inner];
}

/** One record per row: a field per input, its value (rank 1) or its row's values (flat, rank 2 and more). */
export function recordsOf(inputs: readonly Tensor[], rows: number): Record<string, unknown>[] {
  const records = Array.from({ length: rows }, () => ({}) as Record<string, unknown>);
  for (const t of inputs) {
    const per = t.shape.length <= 1 ? 1 : elementCount(t.shape.slice(1));
    const data = t.data as ArrayLike<unknown>;
    const bool = t.datatype === 'BOOL';
    for (let r = 0; r < rows; r++) {
      if (t.shape.length <= 1) records[r]![t.name] = bool ? data[r] === 1 : data[r];
      else records[r]![t.name] = Array.from({ length: per }, (_, i) => (bool ? data[r * per + i] === 1 : data[r * per + i]));
    }
  }
  return records;
}

/** The tensors of `specs` from one record per row. */
export function tensorsOfRecords(records: readonly Record<string, unknown>[], specs: readonly TensorSpec[]): Tensor[] {
  return specs.map((spec) => {
    const values: unknown[] = [];
    let inner: number[] | undefined;
    records.forEach((record, r) => {
      if (record === null || typeof record !== 'object') throw internal(`predictRecords() returned ${record === null ? 'null' : typeof record} as record ${r}`);
      const v = record[spec.name];
      if (v === undefined) throw internal(`record ${r} returned by predictRecords() has no field '${spec.name}'`);
      if (Array.isArray(v)) {
        if (inner === undefined) inner = [v.length];
        else if (inner[0] !== v.length) throw internal(`field '${spec.name}' holds ${v.length} values in record ${r}, ${inner[0]} before`);
        values.push(...(v as unknown[]));
      } else values.push(v);
    });
    const shape = [records.length, ...(inner ?? [])];
    return toTensor({ data: values, shape }, spec, records.length);
  });
}
