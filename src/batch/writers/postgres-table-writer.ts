/**
 * A PostgreSQL table as the output (`--output postgresql://... --table NAME`): rows upserted on `id` (see
 * table-output.ts for why upserts make a resumed job exactly once).
 *
 * Each batch is one statement: `INSERT ... SELECT FROM unnest($1::text[], $2::real[], ...) ON CONFLICT (id) DO
 * UPDATE`, a few array parameters whatever the batch's size (no limit of 65,535 parameters, one round trip, one plan).
 * Array outputs travel as array literals ('{0.1,0.9}') cast on the server, since unnest flattens a 2-D array.
 * The statements of one commit window run in one transaction, begun at the first write and committed by commit():
 * a job killed before that leaves nothing of the window behind, and the checkpoint is written only after COMMIT
 * returned (PostgreSQL has then flushed its log, with the default synchronous_commit).
 *
 * Columns: id text PRIMARY KEY; BOOL boolean; INT8, INT16, UINT8 smallint; INT32, UINT16 integer; INT64, UINT32
 * bigint; UINT64 numeric(20,0) (exact); FP16, FP32 real; FP64 double precision; BYTES text (PostgreSQL's text cannot
 * hold a NUL character: such a value fails the job rather than being cut); an array output as an array of that type
 * (real[]); model text; model_version text. NaN and infinities are stored as they are.
 */
import { invalid, isFerryError } from '../../errors.js';
import type { Datatype } from '../../tensor/datatypes.js';
import { fromHalfBits } from '../../tensor/fp16.js';
import { connectPostgres, queryReason, redactUrl, tableIdent, type PostgresClient } from '../postgres.js';
import type { ScoredBatch, Writer, WriterOptions, WriterState } from '../types.js';
import { checkBatch, makeLayout, MODEL_COLUMN, VERSION_COLUMN, type Layout, type OutputData } from './layout.js';
import { Serial } from './serial.js';
import { checkTableColumns, DEFAULT_TABLE, parseTableState, UncommittedIds, type TableColumn, type TableState } from './table-output.js';

const PG_TYPES: Readonly<Record<Datatype, string>> = {
  BOOL: 'boolean', INT8: 'smallint', INT16: 'smallint', INT32: 'integer', INT64: 'bigint',
  UINT8: 'smallint', UINT16: 'integer', UINT32: 'bigint', UINT64: 'numeric(20,0)',
  FP16: 'real', FP32: 'real', FP64: 'double precision', BYTES: 'text',
};

const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** One element as text PostgreSQL parses back to the same value (String(NaN) is 'NaN', which it takes). */
function elementText(out: OutputData): (i: number) => string {
  const d = out.data;
  switch (out.column.kind) {
    case 'fp16': return (i) => String(fromHalfBits(d[i] as number));
    case 'bool': return (i) => (d[i] !== 0 ? 't' : 'f');
    default: return (i) => String(d[i]);
  }
}

/** An array literal element: text quoted and escaped, anything else as it is. */
function arrayElement(text: boolean, s: string): string {
  return text ? `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : s;
}

/** One parameter per output: its rows as text, a scalar per row or an array literal per row. */
function outputParam(out: OutputData, rows: number): string[] {
  const element = elementText(out);
  const values = new Array<string>(rows);
  if (out.column.scalar) {
    for (let r = 0; r < rows; r++) values[r] = element(r);
    return values;
  }
  const k = out.perRow;
  const text = out.column.kind === 'bytes';
  for (let r = 0; r < rows; r++) {
    const items = new Array<string>(k);
    for (let j = 0; j < k; j++) items[j] = arrayElement(text, element(r * k + j));
    values[r] = `{${items.join(',')}}`;
  }
  return values;
}

class PostgresTableWriter implements Writer {
  private readonly serial: Serial;
  private readonly pending = new UncommittedIds();
  private readonly upsertSql: string;
  private inTransaction = false;
  private uncommittedRows = 0;

  constructor(
    private readonly where: string,
    private readonly client: PostgresClient,
    private readonly tableName: string,
    table: string,
    private readonly layout: Layout,
    private readonly options: WriterOptions,
    private rows: number,
  ) {
    this.serial = new Serial(`PostgreSQL table writer for ${where}`);
    const outputs = layout.outputs;
    const params = ['$1::text[]', ...outputs.map((o, i) => `$${i + 2}::${o.scalar ? PG_TYPES[o.datatype] : 'text'}[]`)];
    const aliases = ['c0', ...outputs.map((_, i) => `c${i + 1}`)];
    const selects = ['u.c0', ...outputs.map((o, i) => (o.scalar ? `u.c${i + 1}` : `u.c${i + 1}::${PG_TYPES[o.datatype]}[]`))];
    const n = outputs.length + 2;
    const set = [...outputs.map((o) => o.name), MODEL_COLUMN, VERSION_COLUMN].map((c) => `${ident(c)} = EXCLUDED.${ident(c)}`).join(', ');
    this.upsertSql =
      `INSERT INTO ${table} (${layout.columnNames.map(ident).join(', ')}) ` +
      `SELECT ${selects.join(', ')}, $${n}::text, $${n + 1}::text FROM unnest(${params.join(', ')}) AS u(${aliases.join(', ')}) ` +
      `ON CONFLICT (${ident('id')}) DO UPDATE SET ${set}`;
  }

  write(batch: ScoredBatch): Promise<void> {
    let outs: OutputData[];
    try {
      outs = checkBatch(this.layout, batch);
    } catch (e) {
      return Promise.reject(e);
    }
    // The parameters are built now: the caller may reuse the batch's arrays once write() returns.
    const rows = batch.ids.length;
    if (rows === 0) return this.serial.run(async () => {});
    const values: unknown[] = [[...batch.ids], ...outs.map((o) => outputParam(o, rows)), this.options.model, this.options.modelVersion];
    const ids = [...batch.ids];
    const rowNumbers = [...batch.rowNumbers];
    return this.serial.run(async () => {
      this.pending.add(ids, rowNumbers);
      try {
        if (!this.inTransaction) {
          await this.client.query('BEGIN');
          this.inTransaction = true;
        }
        await this.client.query(this.upsertSql, values);
      } catch (e) {
        throw invalid(`writing ${this.where}: ${queryReason(e)}`);
      }
      this.uncommittedRows += rows;
    });
  }

  private async commitWindow(): Promise<void> {
    if (!this.inTransaction) return;
    try {
      await this.client.query('COMMIT');
    } catch (e) {
      throw invalid(`committing ${this.where}: ${queryReason(e)}`);
    }
    this.inTransaction = false;
    this.rows += this.uncommittedRows;
    this.uncommittedRows = 0;
    this.pending.clear();
  }

  private get state(): TableState {
    return { format: 'postgres-table', table: this.tableName, rows: this.rows };
  }

  commit(): Promise<WriterState> {
    return this.serial.run(async () => {
      await this.commitWindow();
      return this.state;
    });
  }

  close(): Promise<void> {
    return this.serial.close(async () => {
      try {
        await this.commitWindow();
      } finally {
        await this.end();
      }
    });
  }

  /** Ends the session: the server rolls back an open transaction with it. Works whatever state the writer is in. */
  release(): Promise<void> {
    return this.end();
  }

  private ended = false;

  private async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await this.client.end().catch(() => {});
  }
}

function wantedColumns(layout: Layout): TableColumn[] {
  return [
    { name: 'id', type: 'text' },
    ...layout.outputs.map((o) => ({ name: o.name, type: `${PG_TYPES[o.datatype]}${o.scalar ? '' : '[]'}` })),
    { name: MODEL_COLUMN, type: 'text' },
    { name: VERSION_COLUMN, type: 'text' },
  ];
}

/** The table's columns (name -> type as format_type writes it) and whether id is a key; undefined when there is no such table. */
async function describeTable(client: PostgresClient, table: string): Promise<{ columns: Map<string, string>; idIsKey: boolean } | undefined> {
  const exists = await client.query<{ oid: string | null }>('SELECT to_regclass($1)::oid AS oid', [table]);
  const oid = exists.rows[0]?.oid;
  if (oid === null || oid === undefined) return undefined;
  const cols = await client.query<{ name: string; type: string }>(
    'SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped',
    [oid],
  );
  const key = await client.query<{ n: string }>(
    `SELECT count(*) AS n FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
     WHERE i.indrelid = $1 AND i.indisunique AND i.indnkeyatts = 1 AND i.indpred IS NULL AND a.attname = 'id'`,
    [oid],
  );
  return { columns: new Map(cols.rows.map((r) => [r.name, r.type])), idIsKey: Number(key.rows[0]?.n) > 0 };
}

async function ensureTable(client: PostgresClient, where: string, table: string, want: readonly TableColumn[]): Promise<void> {
  const create = `CREATE TABLE ${table} (${want.map((c) => `${ident(c.name)} ${c.type}${c.name === 'id' ? ' PRIMARY KEY' : ''}`).join(', ')})`;
  let found = await describeTable(client, table);
  if (found === undefined) {
    try {
      await client.query(create.replace(/^CREATE TABLE/, 'CREATE TABLE IF NOT EXISTS'));
    } catch (e) {
      // Two shards creating the table at once: one wins, the other sees a duplicate type; the table is there.
      const code = (e as { code?: string }).code;
      if (code !== '23505' && code !== '42P07') throw e;
    }
    found = await describeTable(client, table);
    if (found === undefined) throw invalid(`${where} could not be created`);
  }
  checkTableColumns(where, want, found.columns, found.idIsKey, create);
}

export async function openPostgresTableWriter(url: string, options: WriterOptions): Promise<Writer> {
  const layout = makeLayout(options);
  const name = options.table ?? DEFAULT_TABLE;
  const table = tableIdent(name, '--table');
  const where = `table ${name} at ${redactUrl(url)}`;
  const resume = options.resume === undefined ? undefined : parseTableState(options.resume, 'postgres-table', name, redactUrl(url));
  const client = await connectPostgres(url, '--output');
  try {
    try {
      await ensureTable(client, where, table, wantedColumns(layout));
    } catch (e) {
      if (isFerryError(e)) throw e;
      throw invalid(`${where}: ${queryReason(e)}`);
    }
    return new PostgresTableWriter(where, client, name, table, layout, options, resume?.rows ?? 0);
  } catch (e) {
    await client.end().catch(() => {});
    throw e;
  }
}
