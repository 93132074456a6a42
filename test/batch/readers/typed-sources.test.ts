/**
 * What only typed sources (Parquet here; PostgreSQL shares the code) do, through the job's own column mapping: by
 * default only numeric columns feed a one-input model (a text column is left out), a list column holds a whole
 * input row, and a resume position must be a row number (byte offset 0).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { openReader } from '../../../src/batch/readers/index.js';
import { mapColumns } from '../../../src/batch/column-mapping.js';
import type { TensorSpec } from '../../../src/tensor/tensor.js';
import { readAll, tempDir } from './fixtures.js';

async function parquet(select: string): Promise<string> {
  const path = join(tempDir(), 'typed.parquet');
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  await conn.run(`COPY (${select}) TO '${path}' (FORMAT parquet)`);
  conn.closeSync();
  db.closeSync();
  return path;
}

const X: TensorSpec[] = [{ name: 'x', datatype: 'FP32', shape: [-1, 3] }];
const mapping = (idColumn?: string) => (header: readonly string[], numeric?: readonly boolean[]) =>
  mapColumns(header, X, { arrayColumns: true, ...(idColumn ? { idColumn } : {}), ...(numeric ? { numeric } : {}) });

describe('typed sources (Parquet)', () => {
  it('feeds only the numeric columns, in order, to a one-input model by default', async () => {
    const path = await parquet(`SELECT 'k' || range AS key, 'name ' || range AS name, range * 1.5 AS a, range::BIGINT AS b, (range * 2)::FLOAT AS c FROM range(4)`);
    const got = await readAll(await openReader(path, 'parquet', { batchSize: 3, mapColumns: mapping('key') }));
    assert.deepEqual(got.ids, ['k0', 'k1', 'k2', 'k3']);
    assert.deepEqual(got.values[0], [0, 1, 2, 3].map((i) => [i * 1.5, i, i * 2]));
  });

  it('reads a list column as a whole input row; a list of the wrong length is a reject', async () => {
    const path = await parquet(`SELECT range AS n, CASE WHEN range = 2 THEN [1.0, 2.0] ELSE [range, range + 0.5, range + 0.25] END::DOUBLE[] AS features FROM range(4)`);
    const got = await readAll(await openReader(path, 'parquet', { batchSize: 10, mapColumns: (h, numeric) => mapColumns(h, X, { arrayColumns: true, map: { x: ['features'] }, ...(numeric ? { numeric } : {}) }) }));
    assert.deepEqual(got.rowNumbers, [0, 1, 3]);
    assert.deepEqual(got.values[0], [[0, 0.5, 0.25], [1, 1.5, 1.25], [3, 3.5, 3.25]]);
    assert.deepEqual(got.rejects, [{ row: 2, reason: `input 'x' takes 3 values a row, column 'features' holds 2` }]);
    assert.equal(got.batches.at(-1)?.next.byteOffset, 0);
    assert.equal(got.batches.at(-1)?.next.rowNumber, 4);
  });

  it('knows its row count (for progress), and refuses a resume row past it', async () => {
    const path = await parquet(`SELECT range * 1.0 AS a, range * 2.0 AS b, range * 3.0 AS c FROM range(5)`);
    const reader = await openReader(path, 'parquet', { batchSize: 2, mapColumns: mapping() });
    assert.equal(reader.totalRows, 5);
    await reader.close();
    await assert.rejects(openReader(path, 'parquet', { batchSize: 2, mapColumns: mapping(), startAt: { byteOffset: 0, rowNumber: 6 } }), /resume row 6 lies past the file's 5 rows/);
    const rest = await readAll(await openReader(path, 'parquet', { batchSize: 2, mapColumns: mapping(), startAt: { byteOffset: 0, rowNumber: 3 } }));
    assert.deepEqual(rest.ids, ['3', '4']);
  });
});
