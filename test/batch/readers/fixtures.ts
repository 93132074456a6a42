/**
 * One logical table written as CSV and as JSON Lines, so that every reader is checked against the same
 * expectations (the conformance suite), and helpers that read a whole source into plain arrays.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InputMapping, Reader, RowBatch } from '../../../src/batch/types.js';

/** Temporary folders of this test file, removed when its process exits (node --test runs each file in its own). */
const made: string[] = [];
process.once('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

export const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-readers-'));
  made.push(dir);
  return dir;
};

/** A cell: the number or text it holds, and how CSV writes it when that differs from String(value). */
export type Cell = number | string | boolean | { csv: string; json: unknown };

export interface Table {
  readonly header: readonly string[];
  readonly rows: readonly (readonly Cell[])[];
}

function csvCell(c: Cell): string {
  if (typeof c === 'object') return c.csv;
  const s = String(c);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

function jsonCell(c: Cell): unknown {
  return typeof c === 'object' ? c.json : c;
}

export function toCsv(t: Table, eol = '\n'): string {
  return [t.header.map((h) => csvCell(h)), ...t.rows.map((r) => r.map(csvCell))].map((r) => r.join(',') + eol).join('');
}

export function toJsonl(t: Table): string {
  return t.rows.map((r) => JSON.stringify(Object.fromEntries(t.header.map((h, i) => [h, jsonCell(r[i] as Cell)]))) + '\n').join('');
}

export function writeTable(dir: string, name: string, format: 'csv' | 'jsonl', t: Table): string {
  const path = join(dir, `${name}.${format}`);
  writeFileSync(path, format === 'csv' ? toCsv(t) : toJsonl(t));
  return path;
}

/** Everything a reader yielded, batch by batch and flattened. */
export interface ReadResult {
  readonly batches: RowBatch[];
  readonly rowNumbers: number[];
  readonly ids: string[];
  /** Per input (mapping order): each good row's values, as plain numbers / strings (bigint as number). */
  readonly values: unknown[][][];
  readonly rejects: RowBatch['rejects'][number][];
  readonly consumed: number;
}

export async function readAll(reader: Reader): Promise<ReadResult> {
  const batches: RowBatch[] = [];
  const values: unknown[][][] = [];
  try {
    for await (const b of reader.batches()) {
      batches.push(b);
      b.inputs.forEach((t, k) => {
        const per = t.shape.slice(1).reduce((a, d) => a * d, 1);
        const rows = (values[k] ??= []);
        const data = Array.from(t.data as ArrayLike<unknown>, (x) => (typeof x === 'bigint' ? Number(x) : x));
        for (let r = 0; r < (t.shape[0] as number); r++) rows.push(data.slice(r * per, (r + 1) * per));
      });
    }
  } finally {
    await reader.close();
  }
  return {
    batches,
    rowNumbers: batches.flatMap((b) => b.rowNumbers),
    ids: batches.flatMap((b) => b.ids),
    values,
    rejects: batches.flatMap((b) => b.rejects),
    consumed: batches.reduce((n, b) => n + b.consumed, 0),
  };
}

/** A mapColumns that maps inputs by column names. */
export function byName(
  inputs: readonly { input: string; datatype: InputMapping['datatype']; columns: readonly string[]; rowShape?: readonly number[] }[],
  id?: string,
): (header: readonly string[]) => { mappings: InputMapping[]; idColumn: number | undefined } {
  return (header) => {
    const at = (name: string) => {
      const i = header.indexOf(name);
      if (i < 0) throw new Error(`no column ${name} in ${header.join(',')}`);
      return i;
    };
    return {
      mappings: inputs.map((m) => ({ input: m.input, datatype: m.datatype, columns: m.columns.map(at), rowShape: m.rowShape ?? [m.columns.length] })),
      idColumn: id === undefined ? undefined : at(id),
    };
  };
}

/** A column type of a typed source: each cell becomes a number (or NULL for ''), a text, or a boolean. */
export type ColumnKind = 'double' | 'text' | 'boolean';

function typedCell(c: Cell, kind: ColumnKind): number | string | boolean | null {
  const json = jsonCell(c);
  switch (kind) {
    case 'double': return json === '' ? null : Number(json);
    case 'boolean': return Boolean(json);
    default: return typeof c === 'object' ? c.csv : String(c);
  }
}

/** The table's rows as typed values, in order. */
export function typedRows(t: Table, kinds: readonly ColumnKind[]): (number | string | boolean | null)[][] {
  return t.rows.map((r) => r.map((c, i) => typedCell(c, kinds[i] as ColumnKind)));
}

/** The table as a Parquet file written by DuckDB, with these column types (DOUBLE, VARCHAR, BOOLEAN). */
export async function writeParquet(dir: string, name: string, t: Table, kinds: readonly ColumnKind[]): Promise<string> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const path = join(dir, `${name}.parquet`);
  const text = (s: string) => `'${s.replace(/'/g, "''")}'`;
  const sqlType = { double: 'DOUBLE', text: 'VARCHAR', boolean: 'BOOLEAN' } as const;
  // Numbers go through text casts: DuckDB reads '0.1'::DOUBLE as the nearest double, as JSON.parse does.
  const literal = (v: number | string | boolean | null, kind: ColumnKind) =>
    v === null ? 'NULL' : kind === 'double' ? `CAST(${text(String(v))} AS DOUBLE)` : kind === 'boolean' ? String(v) : text(String(v));
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    await conn.run(`CREATE TABLE t (${t.header.map((h, i) => `"${h}" ${sqlType[kinds[i] as ColumnKind]}`).join(', ')})`);
    const rows = typedRows(t, kinds).map((r) => `(${r.map((v, i) => literal(v, kinds[i] as ColumnKind)).join(', ')})`);
    await conn.run(`INSERT INTO t VALUES ${rows.join(', ')}`);
    await conn.run(`COPY t TO ${text(path)} (FORMAT parquet, ROW_GROUP_SIZE 4)`);
  } finally {
    conn.closeSync();
    db.closeSync();
  }
  return path;
}

/** The table as a PostgreSQL table (an `ord` column first, to ORDER BY), with these column types. */
export async function loadPostgres(query: (sql: string, values?: unknown[]) => Promise<unknown>, name: string, t: Table, kinds: readonly ColumnKind[]): Promise<void> {
  const sqlType = { double: 'double precision', text: 'text', boolean: 'boolean' } as const;
  await query(`CREATE TABLE "${name}" (ord integer PRIMARY KEY, ${t.header.map((h, i) => `"${h}" ${sqlType[kinds[i] as ColumnKind]}`).join(', ')})`);
  const rows = typedRows(t, kinds);
  for (let r = 0; r < rows.length; r++) {
    const values = [r, ...(rows[r] as unknown[])];
    await query(`INSERT INTO "${name}" VALUES (${values.map((_, i) => `$${i + 1}`).join(', ')})`, values);
  }
}
