/**
 * Throughput of the table writers (DuckDB file, PostgreSQL on a throwaway local server), writer alone: 200,000 rows
 * of (INT64 label, FP32[2] probabilities) in batches of 4,096, a commit every 12 batches. Each table is written
 * twice: the first run inserts, the second overwrites every row (what a rerun or a nightly job does). Also the
 * alternative PostgreSQL statement (multi-row INSERT ... VALUES with 5 parameters a row) for comparison.
 *
 *   node --import tsx bench/table-writers.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openWriter } from '../src/batch/writers/index.js';
import { makeBatch, options } from '../test/batch/writers/helpers.js';
import { startPostgres } from '../test/helpers/postgres.js';
import type { TensorSpec } from '../src/tensor/tensor.js';
const SPECS: TensorSpec[] = [{ name: 'label', datatype: 'INT64', shape: [-1] }, { name: 'probabilities', datatype: 'FP32', shape: [-1, 2] }];
const ROWS = 200_000, B = 4096;
const batches = Array.from({ length: Math.ceil(ROWS / B) }, (_, i) => makeBatch(SPECS, i * B, Math.min(B, ROWS - i * B), (r) => `r${r}`));
const dir = mkdtempSync(join(tmpdir(), 'bench-'));
const pgs = await startPostgres();
async function run(format: 'duckdb' | 'postgres', output: string, table: string) {
  const t0 = performance.now();
  const w = await openWriter(output, format, { ...options(SPECS), table });
  let n = 0;
  for (const b of batches) { await w.write(b); n += b.ids.length; if (n % (B * 12) < B) await w.commit(); }
  await w.close();
  const s = (performance.now() - t0) / 1000;
  console.log(`${format} ${table}: ${ROWS} rows in ${s.toFixed(2)} s = ${Math.round(ROWS / s)} rows/s`);
}
for (const rep of [1, 2]) {
  await run('duckdb', join(dir, `a${rep}.duckdb`), 'p');
  await run('duckdb', join(dir, `a${rep}.duckdb`), 'p'); // upsert over existing rows
  await run('postgres', pgs.url, `p${rep}`);
  await run('postgres', pgs.url, `p${rep}`);
}
// The alternative: multi-row parameterised INSERT ... VALUES ($1,$2,$3,...), ... ON CONFLICT, in chunks under 65,535 parameters.
const c = new pg.Client({ connectionString: pgs.url }); await c.connect();
await c.query('CREATE TABLE v (id text primary key, label bigint, probabilities real[], model text, model_version text)');
for (const rep of [1, 2]) {
  const t0 = performance.now();
  await c.query('BEGIN');
  for (const b of batches) {
    const lab = b.outputs[0]!.data as BigInt64Array, pr = b.outputs[1]!.data as Float32Array;
    for (let s = 0; s < b.ids.length; s += 2000) {
      const vals: unknown[] = []; const tup: string[] = [];
      for (let r = s; r < Math.min(b.ids.length, s + 2000); r++) { const k = vals.length; vals.push(b.ids[r], String(lab[r]), [pr[2 * r], pr[2 * r + 1]], 'm', '3'); tup.push(`($${k + 1},$${k + 2},$${k + 3},$${k + 4},$${k + 5})`); }
      await c.query(`INSERT INTO v VALUES ${tup.join(',')} ON CONFLICT (id) DO UPDATE SET label = EXCLUDED.label, probabilities = EXCLUDED.probabilities, model = EXCLUDED.model, model_version = EXCLUDED.model_version`, vals);
    }
  }
  await c.query('COMMIT');
  const sec = (performance.now() - t0) / 1000;
  console.log(`postgres multi-row VALUES: ${ROWS} rows in ${sec.toFixed(2)} s = ${Math.round(ROWS / sec)} rows/s`);
}
await c.end();
await pgs.stop();
rmSync(dir, { recursive: true, force: true });
