/**
 * One conformance suite, run against every output writer: values round-trip, 64-bit integers stay exact, BYTES and
 * arrays survive, a resume after a crash leaves every row exactly once, an empty output is valid.
 */
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openWriter as openRealWriter } from '../../../src/batch/writers/index.js';
import { partsDirOf } from '../../../src/batch/writers/parquet-writer.js';
import type { ScoredBatch, Writer, WriterState } from '../../../src/batch/types.js';
import type { TensorSpec } from '../../../src/tensor/tensor.js';
import {
  FORMATS, RICH_SPECS, duckQuery, expectedRows, extensionOf, makeBatch, options, readBack, sqlString, type Format,
} from './helpers.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-writers-'));
});
/**
 * Writers the tests open. Several are abandoned on purpose (a job killed mid-way); a dead process's files are closed
 * by the system, a test's would be closed by the garbage collector (Node's DEP0137 warning): each test releases them.
 */
const opened: Writer[] = [];
async function openWriter(...args: Parameters<typeof openRealWriter>): Promise<Writer> {
  const w = await openRealWriter(...args);
  opened.push(w);
  return w;
}
afterEach(async () => {
  for (const w of opened.splice(0)) await w.release?.().catch(() => undefined);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

let seq = 0;
function outPath(format: Format): string {
  return join(dir, `out-${++seq}${extensionOf(format)}`);
}

async function writeAll(w: Writer, batches: readonly ScoredBatch[]): Promise<void> {
  for (const b of batches) await w.write(b);
}

const SIMPLE: readonly TensorSpec[] = [
  { name: 'label', datatype: 'INT64', shape: [-1] },
  { name: 'probabilities', datatype: 'FP32', shape: [-1, 2] },
];

for (const format of FORMATS) {
  describe(`${format} writer conformance`, () => {
    it('round-trips every row and value, in order, across batches and commits', async () => {
      const path = outPath(format);
      const w = await openWriter(path, format, options(RICH_SPECS));
      const batches = [makeBatch(RICH_SPECS, 0, 40), makeBatch(RICH_SPECS, 40, 1), makeBatch(RICH_SPECS, 41, 0), makeBatch(RICH_SPECS, 41, 3000)];
      await w.write(batches[0] as ScoredBatch);
      await w.commit();
      await writeAll(w, batches.slice(1));
      await w.close();
      const rows = await readBack(format, path, RICH_SPECS);
      assert.equal(rows.length, 3041);
      assert.deepStrictEqual(rows, expectedRows(RICH_SPECS, batches, format));
    });

    it('keeps the column order id, outputs..., model, model_version', async () => {
      const path = outPath(format);
      const w = await openWriter(path, format, options(SIMPLE));
      await w.write(makeBatch(SIMPLE, 0, 2));
      await w.close();
      const want = ['id', 'label', 'probabilities', 'model', 'model_version'];
      if (format === 'jsonl') {
        const first = (await readFile(path, 'utf8')).split('\n')[0] as string;
        assert.deepEqual(Object.keys(JSON.parse(first) as object), want);
      } else if (format === 'csv') {
        assert.equal((await readFile(path, 'utf8')).split('\n')[0], want.join(','));
      } else {
        const cols = await duckQuery(`DESCRIBE SELECT * FROM read_parquet(${sqlString(path)})`);
        assert.deepEqual(cols.map((c) => [c.column_name, c.column_type]), [
          ['id', 'VARCHAR'], ['label', 'BIGINT'], ['probabilities', 'FLOAT[]'], ['model', 'VARCHAR'], ['model_version', 'VARCHAR'],
        ]);
      }
    });

    it('keeps 64-bit integers exact', async () => {
      const path = outPath(format);
      const specs: TensorSpec[] = [{ name: 'label', datatype: 'INT64', shape: [-1, 1] }, { name: 'u', datatype: 'UINT64', shape: [-1] }];
      const batch: ScoredBatch = {
        ids: ['a', 'b', 'c'],
        rowNumbers: [0, 1, 2],
        outputs: [
          { name: 'label', datatype: 'INT64', shape: [3, 1], data: new BigInt64Array([9007199254740993n, -9223372036854775808n, 9223372036854775807n]) },
          { name: 'u', datatype: 'UINT64', shape: [3], data: new BigUint64Array([18446744073709551615n, 9007199254740993n, 0n]) },
        ],
      };
      const w = await openWriter(path, format, options(specs));
      await w.write(batch);
      await w.close();
      const rows = await readBack(format, path, specs);
      assert.deepStrictEqual(rows.map((r) => [r.label, r.u]), [
        [9007199254740993n, 18446744073709551615n], [-9223372036854775808n, 9007199254740993n], [9223372036854775807n, 0n],
      ]);
      if (format !== 'parquet') assert.match(await readFile(path, 'utf8'), /9007199254740993\b/);
    });

    it('resumes after a crash: uncommitted rows are gone, new rows follow, none lost or doubled', async () => {
      const path = outPath(format);
      const b = (start: number, n: number): ScoredBatch => makeBatch(RICH_SPECS, start, n);
      const w1 = await openWriter(path, format, options(RICH_SPECS));
      await w1.write(b(0, 100));
      await w1.write(b(100, 50));
      const committed = await w1.commit();
      assert.equal(committed.rows, 150);
      // The job commits again but dies before storing that checkpoint, then writes more (large enough to reach
      // the disk) and is killed without committing: the writer is simply abandoned.
      await w1.write(b(150, 30));
      const lost = await w1.commit();
      assert.equal(lost.rows, 180);
      await w1.write(b(180, 20000));
      if (format !== 'parquet') {
        await appendFile(path, '{"half a line');
        assert.ok((await stat(path)).size > (lost.bytes as number), 'uncommitted rows reached the disk');
      } else {
        await writeFile(join(partsDirOf(path), 'part-000003.parquet.tmp'), 'torn');
        assert.deepEqual((await readdir(partsDirOf(path))).sort(), ['part-000001.parquet', 'part-000002.parquet', 'part-000003.parquet.tmp']);
      }

      // Started again with the same command: it resumes from the stored checkpoint.
      const w2 = await openWriter(path, format, options(RICH_SPECS, committed));
      await w2.write(b(150, 70));
      const again = await w2.commit();
      assert.equal(again.rows, 220);
      await w2.write(b(220, 5));
      await w2.close();
      const rows = await readBack(format, path, RICH_SPECS);
      assert.deepStrictEqual(rows, expectedRows(RICH_SPECS, [b(0, 225)], format));
    });

    it('resumes from a checkpoint taken before any row was written', async () => {
      const path = outPath(format);
      const w1 = await openWriter(path, format, options(SIMPLE));
      const empty = await w1.commit();
      assert.equal(empty.rows, 0);
      await w1.write(makeBatch(SIMPLE, 0, 10));
      await w1.commit();
      const w2 = await openWriter(path, format, options(SIMPLE, empty));
      await w2.write(makeBatch(SIMPLE, 0, 3));
      await w2.close();
      assert.deepStrictEqual(await readBack(format, path, SIMPLE), expectedRows(SIMPLE, [makeBatch(SIMPLE, 0, 3)], format));
    });

    it('writes a valid empty output when there are no rows', async () => {
      const path = outPath(format);
      const w = await openWriter(path, format, options(SIMPLE));
      await w.write(makeBatch(SIMPLE, 0, 0));
      await w.close();
      assert.deepStrictEqual(await readBack(format, path, SIMPLE), []);
      if (format === 'jsonl') assert.equal(await readFile(path, 'utf8'), '');
      if (format === 'csv') assert.equal(await readFile(path, 'utf8'), 'id,label,probabilities,model,model_version\n');
      if (format === 'parquet') {
        const cols = await duckQuery(`DESCRIBE SELECT * FROM read_parquet(${sqlString(path)})`);
        assert.deepEqual(cols.map((c) => c.column_name), ['id', 'label', 'probabilities', 'model', 'model_version']);
        await assert.rejects(readdir(partsDirOf(path)), { code: 'ENOENT' });
      }
    });

    it('replaces an existing output when not resuming', async () => {
      const path = outPath(format);
      const w1 = await openWriter(path, format, options(SIMPLE));
      await w1.write(makeBatch(SIMPLE, 0, 50));
      await w1.close();
      const w2 = await openWriter(path, format, options(SIMPLE));
      await w2.write(makeBatch(SIMPLE, 100, 2));
      await w2.close();
      assert.deepStrictEqual(await readBack(format, path, SIMPLE), expectedRows(SIMPLE, [makeBatch(SIMPLE, 100, 2)], format));
    });

    it('returns the same state when committing with nothing new', async () => {
      const path = outPath(format);
      const w = await openWriter(path, format, options(SIMPLE));
      await w.write(makeBatch(SIMPLE, 0, 5));
      const s1 = await w.commit();
      const s2 = await w.commit();
      assert.deepStrictEqual(s2, s1);
      assert.deepStrictEqual(JSON.parse(JSON.stringify(s1)) as WriterState, s1, 'the state survives a JSON checkpoint');
      await w.close();
    });

    it('refuses a batch that does not fit the outputs, and stays usable', async () => {
      const path = outPath(format);
      const w = await openWriter(path, format, options(SIMPLE));
      const good = makeBatch(SIMPLE, 0, 4);
      await assert.rejects(w.write({ ...good, outputs: good.outputs.slice(0, 1) }), /no output 'probabilities'/);
      await assert.rejects(w.write({ ...good, ids: good.ids.slice(0, 3) }), /expected 3 rows/);
      const label = good.outputs[0] as ScoredBatch['outputs'][number];
      await assert.rejects(w.write({ ...good, outputs: [{ ...label, shape: [4, 1], datatype: 'INT32', data: new Int32Array(4) }, good.outputs[1]!] }), /is INT32, but the model declares INT64/);
      await w.write(good);
      await w.close();
      assert.equal((await readBack(format, path, SIMPLE)).length, 4);
    });

    it("refuses to resume from another format's state or a file that lost committed bytes", async () => {
      const path = outPath(format);
      const other = format === 'parquet' ? { format: 'jsonl', bytes: 0, rows: 0 } : { format: 'parquet', parts: 0, rows: 0 };
      await assert.rejects(openWriter(path, format, options(SIMPLE, other)), /not a .* writer's state/);
      const w = await openWriter(path, format, options(SIMPLE));
      await w.write(makeBatch(SIMPLE, 0, 5));
      const state = await w.commit();
      await w.close(); // the job completed: the output is final (for Parquet, merged and the parts gone)
      const bigger = format === 'parquet' ? { ...state, rows: 6 } : { ...state, bytes: (state.bytes as number) + 1 };
      await assert.rejects(openWriter(path, format, options(SIMPLE, bigger)), /cannot resume/);
    });

    it('resumes a job killed after close() but before it recorded being done', async () => {
      const path = outPath(format);
      const w1 = await openWriter(path, format, options(SIMPLE));
      const states: WriterState[] = [];
      for (let b = 0; b < 3; b++) {
        await w1.write(makeBatch(SIMPLE, b * 10, 10));
        states.push(await w1.commit());
      }
      await w1.write(makeBatch(SIMPLE, 30, 4)); // closed without a commit first: close() commits these
      await w1.close();
      // Started again from the last checkpoint: the rows after it come again, and follow the committed ones.
      const w2 = await openWriter(path, format, options(SIMPLE, states[2]));
      await w2.write(makeBatch(SIMPLE, 30, 4));
      await w2.close();
      assert.deepStrictEqual(await readBack(format, path, SIMPLE), expectedRows(SIMPLE, [makeBatch(SIMPLE, 0, 34)], format));
      // Committed right before closing: nothing comes again, and the output stays as it was.
      const w3 = await openWriter(path, format, options(SIMPLE));
      await w3.write(makeBatch(SIMPLE, 0, 20));
      await w3.commit();
      await w3.write(makeBatch(SIMPLE, 20, 5));
      const last = await w3.commit();
      await w3.close();
      const w4 = await openWriter(path, format, options(SIMPLE, last));
      await w4.close();
      assert.deepStrictEqual(await readBack(format, path, SIMPLE), expectedRows(SIMPLE, [makeBatch(SIMPLE, 0, 25)], format));
      if (format === 'parquet') await assert.rejects(stat(partsDirOf(path)), { code: 'ENOENT' });
    });

    it("does not hold on to the caller's arrays: changing them after write() changes nothing", async () => {
      const path = outPath(format);
      const w = await openWriter(path, format, options(RICH_SPECS));
      const batch = makeBatch(RICH_SPECS, 0, 10);
      const want = expectedRows(RICH_SPECS, [batch], format);
      await w.write(batch);
      (batch.ids as string[]).fill('changed');
      for (const t of batch.outputs) (t.data as unknown[]).fill(t.datatype === 'BYTES' ? 'changed' : t.data instanceof BigInt64Array || t.data instanceof BigUint64Array ? 1n : 1);
      await w.close();
      assert.deepStrictEqual(await readBack(format, path, RICH_SPECS), want);
    });

    it('refuses calls after close', async () => {
      const w = await openWriter(outPath(format), format, options(SIMPLE));
      await w.close();
      await assert.rejects(w.write(makeBatch(SIMPLE, 0, 1)), /closed/);
    });

    it('refuses an output whose column name clashes with id, model or model_version', async () => {
      await assert.rejects(openWriter(outPath(format), format, options([{ name: 'model', datatype: 'FP32', shape: [-1] }])), /clashes/);
    });
  });
}
