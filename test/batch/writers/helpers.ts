/**
 * Shared by the writer tests: batches with every kind of output, and reading each format back into plain rows
 * (JSON Lines and CSV parsed here, with 64-bit integers exact; Parquet through DuckDB).
 */
import { readFile } from 'node:fs/promises';
import { DuckDBInstance } from '@duckdb/node-api';
import { DATATYPES, type Datatype, type TensorData } from '../../../src/tensor/datatypes.js';
import { fromHalfBits, toHalfBits } from '../../../src/tensor/fp16.js';
import type { Tensor, TensorSpec } from '../../../src/tensor/tensor.js';
import type { ScoredBatch, WriterOptions } from '../../../src/batch/types.js';

export type Format = 'jsonl' | 'csv' | 'parquet';
export const FORMATS: readonly Format[] = ['jsonl', 'csv', 'parquet'];

export type Row = Record<string, unknown>;

/** A column as the test expects it: scalar or array, and the datatype's kind. */
export interface ColumnInfo {
  readonly name: string;
  readonly datatype: Datatype;
  readonly scalar: boolean;
}

export function columnsOf(specs: readonly TensorSpec[]): ColumnInfo[] {
  return specs.map((s) => ({
    name: s.name,
    datatype: s.datatype,
    scalar: s.shape !== undefined && s.shape.slice(1).every((d) => d === 1),
  }));
}

// ---------------------------------------------------------------------------------------------------------------
// Test data

/** Outputs of every kind: INT64 label, FP32 probabilities [N,2], BYTES scalar and array, BOOL [N,1], FP16 [N,3]... */
export const RICH_SPECS: readonly TensorSpec[] = [
  { name: 'label', datatype: 'INT64', shape: [-1] },
  { name: 'probabilities', datatype: 'FP32', shape: [-1, 2] },
  { name: 'name', datatype: 'BYTES', shape: [-1, 1] },
  { name: 'tags', datatype: 'BYTES', shape: [-1, 2] },
  { name: 'flag', datatype: 'BOOL', shape: [-1] },
  { name: 'half', datatype: 'FP16', shape: [-1, 3] },
  { name: 'big', datatype: 'UINT64', shape: [-1] },
  { name: 'small', datatype: 'INT8', shape: [-1] },
  { name: 'score', datatype: 'FP64', shape: [-1] },
  { name: 'counts', datatype: 'INT64', shape: [-1, 2] },
  { name: 'anything', datatype: 'INT32', shape: undefined },
];

export const TRICKY_STRINGS = ['plain', 'with,comma', 'with "quotes"', 'line\nbreak', '', 'üñíçødé €', 'cr\r\nlf', ' spaced ', '{"json":1}'];
export const INT64_EDGES = [9007199254740993n, -9223372036854775808n, 9223372036854775807n, -9007199254740993n];

export function options(specs: readonly TensorSpec[], resume?: WriterOptions['resume']): WriterOptions {
  return { model: 'iris, "the" model', modelVersion: '3', outputs: specs, ...(resume === undefined ? {} : { resume }) };
}

function tensor(name: string, datatype: Datatype, shape: number[], data: TensorData): Tensor {
  return { name, datatype, shape, data };
}

/** One element of output `datatype` for row `r`, position `j` in the row. */
function element(datatype: Datatype, r: number, j: number): number | bigint | string {
  switch (datatype) {
    case 'INT64': return r % 11 === 5 ? (INT64_EDGES[(r + j) % INT64_EDGES.length] as bigint) : BigInt(r * 10 + j);
    case 'UINT64': return r % 13 === 4 ? 18446744073709551615n - BigInt(j) : BigInt(r + j);
    case 'FP32': return Math.fround((r % 7) / 7 + j * 0.125);
    case 'FP64': return r / 3 + j;
    case 'FP16': return toHalfBits((r % 5) * 0.1 + j);
    case 'BOOL': return (r + j) % 2;
    case 'BYTES': return `${TRICKY_STRINGS[(r + j) % TRICKY_STRINGS.length]}${r}`;
    case 'INT8': return ((r * 37) % 256) - 128;
    default: return (r * 7 + j) % 1000 - 500;
  }
}

function perRowOf(spec: TensorSpec): number {
  if (spec.shape === undefined) return 2;
  return spec.shape.slice(1).reduce((a, d) => a * (d === -1 ? 2 : d), 1);
}

/** A batch of rows [start, start + n), ids `row-<n>` except for a few tricky ones. */
export function makeBatch(specs: readonly TensorSpec[], start: number, n: number, idOf: (r: number) => string = defaultId): ScoredBatch {
  const ids: string[] = [];
  const rowNumbers: number[] = [];
  for (let r = start; r < start + n; r++) {
    ids.push(idOf(r));
    rowNumbers.push(r);
  }
  const outputs = specs.map((spec) => {
    const k = perRowOf(spec);
    const info = DATATYPES[spec.datatype];
    const values: (number | bigint | string)[] = [];
    for (let r = start; r < start + n; r++) for (let j = 0; j < k; j++) values.push(element(spec.datatype, r, j));
    const data = info.array === undefined ? (values as string[]) : new (info.array as unknown as new (v: unknown[]) => TensorData)(values);
    const shape = spec.shape === undefined ? [n, 2] : [n, ...spec.shape.slice(1).map((d) => (d === -1 ? 2 : d))];
    return tensor(spec.name, spec.datatype, shape, data);
  });
  return { ids, rowNumbers, outputs };
}

export function defaultId(r: number): string {
  if (r % 17 === 3) return `id,"${r}"`;
  if (r % 19 === 7) return `id\n${r}`;
  return `row-${r}`;
}

/** How a value of this kind reads back in each format (NaN and infinities differ: see the writers). */
function expectedElement(datatype: Datatype, v: unknown, format: Format, inArray: boolean): unknown {
  const kind = DATATYPES[datatype].kind;
  let x: unknown = v;
  if (kind === 'fp16') x = fromHalfBits(v as number);
  if (kind === 'bool') x = v !== 0;
  if ((kind === 'float' || kind === 'fp16') && !Number.isFinite(x as number)) {
    if (format === 'jsonl' || (format === 'csv' && inArray)) return null;
  }
  return x;
}

/** The rows a writer should hold after writing these batches. */
export function expectedRows(specs: readonly TensorSpec[], batches: readonly ScoredBatch[], format: Format, opts = options(specs)): Row[] {
  const cols = columnsOf(specs);
  const rows: Row[] = [];
  for (const b of batches) {
    for (let r = 0; r < b.ids.length; r++) {
      const row: Row = { id: b.ids[r] };
      cols.forEach((c, ci) => {
        const t = b.outputs[ci] as Tensor;
        const k = t.data.length / b.ids.length;
        const d = t.data as ArrayLike<unknown>;
        if (c.scalar) row[c.name] = expectedElement(c.datatype, d[r], format, false);
        else row[c.name] = Array.from({ length: k }, (_, j) => expectedElement(c.datatype, d[r * k + j], format, true));
      });
      row.model = opts.model;
      row.model_version = opts.modelVersion;
      rows.push(row);
    }
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------------------------
// Reading back

/** A strict JSON parser that keeps integers beyond 2^53 exact (as bigint). JSON.parse would round them. */
export function parseJsonExact(text: string): unknown {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++;
  };
  const fail = (what: string): never => {
    throw new Error(`bad JSON at ${i} (${what}): ${text.slice(Math.max(0, i - 20), i + 20)}`);
  };
  const value = (): unknown => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: Record<string, unknown> = {};
      ws();
      if (text[i] === '}') { i++; return obj; }
      for (;;) {
        ws();
        const key = value();
        if (typeof key !== 'string') fail('key');
        ws();
        if (text[i++] !== ':') fail('colon');
        obj[key as string] = value();
        ws();
        const sep = text[i++];
        if (sep === '}') return obj;
        if (sep !== ',') fail('object separator');
      }
    }
    if (c === '[') {
      i++;
      const arr: unknown[] = [];
      ws();
      if (text[i] === ']') { i++; return arr; }
      for (;;) {
        arr.push(value());
        ws();
        const sep = text[i++];
        if (sep === ']') return arr;
        if (sep !== ',') fail('array separator');
      }
    }
    if (c === '"') {
      const m = /^"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/.exec(text.slice(i));
      if (m === null) return fail('string');
      i += m[0].length;
      return JSON.parse(m[0]) as string;
    }
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(word, i)) { i += word.length; return v; }
    }
    const m = /^-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (m === null) return fail('value');
    i += m[0].length;
    if (m[1] === undefined && m[2] === undefined) {
      const big = BigInt(m[0]);
      return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
    }
    return Number(m[0]);
  };
  const v = value();
  ws();
  if (i !== text.length) fail('trailing text');
  return v;
}

/** RFC 4180 records (quoted fields may hold commas, quotes doubled, line breaks). */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === '"' && field === '') {
      i++;
      for (;;) {
        if (i >= text.length) throw new Error('unterminated quoted field');
        if (text[i] === '"') {
          if (text[i + 1] === '"') { field += '"'; i += 2; continue; }
          i++;
          break;
        }
        field += text[i++];
      }
      if (i < text.length && text[i] !== ',' && text[i] !== '\n') throw new Error(`text after a quoted field at ${i}`);
      continue;
    }
    if (c === ',') { record.push(field); field = ''; i++; continue; }
    if (c === '\n') { record.push(field); records.push(record); record = []; field = ''; i++; continue; }
    if (c === '"') throw new Error(`quote inside an unquoted field at ${i}`);
    field += c;
    i++;
  }
  if (field !== '' || record.length > 0) throw new Error('last record has no line end');
  return records;
}

function normalizeElement(datatype: Datatype, v: unknown): unknown {
  const kind = DATATYPES[datatype].kind;
  if (kind === 'bigint' && typeof v === 'number') return BigInt(v);
  return v;
}

function csvScalar(datatype: Datatype, cell: string): unknown {
  switch (DATATYPES[datatype].kind) {
    case 'bigint': return BigInt(cell);
    case 'bool':
      if (cell !== 'true' && cell !== 'false') throw new Error(`bad boolean ${cell}`);
      return cell === 'true';
    case 'bytes': return cell;
    default: {
      if (cell.trim() === '') throw new Error('empty number');
      return Number(cell);
    }
  }
}

export async function readJsonl(path: string, specs: readonly TensorSpec[]): Promise<Row[]> {
  const text = await readFile(path, 'utf8');
  if (text !== '' && !text.endsWith('\n')) throw new Error('JSON Lines file does not end with a line end');
  const cols = columnsOf(specs);
  return text.split('\n').slice(0, -1).map((line) => {
    const obj = parseJsonExact(line) as Row;
    for (const c of cols) {
      const v = obj[c.name];
      obj[c.name] = Array.isArray(v) ? v.map((x) => normalizeElement(c.datatype, x)) : normalizeElement(c.datatype, v);
    }
    return obj;
  });
}

export async function readCsv(path: string, specs: readonly TensorSpec[]): Promise<{ header: string[]; rows: Row[] }> {
  const [header, ...records] = parseCsv(await readFile(path, 'utf8'));
  if (header === undefined) throw new Error('CSV file has no header');
  const cols = columnsOf(specs);
  const rows = records.map((rec) => {
    if (rec.length !== header.length) throw new Error(`record has ${rec.length} fields, header ${header.length}`);
    const row: Row = {};
    header.forEach((name, i) => {
      const cell = rec[i] as string;
      const c = cols.find((x) => x.name === name);
      if (c === undefined) row[name] = cell;
      else if (c.scalar) row[name] = csvScalar(c.datatype, cell);
      else row[name] = (parseJsonExact(cell) as unknown[]).map((x) => normalizeElement(c.datatype, x));
    });
    return row;
  });
  return { header, rows };
}

/** Runs one query on a fresh in-memory DuckDB and returns the rows as JS values (BIGINT as bigint, LIST as arrays). */
export async function duckQuery(sql: string): Promise<Row[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    const reader = await conn.runAndReadAll(sql);
    return reader.getRowObjectsJS() as Row[];
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

export const sqlString = (s: string): string => `'${s.replace(/'/g, "''")}'`;

export async function readParquet(path: string): Promise<Row[]> {
  return duckQuery(`SELECT * EXCLUDE (file_row_number) FROM read_parquet(${sqlString(path)}, file_row_number = true) ORDER BY file_row_number`);
}

export async function readBack(format: Format, path: string, specs: readonly TensorSpec[]): Promise<Row[]> {
  if (format === 'jsonl') return readJsonl(path, specs);
  if (format === 'csv') return (await readCsv(path, specs)).rows;
  return readParquet(path);
}

export function extensionOf(format: Format): string {
  return format === 'jsonl' ? '.jsonl' : format === 'csv' ? '.csv' : '.parquet';
}
