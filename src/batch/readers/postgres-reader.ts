/**
 * The PostgreSQL reader: a query's rows through a server-side cursor (DECLARE ... CURSOR in a read-only REPEATABLE
 * READ transaction, then FETCH batch-size rows at a time), so memory stays bounded whatever the result's size.
 *
 * Positions are row numbers of the query's result (byteOffset is always 0, see SourcePosition); a resumed read MOVEs
 * the cursor past that many rows on the server. Resuming and sharding (rowNumber % N) are exact only when the query
 * returns the same rows in the same order every time: it needs an ORDER BY on a unique key. `--input-table` orders
 * by the table's primary key (or the --id-column) for that reason.
 *
 * Columns: smallint, integer, bigint, real, double precision and numeric (and arrays of them) are numeric and feed
 * the model by default; bigint and numeric come from the server as text and are parsed as CSV parses a field, so a
 * numeric too large for a double is read as the nearest double, as from a CSV file. Text columns may be ids.
 */
import { invalid, isFerryError } from '../../errors.js';
import { connectPostgres, queryReason, redactUrl, tableIdent, type PostgresClient } from '../postgres.js';
import type { Reader, ReaderOptions } from '../types.js';
import { checkReaderOptions, planInputs, startRow, type InputPlan } from './input-plan.js';
import { RecordSourceReader } from './record-batches.js';

export interface PostgresReaderOptions extends ReaderOptions {
  /** A table to read whole (`--input-table`), instead of `query`. */
  readonly table?: string;
  /** The --id-column: what --input-table orders by when the table has no primary key. */
  readonly idColumnName?: string;
}

/** int2, int4, int8, float4, float8, numeric, oid, and their arrays. */
const NUMERIC_OIDS: ReadonlySet<number> = new Set([21, 23, 20, 700, 701, 1700, 26, 1005, 1007, 1016, 1021, 1022, 1231]);

const CURSOR = 'ferry_rows';

/** The statement the cursor runs: the --query as given (without trailing semicolons), or the --input-table's rows in key order. */
async function sourceQuery(client: PostgresClient, o: PostgresReaderOptions): Promise<string> {
  if (o.table !== undefined) {
    if (o.query !== undefined) throw invalid('give --query or --input-table, not both');
    const table = tableIdent(o.table, '--input-table');
    let key: string[];
    try {
      const pk = await client.query<{ name: string }>(
        `SELECT a.attname AS name FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
         WHERE i.indrelid = $1::regclass AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)`,
        [table],
      );
      key = pk.rows.map((r) => r.name);
    } catch (e) {
      throw invalid(`--input-table ${o.table}: ${queryReason(e)}`);
    }
    if (key.length === 0 && o.idColumnName !== undefined) key = [o.idColumnName];
    if (key.length === 0) {
      throw invalid(`--input-table ${o.table} has no primary key to read its rows in a fixed order (which resuming and --shard need): name a unique column with --id-column, or give --query with an ORDER BY`);
    }
    return `SELECT * FROM ${table} ORDER BY ${key.map((k) => `"${k.replace(/"/g, '""')}"`).join(', ')}`;
  }
  const q = o.query?.trim().replace(/;+\s*$/, '');
  if (!q) throw invalid('a PostgreSQL input needs --query \'SELECT ... ORDER BY ...\' or --input-table NAME');
  return q;
}

export async function openPostgresReader(url: string, options: PostgresReaderOptions): Promise<Reader> {
  const shard = checkReaderOptions(options);
  const start = startRow(redactUrl(url), options.startAt);
  const client = await connectPostgres(url, '--input');
  try {
    const query = await sourceQuery(client, options);
    const flag = options.table !== undefined ? `--input-table ${options.table}` : '--query';
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      await client.query(`DECLARE ${CURSOR} NO SCROLL CURSOR FOR ${query}`);
      if (start > 0) {
        const moved = await client.query(`MOVE FORWARD ${start} IN ${CURSOR}`);
        if ((moved.rowCount ?? 0) < start) {
          throw invalid(`${flag}: resume row ${start} lies past the ${moved.rowCount ?? 0} rows the query returns now; did the data change?`);
        }
      }
    } catch (e) {
      throw isFerryError(e) ? e : invalid(`${flag} failed: ${queryReason(e)}`);
    }
    const first = await fetch(client, options.batchSize, flag);
    const header = first.fields.map((f) => f.name);
    const plan = planInputs(header, options, false, first.fields.map((f) => NUMERIC_OIDS.has(f.dataTypeID)));
    return new PostgresReader(client, plan, shard, start, options.batchSize, first.rows, flag);
  } catch (e) {
    await client.end().catch(() => {});
    throw e;
  }
}

async function fetch(client: PostgresClient, n: number, flag: string): Promise<{ rows: unknown[][]; fields: { name: string; dataTypeID: number }[] }> {
  try {
    return await client.query<unknown[]>({ text: `FETCH FORWARD ${n} FROM ${CURSOR}`, rowMode: 'array' });
  } catch (e) {
    throw invalid(`${flag} failed: ${queryReason(e)}`);
  }
}

class PostgresReader extends RecordSourceReader {
  constructor(
    private readonly client: PostgresClient,
    plan: InputPlan,
    shard: { index: number; count: number },
    start: number,
    batchSize: number,
    /** The rows of the first FETCH (it also told the columns). */
    private firstRows: unknown[][] | undefined,
    private readonly flag: string,
  ) {
    super(plan, shard, start, batchSize);
  }

  /** The cursor's rows, a FETCH of batchSize at a time, until it is exhausted or the reader is closed. */
  protected async *chunks(): AsyncGenerator<unknown[][]> {
    while (!this.closed) {
      const rows = this.firstRows ?? (await fetch(this.client, this.batchSize, this.flag)).rows;
      this.firstRows = undefined;
      if (rows.length === 0) return;
      yield rows;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Ending the session ends the read-only transaction and its cursor with it.
    await this.client.end().catch(() => {});
  }
}
