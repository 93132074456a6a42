/**
 * A DuckDB table as the output (`--output results.duckdb --table NAME`): rows upserted on `id` (see table-output.ts
 * for why upserts make a resumed job exactly once).
 *
 * DuckDB is slow row at a time (each autocommitted upsert costs milliseconds), so writes go as data chunks through an
 * appender into a TEMP staging table (in memory, no write-ahead log), and commit() moves the staged rows into the
 * table with one INSERT ... ON CONFLICT (id) DO UPDATE in one transaction, then empties the stage. A job killed before
 * that COMMIT loses only staged rows, which its rerun reads again; the checkpoint is written after the COMMIT
 * returned, and DuckDB's COMMIT has written and synced its log. close() also CHECKPOINTs, folding the log into the
 * database file.
 *
 * Measured (bench/table-writers.ts, 200,000 rows of a BIGINT and a FLOAT[2], shared 2-core machine): new ids go in
 * at 100,000-300,000 rows/s; overwriting ids already in the table ran at about 9,000-10,000 rows/s, because DuckDB
 * updates a row with a LIST column under a primary key index as a delete and a re-insert of its index entry. Smaller
 * commit windows did not help. A DuckDB table suits first loads and moderate reruns; for nightly overwrites of
 * millions of rows, PostgreSQL (or Parquet files) are the faster targets.
 *
 * Columns: id VARCHAR PRIMARY KEY; each output as the Parquet writer types it (FLOAT, BIGINT, VARCHAR..., FLOAT[] for
 * an array output); model VARCHAR; model_version VARCHAR. The file is locked while the job runs (DuckDB allows one
 * writing process): read it after the job, or through the job's own connection, not alongside.
 */
import { DuckDBInstance, type DuckDBAppender, type DuckDBConnection, type DuckDBType } from '@duckdb/node-api';
import { internal, invalid, messageOf } from '../../errors.js';
import type { ScoredBatch, Writer, WriterOptions, WriterState } from '../types.js';
import { CHUNK_ROWS, chunkTypes, fillChunk } from './duckdb-chunks.js';
import { checkBatch, makeLayout, MODEL_COLUMN, VERSION_COLUMN, type Layout } from './layout.js';
import { Serial } from './serial.js';
import { checkTableColumns, DEFAULT_TABLE, parseTableState, UncommittedIds, type TableColumn, type TableState } from './table-output.js';

const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;
const literal = (s: string): string => `'${s.replace(/'/g, "''")}'`;
const STAGE = 'ferry_stage';

/** A table name, possibly schema-qualified, as a quoted identifier. */
function tableIdent(name: string): { sql: string; schema: string; table: string } {
  const parts = name.split('.');
  if (name.trim() === '' || parts.length > 2 || parts.some((p) => p === '')) throw invalid(`--table takes a table name or schema.table, got '${name}'`);
  const [schema, table] = parts.length === 2 ? (parts as [string, string]) : ['main', parts[0] as string];
  return { sql: parts.map(ident).join('.'), schema, table };
}

function firstLine(s: string): string {
  return s.split('\n')[0] as string;
}

class DuckDBTableWriter implements Writer {
  private readonly serial: Serial;
  private readonly types: DuckDBType[];
  private readonly pending = new UncommittedIds();
  private appender: DuckDBAppender | undefined;
  private staged = 0;

  constructor(
    private readonly output: string,
    private readonly table: { sql: string; name: string },
    private readonly layout: Layout,
    private readonly options: WriterOptions,
    private readonly instance: DuckDBInstance,
    private readonly conn: DuckDBConnection,
    private rows: number,
  ) {
    this.serial = new Serial(`DuckDB table writer for ${output}`);
    this.types = chunkTypes(layout);
  }

  write(batch: ScoredBatch): Promise<void> {
    let outs: ReturnType<typeof checkBatch>;
    try {
      outs = checkBatch(this.layout, batch);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.serial.run(async () => {
      this.pending.add(batch.ids, batch.rowNumbers);
      this.appender ??= await this.conn.createAppender(STAGE);
      const n = batch.ids.length;
      // The chunk is filled (copied) now, so the caller may reuse the batch's arrays once this returns.
      for (let start = 0; start < n; start += CHUNK_ROWS) {
        const take = Math.min(CHUNK_ROWS, n - start);
        this.appender.appendDataChunk(fillChunk(this.types, this.layout, [{ ids: batch.ids, outs, start, n: take }], take));
      }
      this.staged += n;
    });
  }

  /** Moves the staged rows into the table: one upsert, one transaction. */
  private async upsertStaged(): Promise<void> {
    if (this.appender === undefined) return;
    this.appender.closeSync(); // flushes into the stage
    this.appender = undefined;
    const names = this.layout.columnNames;
    const outputs = names.slice(1, -2);
    const set = [...outputs, MODEL_COLUMN, VERSION_COLUMN].map((c) => `${ident(c)} = excluded.${ident(c)}`).join(', ');
    await this.conn.run('BEGIN TRANSACTION');
    try {
      const result = await this.conn.run(
        `INSERT INTO ${this.table.sql} (${names.map(ident).join(', ')}) ` +
          `SELECT ${['id', ...outputs].map(ident).join(', ')}, ${literal(this.options.model)}, ${literal(this.options.modelVersion)} FROM ${STAGE} ` +
          `ON CONFLICT (${ident('id')}) DO UPDATE SET ${set}`,
      );
      if (result.rowsChanged !== this.staged) {
        throw internal(`table ${this.table.name}: ${this.staged} rows were staged but the upsert changed ${result.rowsChanged}`);
      }
      await this.conn.run('COMMIT');
    } catch (e) {
      await this.conn.run('ROLLBACK').catch(() => {});
      throw invalid(`writing table ${this.table.name} in ${this.output}: ${firstLine(messageOf(e))}`);
    }
    await this.conn.run(`DELETE FROM ${STAGE}`);
    this.rows += this.staged;
    this.staged = 0;
    this.pending.clear();
  }

  private get state(): TableState {
    return { format: 'duckdb-table', table: this.table.name, rows: this.rows };
  }

  commit(): Promise<WriterState> {
    return this.serial.run(async () => {
      await this.upsertStaged();
      return this.state;
    });
  }

  close(): Promise<void> {
    return this.serial.close(async () => {
      try {
        await this.upsertStaged();
        await this.conn.run('CHECKPOINT');
      } finally {
        this.closeDatabase();
      }
    });
  }

  /** Closes the database without moving the staged rows in: they were never committed. Works in any state. */
  async release(): Promise<void> {
    this.closeDatabase();
  }

  private released = false;

  private closeDatabase(): void {
    if (this.released) return;
    this.released = true;
    // The staged rows live in a TEMP table: closing drops them; the appender is dropped without flushing into the table.
    try {
      this.appender?.closeSync();
    } catch {
      // nothing to keep
    }
    this.appender = undefined;
    this.conn.closeSync();
    this.instance.closeSync();
  }
}

/** DuckDB's catalog name for each of the job's columns. */
function wantedColumns(layout: Layout, types: readonly DuckDBType[]): TableColumn[] {
  return [
    ...layout.columnNames.slice(0, -2).map((name, i) => ({ name, type: (types[i] as DuckDBType).toString() })),
    { name: MODEL_COLUMN, type: 'VARCHAR' },
    { name: VERSION_COLUMN, type: 'VARCHAR' },
  ];
}

async function ensureTable(conn: DuckDBConnection, output: string, t: ReturnType<typeof tableIdent>, want: readonly TableColumn[]): Promise<void> {
  const create = `CREATE TABLE ${t.sql} (${want.map((c) => `${ident(c.name)} ${c.type}${c.name === 'id' ? ' PRIMARY KEY' : ''}`).join(', ')})`;
  const where = `table ${t.schema}.${t.table} in ${output}`;
  const cols = await conn.runAndReadAll(
    `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ${literal(t.schema)} AND table_name = ${literal(t.table)}`,
  );
  if (cols.currentRowCount === 0) {
    await conn.run(create);
    return;
  }
  const have = new Map(cols.getRows().map((r) => [String(r[0]).toLowerCase(), String(r[1])]));
  const keys = await conn.runAndReadAll(
    `SELECT count(*) FROM duckdb_constraints() WHERE schema_name = ${literal(t.schema)} AND table_name = ${literal(t.table)} ` +
      `AND constraint_type IN ('PRIMARY KEY', 'UNIQUE') AND constraint_column_names = ['id']`,
  );
  checkTableColumns(where, want.map((c) => ({ ...c, name: c.name.toLowerCase() })), have, Number(keys.getRows()[0]?.[0]) > 0, create);
}

export async function openDuckDBTableWriter(output: string, options: WriterOptions): Promise<Writer> {
  const layout = makeLayout(options, true); // DuckDB column names ignore case
  const name = options.table ?? DEFAULT_TABLE;
  const t = tableIdent(name);
  const resume = options.resume === undefined ? undefined : parseTableState(options.resume, 'duckdb-table', name, output);
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(output);
  } catch (e) {
    throw invalid(`cannot open ${output} as a DuckDB database: ${firstLine(messageOf(e))}`);
  }
  let conn: DuckDBConnection | undefined;
  try {
    conn = await instance.connect();
    const types = chunkTypes(layout);
    await ensureTable(conn, output, t, wantedColumns(layout, types));
    const stageCols = layout.columnNames.slice(0, -2).map((c, i) => `${ident(c)} ${(types[i] as DuckDBType).toString()}`);
    await conn.run(`CREATE TEMP TABLE ${STAGE} (${stageCols.join(', ')})`);
    return new DuckDBTableWriter(output, { sql: t.sql, name }, layout, options, instance, conn, resume?.rows ?? 0);
  } catch (e) {
    conn?.closeSync();
    instance.closeSync();
    throw e;
  }
}
