/**
 * JSON Lines output: one object per row, `{"id":..., <output>:..., "model":..., "model_version":...}`.
 * Resumable by truncation (see resumable-file.ts): the state is {format: 'jsonl', bytes, rows}.
 *
 * Values: INT64/UINT64 as exact JSON integers (a reader that parses them as doubles loses digits past 2^53, the
 * text does not); BYTES as JSON strings; FP16 widened to numbers; BOOL as true/false; NaN and +/-Infinity as null
 * (strict JSON has no such numbers, and every JSON reader accepts null).
 */
import { Buffer } from 'node:buffer';
import type { Writer, WriterOptions } from '../types.js';
import type { ByteSink } from './byte-sink.js';
import { ID_COLUMN, MODEL_COLUMN, VERSION_COLUMN, type OutputData } from './layout.js';
import { jsonElement } from './text-cells.js';
import { openTextWriter, type TextFormat } from './text-writer.js';

/** Writes one row's value of an output into the sink: a JSON scalar, or a JSON array of the row's elements. */
function cellEncoder(out: OutputData, sink: ByteSink): (row: number) => void {
  const element = jsonElement(out);
  if (out.column.scalar) return (row) => sink.text(element(row));
  const k = out.perRow;
  return (row) => {
    const base = row * k;
    sink.byte(0x5b); // [
    for (let j = 0; j < k; j++) {
      if (j > 0) sink.byte(0x2c); // ,
      sink.text(element(base + j));
    }
    sink.byte(0x5d); // ]
  };
}

export const JSONL_FORMAT: TextFormat = {
  name: 'jsonl',
  flavor: 'json',
  rowsFormatter(layout, options) {
    const head = `{${JSON.stringify(ID_COLUMN)}:`;
    const keys = layout.outputs.map((o) => `,${JSON.stringify(o.name)}:`);
    const tail = `,${JSON.stringify(MODEL_COLUMN)}:${JSON.stringify(options.model)},${JSON.stringify(VERSION_COLUMN)}:${JSON.stringify(options.modelVersion)}}\n`;
    const k = keys.length;
    return (ids, cells, start, end) => {
      let s = '';
      for (let r = start; r < end; r++) {
        s += head + JSON.stringify(ids[r]);
        for (let c = 0; c < k; c++) s += (keys[c] as string) + (cells[c] as (row: number) => string)(r);
        s += tail;
      }
      return s;
    };
  },
  // The same text as rowsFormatter, spelled straight into bytes (see byte-sink.ts for why).
  rowsEncoder(layout, options) {
    const utf8 = (s: string) => Buffer.from(s, 'utf8');
    const head = utf8(`{${JSON.stringify(ID_COLUMN)}:`);
    const keys = layout.outputs.map((o) => utf8(`,${JSON.stringify(o.name)}:`));
    const tail = utf8(`,${JSON.stringify(MODEL_COLUMN)}:${JSON.stringify(options.model)},${JSON.stringify(VERSION_COLUMN)}:${JSON.stringify(options.modelVersion)}}\n`);
    const k = keys.length;
    return (ids, outs, start, end, sink) => {
      const cells = outs.map((out) => cellEncoder(out, sink));
      for (let r = start; r < end; r++) {
        sink.bytes(head);
        sink.jsonString(ids[r] as string);
        for (let c = 0; c < k; c++) {
          sink.bytes(keys[c] as Uint8Array);
          (cells[c] as (row: number) => void)(r);
        }
        sink.bytes(tail);
      }
    };
  },
};

export function openJsonlWriter(path: string, options: WriterOptions): Promise<Writer> {
  return openTextWriter(path, JSONL_FORMAT, options);
}
