/**
 * Output values as text, for the JSON Lines and CSV writers.
 *
 * Numbers are written exactly: 64-bit integers from their BigInt digits, FP32 as the shortest decimal of the
 * float's exact double value (the text the REST API returns for it), FP16 widened first. JSON has no NaN or
 * infinity, so in JSON (a JSON Lines field, or an array cell of a CSV file) they are null; a CSV scalar cell writes
 * NaN, Infinity and -Infinity, which DuckDB, pandas and Python's float() read back.
 */
import { fromHalfBits } from '../../tensor/fp16.js';
import type { OutputData } from './layout.js';

export type Flavor = 'json' | 'csv';

/** Writes one row's cell: the row index in, the cell's text out. */
export type CellFormatter = (row: number) => string;

const CSV_SPECIAL = /[",\r\n]/;

/** A CSV field, quoted (RFC 4180) when it holds a delimiter, quote or line break, or is empty. */
export function csvField(s: string): string {
  if (s.length === 0) return '""';
  return CSV_SPECIAL.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function jsonNumber(x: number): string {
  return Number.isFinite(x) ? String(x) : 'null';
}

function csvNumber(x: number): string {
  if (Number.isFinite(x)) return String(x);
  return Number.isNaN(x) ? 'NaN' : x > 0 ? 'Infinity' : '-Infinity';
}

/** Formats one element of an output as JSON. */
export function jsonElement(out: OutputData): (i: number) => string {
  const d = out.data;
  switch (out.column.kind) {
    case 'float': return (i) => jsonNumber(d[i] as number);
    case 'fp16': return (i) => jsonNumber(fromHalfBits(d[i] as number));
    case 'int':
    case 'bigint': return (i) => String(d[i]);
    case 'bool': return (i) => (d[i] ? 'true' : 'false');
    case 'bytes': return (i) => JSON.stringify(d[i]);
  }
}

export function cellFormatter(out: OutputData, flavor: Flavor): CellFormatter {
  const d = out.data;
  if (out.column.scalar) {
    if (flavor === 'json') return jsonElement(out);
    switch (out.column.kind) {
      case 'float': return (i) => csvNumber(d[i] as number);
      case 'fp16': return (i) => csvNumber(fromHalfBits(d[i] as number));
      case 'bytes': return (i) => csvField(d[i] as string);
      default: return jsonElement(out);
    }
  }
  const element = jsonElement(out);
  const k = out.perRow;
  const array = (row: number): string => {
    const start = row * k;
    let s = '[';
    for (let j = 0; j < k; j++) s += j === 0 ? element(start) : `,${element(start + j)}`;
    return `${s}]`;
  };
  if (flavor === 'json') return array;
  // JSON arrays of numbers hold commas, and of strings quotes: always quoted, so every array cell reads the same.
  if (out.column.kind === 'bytes') return (row) => `"${array(row).replace(/"/g, '""')}"`;
  return (row) => `"${array(row)}"`;
}
