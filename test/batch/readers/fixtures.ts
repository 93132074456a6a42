/**
 * One logical table written as CSV and as JSON Lines, so that every reader is checked against the same
 * expectations (the conformance suite), and helpers that read a whole source into plain arrays.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InputMapping, Reader, RowBatch } from '../../../src/batch/types.js';

export const tempDir = (): string => mkdtempSync(join(tmpdir(), 'ferry-readers-'));

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
