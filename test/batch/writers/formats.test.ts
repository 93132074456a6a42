/**
 * What each format spells differently: exact text for JSON Lines and CSV, NaN and infinities, Parquet column types
 * and parts, other tools (DuckDB) reading the files, picking a format from the path, and the rejects file.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRejectsWriter, openWriter, outputFormatFromPath, partsDirOf } from '../../../src/batch/writers/index.js';
import { toHalfBits } from '../../../src/tensor/fp16.js';
import type { ScoredBatch } from '../../../src/batch/types.js';
import type { TensorSpec } from '../../../src/tensor/tensor.js';
import { duckQuery, makeBatch, options, readParquet, sqlString } from './helpers.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-writer-formats-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const SPECS: readonly TensorSpec[] = [
  { name: 'label', datatype: 'INT64', shape: [-1] },
  { name: 'probabilities', datatype: 'FP32', shape: [-1, 2] },
  { name: 'text', datatype: 'BYTES', shape: [-1] },
  { name: 'half', datatype: 'FP16', shape: [-1, 1] },
];

const BATCH: ScoredBatch = {
  ids: ['a', 'b,"c"'],
  rowNumbers: [0, 1],
  outputs: [
    { name: 'label', datatype: 'INT64', shape: [2], data: new BigInt64Array([9007199254740993n, -1n]) },
    { name: 'probabilities', datatype: 'FP32', shape: [2, 2], data: new Float32Array([0.25, 0.75, NaN, -Infinity]) },
    { name: 'text', datatype: 'BYTES', shape: [2], data: ['x', 'say "hi",\nbye'] },
    { name: 'half', datatype: 'FP16', shape: [2, 1], data: new Uint16Array([toHalfBits(1.5), toHalfBits(Infinity)]) },
  ],
};

const NONFINITE_SPECS: readonly TensorSpec[] = [
  { name: 'x', datatype: 'FP64', shape: [-1] },
  { name: 'v', datatype: 'FP32', shape: [-1, 3] },
];
const NONFINITE: ScoredBatch = {
  ids: ['n'],
  rowNumbers: [0],
  outputs: [
    { name: 'x', datatype: 'FP64', shape: [1], data: new Float64Array([NaN]) },
    { name: 'v', datatype: 'FP32', shape: [1, 3], data: new Float32Array([Infinity, -Infinity, NaN]) },
  ],
};

describe('JSON Lines output', () => {
  it('writes one strict JSON object per row, exact int64, NaN and infinities as null', async () => {
    const path = join(dir, 'exact.jsonl');
    const w = await openWriter(path, 'jsonl', { model: 'm', modelVersion: '1', outputs: SPECS });
    await w.write(BATCH);
    await w.close();
    const text = await readFile(path, 'utf8');
    assert.equal(text,
      '{"id":"a","label":9007199254740993,"probabilities":[0.25,0.75],"text":"x","half":1.5,"model":"m","model_version":"1"}\n' +
      '{"id":"b,\\"c\\"","label":-1,"probabilities":[null,null],"text":"say \\"hi\\",\\nbye","half":null,"model":"m","model_version":"1"}\n');
    for (const line of text.trim().split('\n')) JSON.parse(line);
  });

  it('is read by DuckDB with the right types', async () => {
    const path = join(dir, 'duck.jsonl');
    const specs: TensorSpec[] = [{ name: 'label', datatype: 'INT64', shape: [-1] }, { name: 'p', datatype: 'FP32', shape: [-1, 2] }];
    const w = await openWriter(path, 'jsonl', options(specs));
    await w.write(makeBatch(specs, 0, 3));
    await w.close();
    const rows = await duckQuery(`SELECT id, label, p, model FROM read_json(${sqlString(path)}, format = 'newline_delimited')`);
    assert.deepStrictEqual(rows.map((r) => [r.id, r.label, r.model]), [['row-0', 0n, 'iris, "the" model'], ['row-1', 10n, 'iris, "the" model'], ['row-2', 20n, 'iris, "the" model']]);
    assert.deepEqual(rows[1]?.p, [Math.fround(1 / 7), Math.fround(1 / 7 + 0.125)]);
  });
});

describe('CSV output', () => {
  it('quotes fields per RFC 4180, arrays as quoted JSON, NaN and infinities as words', async () => {
    const path = join(dir, 'exact.csv');
    const w = await openWriter(path, 'csv', { model: 'm,1', modelVersion: '', outputs: SPECS });
    await w.write(BATCH);
    await w.close();
    assert.equal(await readFile(path, 'utf8'),
      'id,label,probabilities,text,half,model,model_version\n' +
      'a,9007199254740993,"[0.25,0.75]",x,1.5,"m,1",""\n' +
      '"b,""c""",-1,"[null,null]","say ""hi"",\nbye",Infinity,"m,1",""\n');
  });

  it('writes NaN and infinities a reader can parse', async () => {
    const path = join(dir, 'nonfinite.csv');
    const w = await openWriter(path, 'csv', options(NONFINITE_SPECS));
    await w.write(NONFINITE);
    await w.close();
    assert.equal((await readFile(path, 'utf8')).split('\n')[1], 'n,NaN,"[null,null,null]","iris, ""the"" model",3');
    const rows = await duckQuery(`SELECT x::DOUBLE AS x FROM read_csv(${sqlString(path)}, header = true)`);
    assert.ok(Number.isNaN(rows[0]?.x));
  });

  it('is read by DuckDB with the right types', async () => {
    const path = join(dir, 'duck.csv');
    const specs: TensorSpec[] = [{ name: 'label', datatype: 'INT64', shape: [-1] }, { name: 'p', datatype: 'FP32', shape: [-1, 2] }];
    const w = await openWriter(path, 'csv', options(specs));
    await w.write(makeBatch(specs, 0, 20));
    await w.close();
    const rows = await duckQuery(`SELECT id, label, p::FLOAT[] AS p, model FROM read_csv(${sqlString(path)}, header = true)`);
    assert.equal(rows.length, 20);
    assert.deepStrictEqual([rows[3]?.id, rows[3]?.label, rows[3]?.model], ['id,"3"', 30n, 'iris, "the" model']);
    assert.deepEqual(rows[1]?.p, [Math.fround(1 / 7), Math.fround(1 / 7 + 0.125)]);
  });

  it('writes the header once: not again when resuming', async () => {
    const path = join(dir, 'resume.csv');
    const specs: TensorSpec[] = [{ name: 'label', datatype: 'INT64', shape: [-1] }];
    const w1 = await openWriter(path, 'csv', options(specs));
    await w1.write(makeBatch(specs, 0, 1));
    const state = await w1.commit();
    await w1.close();
    const w2 = await openWriter(path, 'csv', options(specs, state));
    await w2.write(makeBatch(specs, 1, 1));
    await w2.close();
    assert.equal(await readFile(path, 'utf8'), 'id,label,model,model_version\nrow-0,0,"iris, ""the"" model",3\nrow-1,10,"iris, ""the"" model",3\n');
  });
});

describe('Parquet output', () => {
  it('types each column after its datatype, arrays as lists', async () => {
    const specs: TensorSpec[] = (['BOOL', 'INT8', 'INT16', 'INT32', 'INT64', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'FP16', 'FP32', 'FP64', 'BYTES'] as const)
      .flatMap((dt) => [{ name: `s_${dt}`, datatype: dt, shape: [-1] }, { name: `a_${dt}`, datatype: dt, shape: [-1, 2] }]);
    const path = join(dir, 'types.parquet');
    const w = await openWriter(path, 'parquet', options(specs));
    await w.write(makeBatch(specs, 0, 30));
    await w.close();
    const cols = await duckQuery(`DESCRIBE SELECT * FROM read_parquet(${sqlString(path)})`);
    const types = Object.fromEntries(cols.map((c) => [c.column_name, c.column_type]));
    assert.deepEqual(types, {
      id: 'VARCHAR', model: 'VARCHAR', model_version: 'VARCHAR',
      s_BOOL: 'BOOLEAN', a_BOOL: 'BOOLEAN[]', s_INT8: 'TINYINT', a_INT8: 'TINYINT[]', s_INT16: 'SMALLINT', a_INT16: 'SMALLINT[]',
      s_INT32: 'INTEGER', a_INT32: 'INTEGER[]', s_INT64: 'BIGINT', a_INT64: 'BIGINT[]', s_UINT8: 'UTINYINT', a_UINT8: 'UTINYINT[]',
      s_UINT16: 'USMALLINT', a_UINT16: 'USMALLINT[]', s_UINT32: 'UINTEGER', a_UINT32: 'UINTEGER[]', s_UINT64: 'UBIGINT', a_UINT64: 'UBIGINT[]',
      s_FP16: 'FLOAT', a_FP16: 'FLOAT[]', s_FP32: 'FLOAT', a_FP32: 'FLOAT[]', s_FP64: 'DOUBLE', a_FP64: 'DOUBLE[]', s_BYTES: 'VARCHAR', a_BYTES: 'VARCHAR[]',
    });
  });

  it('stores NaN and infinities as they are', async () => {
    const path = join(dir, 'nonfinite.parquet');
    const w = await openWriter(path, 'parquet', options(NONFINITE_SPECS));
    await w.write(NONFINITE);
    await w.close();
    const [row] = await readParquet(path);
    assert.ok(Number.isNaN(row?.x));
    const v = row?.v as number[];
    assert.deepStrictEqual([v[0], v[1], Number.isNaN(v[2])], [Infinity, -Infinity, true]);
  });

  it('writes one part per commit, deletes uncommitted parts on resume, merges in order and removes the parts', async () => {
    const path = join(dir, 'parts.parquet');
    const specs: TensorSpec[] = [{ name: 'label', datatype: 'INT64', shape: [-1] }];
    const parts = partsDirOf(path);
    assert.equal(parts, `${path}.parts`);
    const id = (r: number): string => `row-${r}`;
    const w1 = await openWriter(path, 'parquet', options(specs));
    // Parts larger than a row group and a data chunk, so the merge has several row groups per file to keep in order.
    await w1.write(makeBatch(specs, 0, 130_000, id));
    const s1 = await w1.commit();
    assert.deepEqual(s1, { format: 'parquet', parts: 1, rows: 130_000 });
    await w1.write(makeBatch(specs, 130_000, 10, id));
    await w1.commit();
    assert.deepEqual(await readdir(parts), ['part-000001.parquet', 'part-000002.parquet']);
    const w2 = await openWriter(path, 'parquet', options(specs, s1));
    assert.deepEqual(await readdir(parts), ['part-000001.parquet']);
    for (let start = 130_000; start < 400_000; start += 90_000) {
      await w2.write(makeBatch(specs, start, 90_000, id));
      await w2.commit();
    }
    await w2.close();
    await assert.rejects(stat(parts), { code: 'ENOENT' });
    const [check] = await duckQuery(`SELECT count(*) AS n, count(*) FILTER (WHERE id <> 'row-' || file_row_number) AS misplaced FROM read_parquet(${sqlString(path)}, file_row_number = true)`);
    assert.deepStrictEqual(check, { n: 400_000n, misplaced: 0n });
  });

  it('refuses outputs whose names differ only in case (DuckDB columns ignore case)', async () => {
    const specs: TensorSpec[] = [{ name: 'Y', datatype: 'FP32', shape: [-1] }, { name: 'y', datatype: 'FP32', shape: [-1] }];
    await assert.rejects(openWriter(join(dir, 'case.parquet'), 'parquet', options(specs)), /clashes with output 'Y'/);
    const w = await openWriter(join(dir, 'case.jsonl'), 'jsonl', options(specs));
    await w.close();
  });
});

describe('picking the format', () => {
  it('goes by the extension', () => {
    assert.equal(outputFormatFromPath('out/scores.jsonl'), 'jsonl');
    assert.equal(outputFormatFromPath('scores.NDJSON'), 'jsonl');
    assert.equal(outputFormatFromPath('/a.b/scores.csv'), 'csv');
    assert.equal(outputFormatFromPath('scores.parquet'), 'parquet');
  });

  it('names the accepted extensions when it cannot tell', () => {
    assert.throws(() => outputFormatFromPath('scores.json'), /'\.json'.*\.jsonl, \.ndjson, \.csv, \.parquet/);
    assert.throws(() => outputFormatFromPath('scores'), /use one of \.jsonl, \.ndjson, \.csv, \.parquet/);
  });
});

describe('rejects writer', () => {
  it('writes {row, id, reason} lines and resumes by truncation', async () => {
    const path = join(dir, 'rejects.jsonl');
    const w1 = await openRejectsWriter(path);
    await w1.write([{ row: 3, id: 'x', reason: "column 'a': \"abc\" is not a number" }, { row: 7, reason: 'too few columns' }]);
    const state = await w1.commit();
    assert.deepEqual(state, { format: 'rejects', bytes: (await stat(path)).size, rows: 2 });
    await w1.write([{ row: 9, reason: 'lost in the crash' }]);
    await w1.commit();
    await appendFile(path, '{"row":1');
    const w2 = await openRejectsWriter(path, { resume: state });
    await w2.write([{ row: 9, id: 'nine', reason: 'again' }]);
    await w2.write([]);
    await w2.close();
    const lines = (await readFile(path, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as unknown);
    assert.deepEqual(lines, [
      { row: 3, id: 'x', reason: "column 'a': \"abc\" is not a number" },
      { row: 7, id: null, reason: 'too few columns' },
      { row: 9, id: 'nine', reason: 'again' },
    ]);
  });

  it("refuses an output writer's state", async () => {
    await assert.rejects(openRejectsWriter(join(dir, 'r2.jsonl'), { resume: { format: 'jsonl', bytes: 0, rows: 0 } }), /not a rejects writer's state/);
  });
});
