/**
 * Joining requests into one batch along dimension 0, and splitting the outputs back. An input with a pad value
 * may differ between requests in its other dimensions: each request is padded to the largest in the batch.
 */
import { internal } from '../errors.js';
import { DATATYPES, type Datatype, type TensorData } from '../tensor/datatypes.js';
import { elementCount, type Tensor } from '../tensor/tensor.js';
import { markOwned } from '../tensor/transferable.js';
import { newTypedArray } from '../tensor/small-arrays.js';

export type PadValue = number | string | boolean;

function allocate(datatype: Datatype, n: number, pad: PadValue | undefined): TensorData {
  const info = DATATYPES[datatype];
  if (info.kind === 'bytes') return new Array<string>(n).fill(pad === undefined ? '' : String(pad));
  const out = newTypedArray(info.array!, n);
  markOwned(out); // a batch's own array (when large enough to have its own buffer)
  if (pad !== undefined && pad !== 0 && pad !== false) {
    if (info.kind === 'bigint') (out as BigInt64Array).fill(BigInt(pad as number));
    else (out as Float32Array).fill(pad === true ? 1 : Number(pad));
  }
  return out;
}

function copyInto(dst: TensorData, at: number, src: TensorData): void {
  if (Array.isArray(dst)) {
    const s = src as string[];
    for (let i = 0; i < s.length; i++) dst[at + i] = s[i] as string;
  } else {
    (dst as Float32Array).set(src as Float32Array, at);
  }
}

/** Concatenates one input of several requests along dimension 0 (no padding: shapes past dim 0 are equal). */
export function concatRows(parts: readonly Tensor[]): Tensor {
  const first = parts[0]!;
  if (parts.length === 1) return first;
  let rows = 0;
  let size = 0;
  for (const p of parts) {
    rows += p.shape[0]!;
    size += p.data.length;
  }
  const data = allocate(first.datatype, size, undefined);
  let at = 0;
  for (const p of parts) {
    copyInto(data, at, p.data);
    at += p.data.length;
  }
  return { name: first.name, datatype: first.datatype, shape: [rows, ...first.shape.slice(1)], data };
}

/** Concatenates with padding: every non-batch dimension grows to the largest among the parts, filled with `pad`. */
export function concatPadded(parts: readonly Tensor[], pad: PadValue): Tensor {
  const first = parts[0]!;
  const rank = first.shape.length;
  const target = first.shape.slice();
  target[0] = 0;
  for (const p of parts) {
    target[0] += p.shape[0]!;
    for (let d = 1; d < rank; d++) target[d] = Math.max(target[d]!, p.shape[d]!);
  }
  const data = allocate(first.datatype, elementCount(target), pad);
  // Element strides of the target; each part is copied run by run along its last dimension.
  const strides = new Array<number>(rank).fill(1);
  for (let d = rank - 2; d >= 0; d--) strides[d] = strides[d + 1]! * target[d + 1]!;
  let rowOffset = 0;
  for (const p of parts) {
    copyPaddedPart(p, data, strides, rowOffset);
    rowOffset += p.shape[0]!;
  }
  return { name: first.name, datatype: first.datatype, shape: target, data };
}

function copyPaddedPart(part: Tensor, dst: TensorData, strides: readonly number[], rowOffset: number): void {
  const shape = part.shape;
  const rank = shape.length;
  if (rank === 1) {
    copyInto(dst, rowOffset, part.data);
    return;
  }
  const run = shape[rank - 1]!;
  const runs = part.data.length / run;
  const index = new Array<number>(rank - 1).fill(0);
  for (let r = 0; r < runs; r++) {
    let at = (index[0]! + rowOffset) * strides[0]!;
    for (let d = 1; d < rank - 1; d++) at += index[d]! * strides[d]!;
    const src = Array.isArray(part.data) ? part.data.slice(r * run, (r + 1) * run) : (part.data as Float32Array).subarray(r * run, (r + 1) * run);
    copyInto(dst, at, src as TensorData);
    // Advance the multi-index over the leading rank-1 dimensions of the part.
    for (let d = rank - 2; d >= 0; d--) {
      if (++index[d]! < shape[d]!) break;
      index[d] = 0;
    }
  }
}

/** Splits each batched output back into per-request tensors of `rows[i]` rows each (views, no copies). */
export function splitRows(outputs: readonly Tensor[], rows: readonly number[]): Tensor[][] {
  let total = 0;
  for (const n of rows) total += n;
  const perRequest: Tensor[][] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) perRequest[i] = [];
  for (const out of outputs) {
    if (out.shape.length === 0 || out.shape[0] !== total) {
      throw internal(`output '${out.name}' has shape [${out.shape.join(',')}], not ${total} rows along dimension 0, so a batch cannot be split; set max_batch_size: 0 in the model's config`);
    }
    const rowSize = total === 0 ? 0 : out.data.length / total;
    const inner = out.shape.slice(1);
    let at = 0;
    for (let i = 0; i < rows.length; i++) {
      const n = rows[i]!;
      const data = Array.isArray(out.data)
        ? out.data.slice(at * rowSize, (at + n) * rowSize)
        : (out.data as Float32Array).subarray(at * rowSize, (at + n) * rowSize);
      const shape = [n];
      for (const d of inner) shape.push(d);
      perRequest[i]!.push({ name: out.name, datatype: out.datatype, shape, data: data as TensorData });
      at += n;
    }
  }
  return perRequest;
}
