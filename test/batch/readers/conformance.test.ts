/**
 * The conformance suite every reader passes: the same logical table, written in each format, must read back as
 * the same rows, values, ids and rejects, whatever the batch size, shard, resume point or read size. Typed sources
 * (Parquet, a PostgreSQL query against a real server) hold it with typed columns: numbers as DOUBLE, the column
 * with "abc" in it as text, the empty cell as NULL.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { openReader } from '../../../src/batch/readers/index.js';
import type { CsvReaderOptions } from '../../../src/batch/readers/index.js';
import type { ReaderOptions, SourcePosition } from '../../../src/batch/types.js';
import { byName, loadPostgres, readAll, tempDir, writeParquet, writeTable, type Cell, type ColumnKind, type Table } from './fixtures.js';
import { startPostgres, type TestPostgres } from '../../helpers/postgres.js';

const N = 23;
/** Numbers in the forms a file may hold them, with what they mean. */
const FORMS: { csv: string; json: number }[] = [
  { csv: '1e-5', json: 1e-5 },
  { csv: '.5', json: 0.5 },
  { csv: '5.', json: 5 },
  { csv: '+3', json: 3 },
  { csv: '-2.5E+3', json: -2500 },
  { csv: '1.0000000000000002', json: 1.0000000000000002 },
  { csv: '1.354000000000000092e+01', json: 13.54 },
  { csv: '-0.0022111613750457767', json: -0.0022111613750457767 },
  { csv: '123456789012345678901234', json: 123456789012345678901234 },
  { csv: '7e-30', json: 7e-30 },
  { csv: '0', json: 0 },
];
const BAD = new Map<number, { column: string; cell: Cell; reason: string }>([
  [5, { column: 'b', cell: 'abc', reason: `column 'b': "abc" is not a number` }],
  [9, { column: 'a', cell: '', reason: `column 'a' is empty` }],
  [13, { column: 'count', cell: { csv: '1.5', json: 1.5 }, reason: `column 'count': "1.5" is not an integer` }],
]);
const header = ['id', 'a', 'b', 'c', 'count', 'name', 'flag', 'unused'];
const NAMES = ['plain', 'with, comma', 'with "quotes"', 'two\nlines', 'café ☕'];

function cellsOf(i: number): Cell[] {
  const form = FORMS[i % FORMS.length] as { csv: string; json: number };
  const row: Cell[] = [`r${i}`, i * 0.5 - 3, { csv: form.csv, json: form.json }, (i - 11) * 1e-5, i * 7, NAMES[i % NAMES.length] as string, i % 3 === 0, 'x'];
  const bad = BAD.get(i);
  if (bad) row[header.indexOf(bad.column)] = bad.cell;
  return row;
}
const table: Table = { header, rows: Array.from({ length: N }, (_, i) => cellsOf(i)) };
const GOOD = Array.from({ length: N }, (_, i) => i).filter((i) => !BAD.has(i));

const mapAll = byName(
  [
    { input: 'x', datatype: 'FP32', columns: ['a', 'b', 'c'] },
    { input: 'n', datatype: 'INT64', columns: ['count'], rowShape: [] },
    { input: 's', datatype: 'BYTES', columns: ['name'] },
    { input: 'f', datatype: 'BOOL', columns: ['flag'] },
    { input: 'y', datatype: 'FP64', columns: ['c', 'a'], rowShape: [2, 1] },
  ],
  'id',
);

function expected(i: number): unknown[][] {
  const form = FORMS[i % FORMS.length] as { csv: string };
  const a = i * 0.5 - 3;
  const c = (i - 11) * 1e-5;
  return [[Math.fround(a), Math.fround(Number(form.csv)), Math.fround(c)], [i * 7], [NAMES[i % NAMES.length]], [i % 3 === 0 ? 1 : 0], [c, a]];
}

/** The typed sources' column types: 'b' holds "abc", so it is text there (and parsed as CSV parses a field). */
const KINDS: ColumnKind[] = ['text', 'double', 'text', 'double', 'double', 'text', 'boolean', 'text'];

interface Variant {
  name: string;
  format: 'csv' | 'jsonl' | 'parquet' | 'postgres';
  extra: Partial<CsvReaderOptions>;
  /** Row-addressed: positions are row numbers, byteOffset stays 0. */
  typed?: boolean;
  /** Makes the source; returns its path (or URL) and the options it needs. */
  setup?: () => Promise<{ path: string; extra: Partial<CsvReaderOptions> & { query?: string } }>;
  teardown?: () => Promise<void>;
}

let postgres: TestPostgres | undefined;

const VARIANTS: Variant[] = [
  { name: 'csv', format: 'csv', extra: {} },
  { name: 'csv, 3-byte reads', format: 'csv', extra: { chunkSize: 3 } },
  { name: 'csv, parsed in a worker thread', format: 'csv', extra: { thread: 'worker', chunkSize: 16 } },
  { name: 'jsonl', format: 'jsonl', extra: {} },
  { name: 'jsonl, 5-byte reads', format: 'jsonl', extra: { chunkSize: 5 } },
  {
    name: 'parquet (row groups of 4 rows)', format: 'parquet', extra: {}, typed: true,
    setup: async () => ({ path: await writeParquet(tempDir(), 'table', table, KINDS), extra: {} }),
  },
  {
    name: 'postgresql query', format: 'postgres', extra: {}, typed: true,
    setup: async () => {
      postgres = await startPostgres();
      await loadPostgres((sql, values) => postgres!.query(sql, values), 'conformance', table, KINDS);
      return { path: postgres.url, extra: { query: `SELECT ${header.map((h) => `"${h}"`).join(', ')} FROM conformance ORDER BY ord;` } };
    },
    teardown: async () => postgres?.stop(),
  },
];

/** How a typed source words row 9's missing 'a': a NULL, not an empty field. */
function reasonOf(variant: Variant, row: number, reason: string): string {
  return variant.typed && row === 9 ? `column 'a' is null` : reason;
}

for (const variant of VARIANTS) {
  describe(`reader conformance: ${variant.name}`, () => {
    let path = '';
    let sourceExtra: Partial<CsvReaderOptions> = {};
    const open = (o: Partial<ReaderOptions> & { batchSize: number }) =>
      openReader(path, variant.format, { mapColumns: mapAll, ...variant.extra, ...sourceExtra, ...o });
    before(async () => {
      if (variant.setup) ({ path, extra: sourceExtra } = await variant.setup());
      else path = writeTable(tempDir(), 'table', variant.format as 'csv' | 'jsonl', table);
    });
    after(async () => {
      await variant.teardown?.();
    });

    it('reads every row once, with its values, id and row number', async () => {
      const reader = await open({ batchSize: 1000 });
      assert.deepEqual(reader.header, header);
      const got = await readAll(reader);
      assert.deepEqual(got.rowNumbers, GOOD);
      assert.deepEqual(got.ids, GOOD.map((i) => `r${i}`));
      GOOD.forEach((i, r) => {
        const want = expected(i);
        got.values.forEach((perInput, k) => assert.deepEqual(perInput[r], want[k], `row ${i}, input ${k}`));
      });
      assert.equal(got.consumed, N);
    });

    it('gives each input its datatype and shape [rows, ...rowShape]', async () => {
      const { batches } = await readAll(await open({ batchSize: 1000 }));
      const [x, n, s, f, y] = (batches[0] as (typeof batches)[number]).inputs;
      const rows = GOOD.length;
      assert.ok(x?.data instanceof Float32Array);
      assert.deepEqual(x.shape, [rows, 3]);
      assert.ok(n?.data instanceof BigInt64Array);
      assert.deepEqual(n.shape, [rows]);
      assert.ok(Array.isArray(s?.data));
      assert.deepEqual(s.shape, [rows, 1]);
      assert.ok(f?.data instanceof Uint8Array);
      assert.ok(y?.data instanceof Float64Array);
      assert.deepEqual(y.shape, [rows, 2, 1]);
      assert.deepEqual([x.name, n.name, s.name, f.name, y.name], ['x', 'n', 's', 'f', 'y']);
      assert.deepEqual([x.datatype, n.datatype, s.datatype, f.datatype, y.datatype], ['FP32', 'INT64', 'BYTES', 'BOOL', 'FP64']);
    });

    it('rejects bad rows with a reason naming the column, and keeps the good ones', async () => {
      const { rejects } = await readAll(await open({ batchSize: 1000 }));
      assert.deepEqual(
        rejects,
        [...BAD].map(([row, b]) => ({ row, id: `r${row}`, reason: reasonOf(variant, row, b.reason) })),
      );
    });

    for (const batchSize of [1, 4, 7, N]) {
      it(`cuts batches of at most ${batchSize} rows, each with a position to resume from`, async () => {
        const got = await readAll(await open({ batchSize }));
        assert.deepEqual(got.rowNumbers, GOOD);
        let row = 0;
        for (const b of got.batches) {
          assert.ok(b.rowNumbers.length + b.rejects.length <= batchSize);
          assert.equal(b.consumed, b.rowNumbers.length + b.rejects.length);
          row += b.consumed;
          assert.equal(b.next.rowNumber, row);
          b.inputs.forEach((t) => assert.equal(t.shape[0], b.rowNumbers.length));
        }
        assert.equal(row, N);
        assert.equal(got.batches.at(-1)?.next.byteOffset, variant.typed ? 0 : statSync(path).size);
        assert.equal(got.batches.length, Math.ceil(N / batchSize));
      });
    }

    it('splits rows among shards: disjoint, together all of them', async () => {
      const count = 3;
      const seen: number[] = [];
      const rejected: number[] = [];
      for (let index = 0; index < count; index++) {
        const got = await readAll(await open({ batchSize: 2, shard: { index, count } }));
        for (const r of [...got.rowNumbers, ...got.rejects.map((x) => x.row)]) assert.equal(r % count, index);
        assert.equal(got.consumed, N, 'every row is consumed, skipped ones included');
        seen.push(...got.rowNumbers);
        rejected.push(...got.rejects.map((x) => x.row));
        assert.deepEqual(got.values[0], got.rowNumbers.map((i) => expected(i)[0]));
      }
      assert.deepEqual(seen.sort((a, b) => a - b), GOOD);
      assert.deepEqual(rejected.sort((a, b) => a - b), [...BAD.keys()]);
    });

    it('resumes from any batch position with exactly the remaining rows', async () => {
      const full = await readAll(await open({ batchSize: 3 }));
      const positions: SourcePosition[] = full.batches.map((b) => b.next);
      for (const startAt of positions) {
        const rest = await readAll(await open({ batchSize: 5, startAt }));
        const remaining = full.rowNumbers.filter((r) => r >= startAt.rowNumber);
        assert.deepEqual(rest.rowNumbers, remaining);
        assert.deepEqual(rest.ids, remaining.map((i) => `r${i}`));
        assert.deepEqual(rest.values[0] ?? [], remaining.map((i) => expected(i)[0]));
        assert.deepEqual(rest.rejects.map((x) => x.row), [...BAD.keys()].filter((r) => r >= startAt.rowNumber));
        assert.equal(rest.consumed, N - startAt.rowNumber);
      }
    });

    it('takes { byteOffset: 0, rowNumber: 0 } for the first row', async () => {
      const got = await readAll(await open({ batchSize: 100, startAt: { byteOffset: 0, rowNumber: 0 } }));
      assert.deepEqual(got.rowNumbers, GOOD);
    });

    it('resumes a shard mid-file', async () => {
      const shard = { index: 1, count: 2 };
      const full = await readAll(await open({ batchSize: 2, shard }));
      const mid = full.batches[2]?.next as SourcePosition;
      const rest = await readAll(await open({ batchSize: 2, shard, startAt: mid }));
      assert.deepEqual(rest.rowNumbers, full.rowNumbers.filter((r) => r >= mid.rowNumber));
    });

    it('uses the row number as the id when there is no id column', async () => {
      const got = await readAll(await open({ batchSize: 10, mapColumns: byName([{ input: 'x', datatype: 'FP64', columns: ['a'] }]) }));
      assert.deepEqual(got.ids, got.rowNumbers.map(String));
      assert.deepEqual(got.rowNumbers, Array.from({ length: N }, (_, i) => i).filter((i) => i !== 9));
    });

    it('checks the mappings against the header before reading', async () => {
      await assert.rejects(
        open({ batchSize: 10, mapColumns: () => ({ mappings: [{ input: 'x', datatype: 'FP32', columns: [99], rowShape: [1] }], idColumn: undefined }) }),
        /column 99 is not a column of the header/,
      );
      await assert.rejects(open({ batchSize: 0 }), /batch size must be a positive integer/);
      await assert.rejects(open({ batchSize: 1, shard: { index: 2, count: 2 } }), /shard 2\/2/);
      await assert.rejects(open({ batchSize: 1, startAt: { byteOffset: 1e9, rowNumber: 3 } }), /resume offset/);
    });

    it('reads integer inputs of every width and checks their range', async () => {
      const got = await readAll(
        await open({
          batchSize: 100,
          mapColumns: byName([
            { input: 'i8', datatype: 'INT8', columns: ['count'] },
            { input: 'u16', datatype: 'UINT16', columns: ['count'] },
            { input: 'i32', datatype: 'INT32', columns: ['count'] },
          ]),
        }),
      );
      // count = 7 i: INT8 holds up to 127, so rows from 19 on are out of range (and 13 is 1.5); the column feeds
      // both INT8 and UINT16: CSV checks the column against both ranges at once, JSON Lines each input in turn
      assert.deepEqual(got.rowNumbers, Array.from({ length: 19 }, (_, i) => i).filter((i) => i !== 13));
      assert.deepEqual(got.values[0], got.rowNumbers.map((i) => [i * 7]));
      assert.match(got.rejects.find((r) => r.row === 19)?.reason ?? '', /column 'count': "133" is out of range \((0|-128) to 127\)/);
      assert.ok(got.batches[0]?.inputs[0]?.data instanceof Int8Array);
      assert.ok(got.batches[0]?.inputs[1]?.data instanceof Uint16Array);
      assert.ok(got.batches[0]?.inputs[2]?.data instanceof Int32Array);
    });
  });
}
