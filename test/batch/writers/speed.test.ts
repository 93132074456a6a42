/**
 * Write speed per format: id + INT64 label [N] + FP32 probabilities [N,2], committed every ~100k rows, closed
 * (Parquet: merged) at the end. 100k rows by default; FERRY_WRITER_BENCH_ROWS=1000000 for the full measurement,
 * FERRY_WRITER_BENCH_BATCH for the batch size (default 1024).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openWriter } from '../../../src/batch/writers/index.js';
import type { ScoredBatch } from '../../../src/batch/types.js';
import type { TensorSpec } from '../../../src/tensor/tensor.js';
import { duckQuery, extensionOf, FORMATS, sqlString } from './helpers.js';

const ROWS = Number(process.env.FERRY_WRITER_BENCH_ROWS ?? 100_000);
const BATCH = Number(process.env.FERRY_WRITER_BENCH_BATCH ?? 1024);
const COMMIT_EVERY = Math.max(1, Math.round(100_000 / BATCH));

const SPECS: readonly TensorSpec[] = [
  { name: 'label', datatype: 'INT64', shape: [-1] },
  { name: 'probabilities', datatype: 'FP32', shape: [-1, 2] },
];

function batches(): ScoredBatch[] {
  const out: ScoredBatch[] = [];
  for (let start = 0; start < ROWS; start += BATCH) {
    const n = Math.min(BATCH, ROWS - start);
    const ids = Array.from({ length: n }, (_, i) => String(start + i));
    const label = new BigInt64Array(n);
    const probs = new Float32Array(2 * n);
    for (let i = 0; i < n; i++) {
      const p = Math.random();
      label[i] = p < 0.5 ? 0n : 1n;
      probs[2 * i] = 1 - p;
      probs[2 * i + 1] = p;
    }
    out.push({
      ids,
      rowNumbers: ids.map(Number),
      outputs: [
        { name: 'label', datatype: 'INT64', shape: [n], data: label },
        { name: 'probabilities', datatype: 'FP32', shape: [n, 2], data: probs },
      ],
    });
  }
  return out;
}

let dir: string;
let data: ScoredBatch[];
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-writer-speed-'));
  data = batches();
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe(`write speed, ${ROWS} rows in batches of ${BATCH}`, () => {
  for (const format of FORMATS) {
    it(format, async (t) => {
      const path = join(dir, `speed${extensionOf(format)}`);
      const t0 = performance.now();
      const w = await openWriter(path, format, { model: 'bench', modelVersion: '1', outputs: SPECS });
      for (let b = 0; b < data.length; b++) {
        await w.write(data[b] as ScoredBatch);
        if ((b + 1) % COMMIT_EVERY === 0) await w.commit();
      }
      await w.commit();
      const t1 = performance.now();
      await w.close();
      const t2 = performance.now();
      const { size } = await stat(path);
      t.diagnostic(`${format}: ${Math.round(ROWS / ((t2 - t0) / 1000))} rows/s (writes+commits ${Math.round(t1 - t0)} ms, close ${Math.round(t2 - t1)} ms, ${(size / 2 ** 20).toFixed(1)} MiB)`);
      let rows: number;
      if (format === 'parquet') {
        const [r] = await duckQuery(`SELECT count(*) AS n FROM read_parquet(${sqlString(path)})`);
        rows = Number(r?.n);
      } else {
        const text = await readFile(path, 'utf8');
        rows = text.split('\n').length - 1 - (format === 'csv' ? 1 : 0);
      }
      assert.equal(rows, ROWS);
    });
  }
});
