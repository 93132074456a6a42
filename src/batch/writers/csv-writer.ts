/**
 * CSV output (RFC 4180, comma-separated, LF line ends): a header line `id,<outputs...>,model,model_version`
 * written once when the file is created (not again on resume), then one line per row.
 * Resumable by truncation (see resumable-file.ts): the state is {format: 'csv', bytes, rows}; the header's bytes
 * are part of the first commit.
 *
 * Values: fields (ids, BYTES, names) are quoted, with quotes doubled, when they hold a comma, quote or line break,
 * and empty strings are written "" so they read back as empty rather than missing. INT64/UINT64 exact; FP16
 * widened; BOOL true/false; NaN, Infinity, -Infinity as those words. An array output is a quoted JSON array,
 * e.g. "[0.1,0.9]", where NaN and infinities are null as JSON requires.
 */
import type { Writer, WriterOptions } from '../types.js';
import { csvField } from './text-cells.js';
import { openTextWriter, type TextFormat } from './text-writer.js';

export const CSV_FORMAT: TextFormat = {
  name: 'csv',
  flavor: 'csv',
  header(layout) {
    return `${layout.columnNames.map(csvField).join(',')}\n`;
  },
  rowsFormatter(layout, options) {
    const tail = `,${csvField(options.model)},${csvField(options.modelVersion)}\n`;
    const k = layout.outputs.length;
    return (ids, cells, start, end) => {
      let s = '';
      for (let r = start; r < end; r++) {
        s += csvField(ids[r] as string);
        for (let c = 0; c < k; c++) s += `,${(cells[c] as (row: number) => string)(r)}`;
        s += tail;
      }
      return s;
    };
  },
};

export function openCsvWriter(path: string, options: WriterOptions): Promise<Writer> {
  return openTextWriter(path, CSV_FORMAT, options);
}
