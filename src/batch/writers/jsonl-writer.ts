/**
 * JSON Lines output: one object per row, `{"id":..., <output>:..., "model":..., "model_version":...}`.
 * Resumable by truncation (see resumable-file.ts): the state is {format: 'jsonl', bytes, rows}.
 *
 * Values: INT64/UINT64 as exact JSON integers (a reader that parses them as doubles loses digits past 2^53, the
 * text does not); BYTES as JSON strings; FP16 widened to numbers; BOOL as true/false; NaN and +/-Infinity as null
 * (strict JSON has no such numbers, and every JSON reader accepts null).
 */
import type { Writer, WriterOptions } from '../types.js';
import { ID_COLUMN, MODEL_COLUMN, VERSION_COLUMN } from './layout.js';
import { openTextWriter, type TextFormat } from './text-writer.js';

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
};

export function openJsonlWriter(path: string, options: WriterOptions): Promise<Writer> {
  return openTextWriter(path, JSONL_FORMAT, options);
}
