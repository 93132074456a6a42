/**
 * The conformance suite of the table outputs (a DuckDB file, a real PostgreSQL server started for the test): values
 * round-trip, every id lands once, a rerun upserts (overwrites, never duplicates), uncommitted rows vanish with a
 * killed job, an existing table of another layout is refused with a clear error, repeated ids are refused.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { openWriter } from '../../../src/batch/writers/index.js';
import type { ScoredBatch, WriterOptions } from '../../../src/batch/types.js';
import type { TensorSpec } from '../../../src/tensor/tensor.js';
import { startPostgres, type TestPostgres } from '../../helpers/postgres.js';
import { expectedRows, makeBatch, options, RICH_SPECS, type Row } from './helpers.js';

let dir: string;
let postgres: TestPostgres;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-tables-'));
  postgres = await startPostgres();
});
after(async () => {
  await postgres?.stop();
  await rm(dir, { recursive: true, force: true });
});

const SIMPLE: readonly TensorSpec[] = [
  { name: 'label', datatype: 'INT64', shape: [-1] },
  { name: 'probabilities', datatype: 'FP32', shape: [-1, 2] },
];

type TableFormat = 'duckdb' | 'postgres';

let seq = 0;

interface Target {
  /** The --output: a fresh .duckdb file, or the server's URL. */
  readonly output: string;
  readonly table: string;
}

function target(format: TableFormat): Target {
  seq++;
  return format === 'duckdb' ? { output: join(dir, `out-${seq}.duckdb`), table: 'predictions' } : { output: postgres.url, table: `predictions_${seq}` };
}

function open(format: TableFormat, t: Target, o: WriterOptions) {
  return openWriter(t.output, format, { ...o, table: t.table });
}

/** Runs SQL against the target's database (DuckDB: opens the file, so only once the writer has closed it). */
async function sql(format: TableFormat, t: Target, text: string): Promise<Row[]> {
  if (format === 'postgres') return postgres.query(text);
  const db = await DuckDBInstance.create(t.output);
  const conn = await db.connect();
  try {
    return (await conn.runAndReadAll(text)).getRowObjectsJS() as Row[];
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

/**
 * The table's rows by id, as the writers' own tests expect them: PostgreSQL gives bigint and numeric as text and
 * real as the shortest decimal; here they become bigint and the float32 value again.
 */
async function readTable(format: TableFormat, t: Target, specs: readonly TensorSpec[]): Promise<Row[]> {
  const rows = await sql(format, t, `SELECT * FROM "${t.table}" ORDER BY id`);
  if (format === 'duckdb') return rows;
  const fix = (datatype: string, v: unknown): unknown => {
    if (v === null) return v;
    if (datatype === 'INT64' || datatype === 'UINT64') return BigInt(v as string);
    if (datatype === 'FP32' || datatype === 'FP16') return Math.fround(v as number);
    return v;
  };
  return rows.map((r) => {
    const out: Row = { ...r };
    for (const s of specs) out[s.name] = Array.isArray(r[s.name]) ? (r[s.name] as unknown[]).map((v) => fix(s.datatype, v)) : fix(s.datatype, r[s.name]);
    return out;
  });
}

const byId = (a: Row, b: Row): number => (String(a.id) < String(b.id) ? -1 : String(a.id) > String(b.id) ? 1 : 0);

for (const format of ['duckdb', 'postgres'] as const) {
  describe(`${format} table writer`, () => {
    it('round-trips every row and value, each id once, across batches and commits', async () => {
      const t = target(format);
      const w = await open(format, t, options(RICH_SPECS));
      const batches = [makeBatch(RICH_SPECS, 0, 40), makeBatch(RICH_SPECS, 40, 1), makeBatch(RICH_SPECS, 41, 0), makeBatch(RICH_SPECS, 41, 3000)];
      await w.write(batches[0] as ScoredBatch);
      assert.deepEqual(await w.commit(), { format: `${format}-table`, table: t.table, rows: 40 });
      for (const b of batches.slice(1)) await w.write(b);
      await w.close();
      const rows = await readTable(format, t, RICH_SPECS);
      assert.equal(rows.length, 3041);
      // The Parquet writer's expectations: the same column types (NaN and infinities kept as they are).
      assert.deepStrictEqual(rows, expectedRows(RICH_SPECS, batches, 'parquet').sort(byId));
    });

    it('makes the table with id as primary key, one column per output, model and model_version', async () => {
      const t = target(format);
      const w = await open(format, t, options(SIMPLE));
      await w.close();
      if (format === 'duckdb') {
        const cols = await sql(format, t, `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = '${t.table}' ORDER BY ordinal_position`);
        assert.deepEqual(cols.map((c) => [c.column_name, c.data_type]), [
          ['id', 'VARCHAR'], ['label', 'BIGINT'], ['probabilities', 'FLOAT[]'], ['model', 'VARCHAR'], ['model_version', 'VARCHAR'],
        ]);
      } else {
        const cols = await sql(format, t, `SELECT attname, format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = '${t.table}'::regclass AND attnum > 0 ORDER BY attnum`);
        assert.deepEqual(cols.map((c) => [c.attname, c.type]), [
          ['id', 'text'], ['label', 'bigint'], ['probabilities', 'real[]'], ['model', 'text'], ['model_version', 'text'],
        ]);
      }
      assert.deepEqual(await sql(format, t, `SELECT count(*)::INTEGER AS n FROM "${t.table}"`), [{ n: 0 }]);
    });

    it('a rerun upserts: rows of the same ids are overwritten, not duplicated; other rows stay', async () => {
      const t = target(format);
      const w1 = await open(format, t, options(SIMPLE));
      await w1.write(makeBatch(SIMPLE, 0, 100));
      await w1.close();
      const w2 = await open(format, t, { ...options(SIMPLE), modelVersion: '4' });
      await w2.write(makeBatch(SIMPLE, 50, 100));
      await w2.close();
      const rows = await readTable(format, t, SIMPLE);
      assert.equal(rows.length, 150);
      assert.equal(new Set(rows.map((r) => r.id)).size, 150);
      const version = new Map(rows.map((r) => [r.id, r.model_version]));
      assert.equal(version.get(makeBatch(SIMPLE, 10, 1).ids[0]), '3');
      assert.equal(version.get(makeBatch(SIMPLE, 60, 1).ids[0]), '4');
      assert.equal(version.get(makeBatch(SIMPLE, 149, 1).ids[0]), '4');
    });

    it('resumes after a crash: uncommitted rows are gone, the rerun rewrites the same keys, none lost or doubled', async () => {
      const t = target(format);
      const b = (start: number, n: number): ScoredBatch => makeBatch(RICH_SPECS, start, n);
      const w1 = await open(format, t, options(RICH_SPECS));
      await w1.write(b(0, 100));
      const committed = await w1.commit();
      // Committed again, but killed before that checkpoint was stored; then more rows, never committed.
      await w1.write(b(100, 50));
      await w1.commit();
      await w1.write(b(150, 5000));
      await w1.release!(); // what a kill does: the connection goes, the open transaction (or the stage) with it
      assert.equal((await readTable(format, t, RICH_SPECS)).length, 150, 'only committed rows are in the table');
      const w2 = await open(format, t, options(RICH_SPECS, committed));
      await w2.write(b(100, 120));
      assert.equal((await w2.commit()).rows, 220);
      await w2.write(b(220, 5));
      await w2.close();
      assert.deepStrictEqual(await readTable(format, t, RICH_SPECS), expectedRows(RICH_SPECS, [b(0, 225)], 'parquet').sort(byId));
    });

    it('refuses an existing table of another layout, naming what does not fit', async () => {
      const t = target(format);
      const w = await open(format, t, options(SIMPLE));
      await w.close();
      const other: TensorSpec[] = [{ name: 'label', datatype: 'FP64', shape: [-1] }, { name: 'extra', datatype: 'FP32', shape: [-1, 3] }];
      await assert.rejects(open(format, t, options(other)), (e: Error) => {
        assert.match(e.message, new RegExp(`${t.table}.* exists but does not fit this model's outputs`));
        assert.match(e.message, /column 'label' is (BIGINT|bigint), not (DOUBLE|double precision)/);
        assert.match(e.message, /no column 'extra' \((FLOAT\[\]|real\[\])\)/);
        assert.match(e.message, /CREATE TABLE/);
        return true;
      });
    });

    it('refuses a table whose id is not a key, and an id repeated within a commit', async () => {
      const t = target(format);
      if (format === 'duckdb') {
        const db = await DuckDBInstance.create(t.output);
        const conn = await db.connect();
        await conn.run(`CREATE TABLE ${t.table} (id VARCHAR, label BIGINT, probabilities FLOAT[], model VARCHAR, model_version VARCHAR)`);
        conn.closeSync();
        db.closeSync();
      } else {
        await postgres.query(`CREATE TABLE ${t.table} (id text, label bigint, probabilities real[], model text, model_version text)`);
      }
      await assert.rejects(open(format, t, options(SIMPLE)), /column 'id' is not its primary key/);
      const t2 = target(format);
      const w = await open(format, t2, options(SIMPLE));
      await w.write(makeBatch(SIMPLE, 0, 3, (r) => `k${r}`));
      await assert.rejects(w.write(makeBatch(SIMPLE, 3, 3, (r) => `k${r % 4}`)), /id "k0" appears twice \(rows 0 and 4\).*--id-column/);
      await w.release!();
    });

    it('refuses a batch that does not fit the outputs, and an output named like a ferry column', async () => {
      const t = target(format);
      await assert.rejects(open(format, t, options([{ name: 'model', datatype: 'FP32', shape: [-1] }])), /clashes/);
      const w = await open(format, t, options(SIMPLE));
      const good = makeBatch(SIMPLE, 0, 4);
      await assert.rejects(w.write({ ...good, outputs: good.outputs.slice(0, 1) }), /no output 'probabilities'/);
      await w.write(good);
      await w.close();
      assert.equal((await readTable(format, t, SIMPLE)).length, 4);
    });

    it("refuses to resume from another writer's state", async () => {
      const t = target(format);
      await assert.rejects(open(format, t, options(SIMPLE, { format: 'jsonl', bytes: 0, rows: 0 })), /not a .*-table writer's state/);
    });
  });
}

describe('postgres table writer: connection errors', () => {
  it('says where it could not connect, without the password', async () => {
    await assert.rejects(
      openWriter('postgresql://ferry:s3cret@127.0.0.1:1/db', 'postgres', options(SIMPLE)),
      (e: Error) => {
        assert.match(e.message, /^cannot connect to PostgreSQL at postgresql:\/\/ferry:\*\*\*@127\.0\.0\.1:1\/db \(--output\): nothing listens there/);
        assert.doesNotMatch(e.message, /s3cret/);
        return true;
      },
    );
  });
});
