/**
 * `ferry batch` as a user runs it (the real command, real files, a real PostgreSQL server started for the test):
 * every input and output format with the same answers as `ferry serve`, rejects, the rejects limit, sharding,
 * remote mode through a running server, and a job killed with SIGKILL at random moments that, rerun with the same
 * command, holds every row exactly once (files, a DuckDB table, a PostgreSQL table).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { EXAMPLES, postJson, startTestServer, type TestServer } from '../helpers/server.js';
import { referenceModels } from '../helpers/reference.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const ref = referenceModels().find((r) => r.model === 'breast_cancer')!;
const refRows = ref.cases[0]!.inputs[0]!.data as number[];
const FEATURES = Array.from({ length: 30 }, (_, i) => `f${i}`);

function row(k: number): number[] {
  const i = k % 5;
  // Vary the rows a little so every row has its own answer.
  return refRows.slice(i * 30, i * 30 + 30).map((v, j) => (j === 0 ? v + (k % 97) * 0.01 : v));
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function ferry(args: string[], killAfterMs?: number): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  if (killAfterMs !== undefined) setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  return once(child, 'exit').then(([code, signal]) => ({ code, signal, stdout, stderr }));
}

/** Runs SQL on a DuckDB database (a file, or ':memory:') and returns the rows as JSON values. */
async function duckSql(database: string, sql: string): Promise<Record<string, unknown>[]> {
  const db = await DuckDBInstance.create(database);
  const conn = await db.connect();
  try {
    return (await conn.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

function readJsonl(path: string): Record<string, unknown>[] {
  return readFileSync(path, 'utf8').split('\n').filter((l) => l).map((l) => JSON.parse(l));
}

describe('ferry batch', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-batch-'));
  const csv = join(dir, 'rows.csv');
  const jsonl = join(dir, 'rows.jsonl');
  const parquet = join(dir, 'rows.parquet');
  const N = 3000;
  let server: TestServer;
  let postgres: TestPostgres;
  /** What `ferry serve` answers for every row, keyed by id. */
  const online = new Map<string, { label: number; probabilities: number[] }>();

  before(async () => {
    let text = `id,${FEATURES.join(',')}\n`;
    let lines = '';
    for (let k = 0; k < N; k++) {
      text += `r${k},${row(k).join(',')}\n`;
      lines += `${JSON.stringify({ id: `r${k}`, features: row(k) })}\n`;
    }
    writeFileSync(csv, text);
    writeFileSync(jsonl, lines);
    // The same rows as Parquet (DOUBLE columns, as DuckDB reads the CSV) and as a PostgreSQL table, with a text
    // column that is not a feature: typed sources feed only numeric columns to the model by default.
    await duckSql(':memory:', `COPY (SELECT *, 'note ' || id AS note FROM read_csv('${csv}')) TO '${parquet}' (FORMAT parquet, ROW_GROUP_SIZE 1000)`);
    postgres = await startPostgres();
    await postgres.query(`CREATE TABLE rows (id text PRIMARY KEY, ${FEATURES.map((f) => `${f} double precision`).join(', ')}, note text)`);
    for (let start = 0; start < N; start += 500) {
      const values: unknown[] = [];
      const tuples: string[] = [];
      for (let k = start; k < Math.min(N, start + 500); k++) {
        const at = values.length;
        values.push(`r${k}`, ...row(k), `note ${k}`);
        tuples.push(`(${Array.from({ length: 32 }, (_, j) => `$${at + j + 1}`).join(', ')})`);
      }
      await postgres.query(`INSERT INTO rows VALUES ${tuples.join(', ')}`, values);
    }
    server = await startTestServer();
    for (let start = 0; start < N; start += 500) {
      const rows = Array.from({ length: Math.min(500, N - start) }, (_, j) => row(start + j));
      const reply = await postJson(`${server.url}/v2/models/breast_cancer/infer`, { inputs: [{ name: 'float_input', datatype: 'FP32', shape: [rows.length, 30], data: rows.flat() }] });
      assert.equal(reply.status, 200, reply.text);
      rows.forEach((_, j) => online.set(`r${start + j}`, { label: reply.body.outputs[0].data[j], probabilities: reply.body.outputs[1].data.slice(j * 2, j * 2 + 2) }));
    }
  });
  after(async () => {
    await server?.stop();
    await postgres?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function assertMatchesServe(rows: Record<string, unknown>[], ids = [...online.keys()]): void {
    assert.equal(rows.length, ids.length, 'every row exactly once');
    assert.deepEqual(new Set(rows.map((r) => r.id)), new Set(ids));
    for (const r of rows) {
      const want = online.get(r.id as string)!;
      assert.equal(Number(r.output_label), want.label, `row ${r.id} label`);
      assert.deepEqual(r.output_probability, want.probabilities, `row ${r.id} probabilities`);
      assert.equal(r.model, 'breast_cancer');
      assert.equal(r.model_version, '1');
    }
  }

  it('CSV in, JSON Lines out: the same answers as ferry serve, and a summary', async () => {
    const out = join(dir, 'a.jsonl');
    const run = await ferry(['batch', 'breast_cancer', '--models', EXAMPLES, '--input', csv, '--output', out, '--id-column', 'id', '--batch-size', '256', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const summary = JSON.parse(run.stdout);
    assert.equal(summary.consumed, N);
    assert.equal(summary.scored, N);
    assert.equal(summary.rejected, 0);
    assertMatchesServe(readJsonl(out));
    assert.ok(!existsSync(`${out}.checkpoint.json`), 'a finished job leaves no checkpoint');
    assert.ok(!existsSync(`${out}.rejects.jsonl`), 'no rows rejected: no empty rejects file');
  });

  it('a job that cannot start says why in a sentence and leaves no empty files behind', async () => {
    const missing = await ferry(['batch', 'breast_cancer', '--models', EXAMPLES, '--input', join(dir, 'nope.csv'), '--output', join(dir, 'nope.jsonl')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^ferry batch: input file '.*nope\.csv' does not exist$/m);
    const out = join(dir, 'unfit.jsonl');
    const unfit = await ferry(['batch', 'breast_cancer', '--models', EXAMPLES, '--input', csv, '--output', out, '--map', 'float_input=f0,f1']);
    assert.equal(unfit.code, 2);
    assert.match(unfit.stderr, /model input 'float_input' takes 30 values per row/);
    for (const left of [out, `${out}.rejects.jsonl`, `${out}.checkpoint.json`]) assert.ok(!existsSync(left), `${left} left behind`);
  });

  it('JSON Lines in (an array column), CSV and Parquet out, from the model file itself', async () => {
    const file = join(EXAMPLES, 'breast_cancer', '1', 'model.onnx');
    const outCsv = join(dir, 'b.csv');
    let run = await ferry(['batch', file, '--input', jsonl, '--output', outCsv, '--id-column', 'id', '--map', 'float_input=features']);
    assert.equal(run.code, 0, run.stderr);
    const [header, ...lines] = readFileSync(outCsv, 'utf8').trim().split('\n');
    assert.equal(header, 'id,output_label,output_probability,model,model_version');
    assert.equal(lines.length, N);
    // The single-file model is named after its file: model.
    const parsed = lines.map((l) => {
      const m = /^([^,]+),(\d+),"(\[[^"]*\])",model,1$/.exec(l)!;
      return { id: m[1], output_label: Number(m[2]), output_probability: JSON.parse(m[3]!), model: 'breast_cancer', model_version: '1' };
    });
    assertMatchesServe(parsed);
    const outParquet = join(dir, 'c.parquet');
    run = await ferry(['batch', 'breast_cancer', '--models', EXAMPLES, '--input', csv, '--output', outParquet, '--id-column', 'id']);
    assert.equal(run.code, 0, run.stderr);
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    const result = await conn.runAndReadAll(`SELECT id, output_label, output_probability, model, model_version FROM read_parquet('${outParquet}')`);
    const rows = result.getRowObjectsJson().map((r) => ({ ...r, output_probability: (r.output_probability as number[]).map(Number) }));
    conn.closeSync();
    assertMatchesServe(rows);
  });

  it('bad rows go to the rejects file with the row number and the reason; --max-rejects stops the job', async () => {
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, `id,${FEATURES.join(',')}\nr0,${row(0).join(',')}\nr1,1,2,3\nr2,${row(2).slice(0, 29).join(',')},abc\nr3,${row(3).join(',')}\n`);
    const out = join(dir, 'bad.jsonl');
    const run = await ferry(['batch', 'breast_cancer', '--models', EXAMPLES, '--input', bad, '--output', out, '--id-column', 'id', '--json']);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(readJsonl(out).map((r) => r.id), ['r0', 'r3']);
    const rejects = readJsonl(`${out}.rejects.jsonl`);
    assert.deepEqual(rejects.map((r) => r.row), [1, 2]);
    assert.match(String(rejects[0]!.reason), /4 fields, the header has 31/);
    assert.match(String(rejects[1]!.reason), /column 'f29'.*"abc".*not a number/);
    const limited = await ferry(['batch', 'breast_cancer', '--models', EXAMPLES, '--input', bad, '--output', join(dir, 'bad2.jsonl'), '--id-column', 'id', '--max-rejects', '1']);
    assert.equal(limited.code, 3);
    assert.match(limited.stderr, /2 rows rejected, more than --max-rejects 1/);
  });

  it('shards: the union of N shards is the whole input, each row once', async () => {
    const outs = [0, 1, 2].map((i) => join(dir, `shard-${i}.jsonl`));
    const runs = await Promise.all(outs.map((out, i) => ferry(['batch', 'breast_cancer', '--models', EXAMPLES, '--input', csv, '--output', out, '--id-column', 'id', '--shard', `${i}/3`])));
    for (const run of runs) assert.equal(run.code, 0, run.stderr);
    const rows = outs.flatMap((o) => readJsonl(o));
    assertMatchesServe(rows);
    assert.ok(readJsonl(outs[1]!).every((r) => Number(String(r.id).slice(1)) % 3 === 1));
  });

  it('Parquet in, DuckDB table out: the same answers as ferry serve (and as the CSV path); a rerun upserts', async () => {
    const out = join(dir, 'scores.duckdb');
    const args = ['batch', 'breast_cancer', '--models', EXAMPLES, '--input', parquet, '--output', out, '--table', 'scores', '--id-column', 'id', '--batch-size', '700', '--json'];
    let run = await ferry(args);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(JSON.parse(run.stdout).scored, N);
    const read = async () => (await duckSql(out, 'SELECT * FROM scores')).map((r) => ({ ...r, output_probability: (r.output_probability as number[]).map(Number) }));
    assertMatchesServe(await read());
    run = await ferry(args);
    assert.equal(run.code, 0, run.stderr);
    assertMatchesServe(await read()); // the same N rows, overwritten, none added
  });

  it('PostgreSQL in (--query, --input-table), PostgreSQL out: the same answers; a nightly rerun overwrites', async () => {
    const common = ['batch', 'breast_cancer', '--models', EXAMPLES, '--input', postgres.url, '--output', postgres.url, '--table', 'nightly', '--id-column', 'id',
      '--checkpoint', join(dir, 'nightly.checkpoint.json'), '--rejects', join(dir, 'nightly.rejects.jsonl'), '--batch-size', '512'];
    const read = async () => (await postgres.query<Record<string, unknown>>('SELECT * FROM nightly')).map((r) => ({ ...r, output_probability: (r.output_probability as number[]).map(Math.fround) }));
    let run = await ferry([...common, '--query', 'SELECT * FROM rows ORDER BY id']);
    assert.equal(run.code, 0, run.stderr);
    // PostgreSQL's real[] holds float32 and prints its shortest decimal: both sides compare as float32.
    const expected = new Map([...online.entries()].map(([id, v]) => [id, { ...v, probabilities: v.probabilities.map(Math.fround) }]));
    const check = (rows: Record<string, unknown>[]) => {
      assert.equal(rows.length, N, 'every row exactly once');
      for (const r of rows) {
        const want = expected.get(r.id as string)!;
        assert.equal(Number(r.output_label), want.label, `row ${r.id} label`);
        assert.deepEqual(r.output_probability, want.probabilities, `row ${r.id} probabilities`);
        assert.deepEqual([r.model, r.model_version], ['breast_cancer', '1']);
      }
    };
    check(await read());
    run = await ferry([...common, '--input-table', 'rows']);
    assert.equal(run.code, 0, run.stderr);
    check(await read());
  });

  it('a PostgreSQL input that cannot be reached, or has no query: exit code 2 and a clear message', async () => {
    const out = join(dir, 'never.jsonl');
    let run = await ferry(['batch', 'breast_cancer', '--models', EXAMPLES, '--input', 'postgresql://ferry:s3cret@127.0.0.1:1/db', '--query', 'SELECT 1', '--output', out]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /cannot connect to PostgreSQL at postgresql:\/\/ferry:\*\*\*@127\.0\.0\.1:1\/db \(--input\)/);
    assert.doesNotMatch(run.stderr, /s3cret|\n\s+at /);
    run = await ferry(['batch', 'breast_cancer', '--models', EXAMPLES, '--input', postgres.url, '--output', out]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /needs --query/);
    run = await ferry(['batch', 'breast_cancer', '--models', EXAMPLES, '--input', postgres.url, '--query', 'SELECT * FROM no_such_table', '--output', out]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--query failed: relation "no_such_table" does not exist/);
    assert.doesNotMatch(run.stderr, /\n\s+at /);
  });

  it('remote mode scores through a running server, with the same answers', async () => {
    const out = join(dir, 'remote.jsonl');
    const run = await ferry(['batch', `${server.url}/v2/models/breast_cancer`, '--input', csv, '--output', out, '--id-column', 'id', '--batch-size', '700']);
    assert.equal(run.code, 0, run.stderr);
    assertMatchesServe(readJsonl(out));
  });

  it('killed with SIGKILL at random moments and rerun with the same command: every row exactly once', async () => {
    const big = join(dir, 'big.csv');
    const M = 150_000;
    let text = `id,${FEATURES.join(',')}\n`;
    for (let k = 0; k < M; k++) text += `r${k},${row(k).join(',')}\n`;
    writeFileSync(big, text);
    const args = (out: string) => ['batch', 'breast_cancer', '--models', EXAMPLES, '--input', big, '--output', out, '--id-column', 'id', '--batch-size', '500'];
    const clean = join(dir, 'clean.jsonl');
    const t0 = performance.now();
    assert.equal((await ferry(args(clean))).code, 0);
    const cleanMs = performance.now() - t0;
    for (const format of ['jsonl', 'parquet', 'duckdb', 'postgres']) {
      const out = format === 'postgres' ? postgres.url : join(dir, `killed.${format}`);
      // A table output: upserts into table 'killed'; its checkpoint and rejects go beside the other outputs.
      const extra = format === 'postgres' || format === 'duckdb'
        ? ['--table', 'killed', '--checkpoint', join(dir, `killed-${format}.checkpoint.json`), '--rejects', join(dir, `killed-${format}.rejects.jsonl`)]
        : [];
      let kills = 0;
      let finishedFirst = 0;
      let run: Run;
      // Kill after a random time each try, until a run gets to finish on its own. A run that beats its kill before any
      // was killed (this format faster than the clean JSON Lines run, or a quiet moment on a shared machine) is run
      // again, killed sooner: rerunning a finished job is itself a case the job handles (a new job, or upserts).
      for (;;) {
        // Somewhere between start-up and the end of a clean run's time: while loading, reading, scoring or writing.
        const scale = 0.6 ** finishedFirst;
        run = await ferry([...args(out), ...extra], kills < 4 ? cleanMs * scale * (0.3 + 0.6 * Math.random()) : undefined);
        if (run.signal === 'SIGKILL') kills++;
        else if (kills >= 1 || finishedFirst >= 5) break;
        else finishedFirst++;
      }
      assert.equal(run.code, 0, run.stderr);
      assert.ok(kills >= 1, 'the job was killed at least once');
      let rows: Record<string, unknown>[];
      if (format === 'jsonl') rows = readJsonl(out);
      else if (format === 'duckdb') rows = await duckSql(out, 'SELECT id, output_label FROM killed');
      else if (format === 'postgres') rows = await postgres.query('SELECT id, output_label FROM killed');
      else {
        const db = await DuckDBInstance.create(':memory:');
        const conn = await db.connect();
        rows = (await conn.runAndReadAll(`SELECT id, output_label FROM read_parquet('${out}')`)).getRowObjectsJson();
        conn.closeSync();
      }
      const want = readJsonl(clean);
      assert.equal(rows.length, M, `${format}: every row exactly once after ${kills} kills`);
      assert.equal(new Set(rows.map((r) => r.id)).size, M);
      const byId = new Map(want.map((r) => [r.id, r]));
      for (const r of rows) assert.equal(Number(r.output_label), Number(byId.get(r.id)!.output_label));
    }
  });
});
