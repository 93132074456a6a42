/**
 * What the database table writers (DuckDB, PostgreSQL) share.
 *
 * A table output is keyed by `id` (the --id-column's value, or the row number): the table has `id` as its primary
 * key, one column per model output, then `model` and `model_version` (the layout every writer shares), and every
 * write is an upsert on `id`. That makes a resumed job exactly once without cutting anything back: rows written after
 * the last checkpoint are either rolled back (their transaction never committed) or rewritten with the same values by
 * the rerun. It also lets a nightly job rerun into the same table: yesterday's rows for today's ids are replaced, the
 * others kept. The ids must therefore be unique in the input: two rows with one id would leave one of them. A
 * repeat within one commit window is caught (and refused); across windows the later row wins.
 */
import { invalid } from '../../errors.js';
import type { WriterState } from '../types.js';

export const DEFAULT_TABLE = 'predictions';

export type TableFormat = 'duckdb-table' | 'postgres-table';

export type TableState = {
  readonly format: TableFormat;
  readonly table: string;
  /** Rows upserted and committed so far by this job (a rewritten row counts again). */
  readonly rows: number;
};

export function parseTableState(state: WriterState, format: TableFormat, table: string, output: string): TableState {
  const { format: f, table: t, rows } = state as Record<string, unknown>;
  if (f !== format || t !== table || typeof rows !== 'number' || !Number.isSafeInteger(rows) || rows < 0) {
    throw invalid(`cannot resume ${output}: the checkpoint's writer state ${JSON.stringify(state)} is not a ${format} writer's state for table '${table}'`);
  }
  return { format, table, rows };
}

/**
 * The ids written since the last commit, with their row numbers: one upsert statement cannot touch a row twice
 * (both databases refuse it), and a repeated id would silently keep only one of its rows.
 */
export class UncommittedIds {
  private readonly rows = new Map<string, number>();

  /** Throws, before anything is written, when the batch repeats an id of itself or of the window. */
  add(ids: readonly string[], rowNumbers: readonly number[]): void {
    const added: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as string;
      const earlier = this.rows.get(id);
      if (earlier !== undefined) {
        for (const a of added) this.rows.delete(a);
        throw invalid(`id ${JSON.stringify(id)} appears twice (rows ${earlier} and ${rowNumbers[i]}): a table output is keyed by the id, so --id-column must name a column of unique values`);
      }
      this.rows.set(id, rowNumbers[i] as number);
      added.push(id);
    }
  }

  get size(): number {
    return this.rows.size;
  }

  clear(): void {
    this.rows.clear();
  }
}

/** A column a table must have: its name and its type as the database's catalog writes it. */
export interface TableColumn {
  readonly name: string;
  readonly type: string;
}

/**
 * Checks an existing table against the columns the job writes: each must exist with its type, and `id` must be
 * the primary key (or unique), which ON CONFLICT (id) needs. Other columns (added by the user, with defaults) are
 * left alone.
 */
export function checkTableColumns(
  where: string,
  want: readonly TableColumn[],
  have: ReadonlyMap<string, string>,
  idIsKey: boolean,
  createSql: string,
): void {
  const problems: string[] = [];
  for (const c of want) {
    const t = have.get(c.name);
    if (t === undefined) problems.push(`no column '${c.name}' (${c.type})`);
    else if (t.toUpperCase() !== c.type.toUpperCase()) problems.push(`column '${c.name}' is ${t}, not ${c.type}`);
  }
  if (problems.length === 0 && !idIsKey) problems.push(`column 'id' is not its primary key (or unique), which upserts need`);
  if (problems.length > 0) {
    throw invalid(`${where} exists but does not fit this model's outputs: ${problems.join('; ')}. Use another --table, or drop it to have it made as: ${createSql}`);
  }
}
