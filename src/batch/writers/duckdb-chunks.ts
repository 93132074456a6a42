/**
 * Model outputs into DuckDB data chunks: the column type each output takes, and filling a chunk's vectors from
 * batches. Shared by the Parquet writer and the DuckDB table writer.
 */
import {
  BIGINT, BOOLEAN, DOUBLE, FLOAT, INTEGER, LIST, SMALLINT, TINYINT, UBIGINT, UINTEGER, USMALLINT, UTINYINT, VARCHAR,
  DuckDBDataChunk, DuckDBListValue,
  type DuckDBType, type DuckDBValue, type DuckDBVector,
} from '@duckdb/node-api';
import type { Datatype } from '../../tensor/datatypes.js';
import { fromHalfBits } from '../../tensor/fp16.js';
import type { Layout, OutputData } from './layout.js';

export const SCALAR_TYPES: Readonly<Record<Datatype, DuckDBType>> = {
  BOOL: BOOLEAN, INT8: TINYINT, INT16: SMALLINT, INT32: INTEGER, INT64: BIGINT,
  UINT8: UTINYINT, UINT16: USMALLINT, UINT32: UINTEGER, UINT64: UBIGINT,
  FP16: FLOAT, FP32: FLOAT, FP64: DOUBLE, BYTES: VARCHAR,
};

/** DuckDB's vector size: the most rows one data chunk holds. */
export const CHUNK_ROWS = 2048;

/** The JS value DuckDB's vector takes for one element of an output. */
export function elementReader(out: OutputData): (i: number) => DuckDBValue {
  const d = out.data;
  switch (out.column.kind) {
    case 'fp16': return (i) => fromHalfBits(d[i] as number);
    case 'bool': return (i) => d[i] !== 0;
    default: return (i) => d[i] as DuckDBValue; // number, bigint or string, as the vector's type wants
  }
}

/** A stretch of rows waiting for a data chunk: rows [start, start + n) of a batch's ids and outputs. */
export interface Segment {
  readonly ids: readonly string[];
  readonly outs: readonly OutputData[];
  readonly start: number;
  readonly n: number;
}

/** A segment's own copy of its rows, for keeping it past write(): the caller may reuse the batch's arrays. */
export function copySegment(seg: Segment): Segment {
  const slice = (d: ArrayLike<unknown>, from: number, to: number): ArrayLike<unknown> => (d as unknown[]).slice(from, to);
  return {
    ids: seg.ids.slice(seg.start, seg.start + seg.n),
    outs: seg.outs.map((o) => ({ ...o, data: slice(o.data, seg.start * o.perRow, (seg.start + seg.n) * o.perRow) })),
    start: 0,
    n: seg.n,
  };
}

/** Fills output column c of the segments, one after the other, into a chunk's vector. */
export function fillColumn(vector: DuckDBVector, segments: readonly Segment[], c: number): void {
  let row = 0;
  for (const seg of segments) {
    const out = seg.outs[c] as OutputData;
    const element = elementReader(out);
    if (out.column.scalar) {
      for (let i = 0; i < seg.n; i++) vector.setItem(row++, element(seg.start + i));
    } else {
      const k = out.perRow;
      for (let i = 0; i < seg.n; i++) {
        const base = (seg.start + i) * k;
        const items = new Array<DuckDBValue>(k);
        for (let j = 0; j < k; j++) items[j] = element(base + j);
        vector.setItem(row++, new DuckDBListValue(items));
      }
    }
  }
  vector.flush();
}

/** The chunk types of (id, outputs...): VARCHAR, then each output's scalar type or a LIST of it. */
export function chunkTypes(layout: Layout): DuckDBType[] {
  return [VARCHAR, ...layout.outputs.map((o) => (o.scalar ? (SCALAR_TYPES[o.datatype] as DuckDBType) : LIST(SCALAR_TYPES[o.datatype] as DuckDBType)))];
}

/** One data chunk of (id, outputs...) holding the segments' rows, one after the other. */
export function fillChunk(types: DuckDBType[], layout: Layout, segments: readonly Segment[], rows: number): DuckDBDataChunk {
  const chunk = DuckDBDataChunk.create(types, rows);
  const ids = chunk.getColumnVector(0);
  let row = 0;
  for (const seg of segments) for (let i = 0; i < seg.n; i++) ids.setItem(row++, seg.ids[seg.start + i] as string);
  ids.flush();
  for (let c = 0; c < layout.outputs.length; c++) fillColumn(chunk.getColumnVector(c + 1), segments, c);
  return chunk;
}
