/**
 * `ferry batch --every` as a user runs it (the real command, real files, the real clock, an every-second
 * schedule): runs repeat, each a fresh job over the whole input with its summary as a JSON line; SIGTERM while
 * waiting exits 0 at once; a failed run does not stop the schedule; SIGTERM during a run commits the checkpoint and exits 0, and the same command without
 * --every then finishes the job with every row exactly once; a bad schedule is refused at start.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXAMPLES } from '../helpers/server.js';
import { TempRepository } from '../helpers/repository.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const FEATURES = Array.from({ length: 30 }, (_, i) => `f${i}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Started {
  child: ChildProcess;
  out: { stdout: string; stderr: string };
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(args: string[]): Started {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  child.stdout!.on('data', (c) => (out.stdout += c));
  child.stderr!.on('data', (c) => (out.stderr += c));
  const exit = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  return { child, out, exit };
}

async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const summaries = (stdout: string) => stdout.split('\n').filter((l) => l).map((l) => JSON.parse(l));
const jsonlIds = (path: string) => readFileSync(path, 'utf8').split('\n').filter((l) => l).map((l) => JSON.parse(l).id as string);

function csvOf(rows: number): string {
  let text = `id,${FEATURES.join(',')}\n`;
  for (let k = 0; k < rows; k++) text += `r${k},${FEATURES.map((_, j) => ((k * 31 + j * 7) % 1000) / 100).join(',')}\n`;
  return text;
}

describe('ferry batch --every', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-every-'));
  const small = join(dir, 'small.csv');
  const big = join(dir, 'big.csv');
  const BIG = 200_000;

  before(() => {
    writeFileSync(small, csvOf(500));
    writeFileSync(big, csvOf(BIG));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('runs the job at every time named, each run over the whole input; SIGTERM while waiting exits 0 at once', async () => {
    const out = join(dir, 'every.jsonl');
    const run = start(['batch', 'breast_cancer', '--models', EXAMPLES, '--input', small, '--output', out, '--id-column', 'id', '--every', '* * * * * *', '--json']);
    await until('two runs', () => summaries(run.out.stdout).length >= 2);
    // Between runs: the next one is at least some hundreds of ms away once a run's summary is out.
    const t0 = Date.now();
    run.child.kill('SIGTERM');
    const { code, signal } = await run.exit;
    assert.equal(signal, null, run.out.stderr);
    assert.equal(code, 0, run.out.stderr);
    assert.ok(Date.now() - t0 < 3000, `exited ${Date.now() - t0} ms after SIGTERM`);
    const done = summaries(run.out.stdout);
    assert.ok(done.length >= 2);
    for (const s of done) {
      assert.equal(s.consumed, 500, 'each run reads the whole input');
      assert.equal(s.rowsThisRun, 500, 'a fresh job, not a resumed one');
      assert.equal(s.scored, 500);
      assert.equal(s.finished, true);
      assert.equal(s.resumedFrom, undefined);
    }
    assert.deepEqual(jsonlIds(out), Array.from({ length: 500 }, (_, k) => `r${k}`), 'the output holds one run, each row once');
    assert.ok(!existsSync(`${out}.checkpoint.json`), 'a finished run leaves no checkpoint');
    assert.match(run.out.stderr, /next run at .*Z \(schedule '\* \* \* \* \* \*'/);
    assert.match(run.out.stderr, /SIGTERM: exiting/);
  });

  it('SIGTERM during a run commits the checkpoint and exits 0; the same command without --every finishes the job', async () => {
    const out = join(dir, 'stopped.jsonl');
    const args = ['batch', 'breast_cancer', '--models', EXAMPLES, '--input', big, '--output', out, '--id-column', 'id', '--batch-size', '64'];
    const run = start([...args, '--every', '* * * * * *', '--json']);
    // The output appears when the job starts; it then has 200,000 rows in batches of 64 to go.
    await until('the first run to start', () => existsSync(out));
    await sleep(200);
    run.child.kill('SIGTERM');
    const { code } = await run.exit;
    assert.equal(code, 0, run.out.stderr);
    const [summary, ...more] = summaries(run.out.stdout);
    assert.equal(more.length, 0);
    assert.equal(summary.finished, false, 'stopped before the end');
    assert.ok(summary.consumed > 0 && summary.consumed < BIG, `consumed ${summary.consumed}`);
    assert.match(run.out.stderr, /SIGTERM: finishing the current batch, committing the checkpoint, then exiting/);
    const checkpoint = JSON.parse(readFileSync(`${out}.checkpoint.json`, 'utf8'));
    assert.equal(checkpoint.finished, false);
    assert.equal(checkpoint.counts.consumed, summary.consumed, 'everything the run did is committed');
    assert.equal(jsonlIds(out).length, summary.consumed);

    const rest = start([...args, '--json']);
    const ended = await rest.exit;
    assert.equal(ended.code, 0, rest.out.stderr);
    const [second] = summaries(rest.out.stdout);
    assert.equal(second.resumedFrom, summary.consumed);
    assert.equal(second.consumed, BIG);
    assert.equal(second.rowsThisRun, BIG - summary.consumed);
    const ids = jsonlIds(out);
    assert.equal(ids.length, BIG);
    assert.equal(new Set(ids).size, BIG, 'every row exactly once');
  });

  it('a failed run is reported on stderr and the schedule goes on; the exit is still 0', async () => {
    const input = join(dir, 'late.csv');
    const out = join(dir, 'late.jsonl');
    const run = start(['batch', 'breast_cancer', '--models', EXAMPLES, '--input', input, '--output', out, '--id-column', 'id', '--every', '* * * * * *', '--json']);
    await until('a failed run', () => /the run due at .*Z failed \(see above\); the schedule goes on/.test(run.out.stderr));
    assert.match(run.out.stderr, /ferry batch: .*late\.csv/, 'the failure names its cause');
    writeFileSync(input, csvOf(100));
    await until('a run after the file appeared', () => summaries(run.out.stdout).length >= 1);
    run.child.kill('SIGINT');
    const { code } = await run.exit;
    assert.equal(code, 0, run.out.stderr);
    assert.equal(summaries(run.out.stdout)[0].scored, 100);
  });

  it('each run scores with the newest version in the repository at its start', async () => {
    const repo = new TempRepository().copyModel('breast_cancer', 'churn', 1);
    const out = join(dir, 'newest.jsonl');
    const run = start(['batch', 'churn', '--models', repo.root, '--input', small, '--output', out, '--id-column', 'id', '--every', '* * * * * *', '--json']);
    try {
      await until('a run with version 1', () => summaries(run.out.stdout).some((s) => s.modelVersion === '1'));
      repo.copyModel('breast_cancer', 'churn', 2);
      await until('a run with version 2', () => summaries(run.out.stdout).some((s) => s.modelVersion === '2'));
      run.child.kill('SIGTERM');
      assert.equal((await run.exit).code, 0, run.out.stderr);
    } finally {
      run.child.kill('SIGKILL');
      repo.remove();
    }
  });

  it('a bad schedule or time zone is refused at start (exit 2)', async () => {
    const out = join(dir, 'bad.jsonl');
    const base = ['batch', 'breast_cancer', '--models', EXAMPLES, '--input', small, '--output', out];
    let run = start([...base, '--every', '0 25 * * *']);
    assert.equal((await run.exit).code, 2);
    assert.match(run.out.stderr, /bad schedule '0 25 \* \* \*'.*hour/);
    run = start([...base, '--every', '0 2 * * *', '--tz', 'Nowhere/City']);
    assert.equal((await run.exit).code, 2);
    assert.match(run.out.stderr, /unknown time zone 'Nowhere\/City'/);
    run = start([...base, '--tz', 'UTC']);
    assert.equal((await run.exit).code, 2);
    assert.match(run.out.stderr, /--tz only goes with --every/);
  });
});
