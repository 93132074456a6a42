/**
 * The real thing: a job process killed with SIGKILL (at a fixed point, then at random moments) and started again
 * with the same command, until it completes; the output must hold every row exactly once, in order.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FORMATS, RICH_SPECS, expectedRows, extensionOf, makeBatch, readBack, type Format } from './helpers.js';

const CHILD = fileURLToPath(new URL('./crash-child.ts', import.meta.url));
const BATCHES = 20;
const ROWS = 1500;

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-writer-kill-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Run { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/**
 * Runs the child job once. With killAtCheckpoint, sends it SIGKILL a random few milliseconds after it reports
 * that many checkpoints, wherever it then is (writing, committing, saving the checkpoint, merging...).
 */
function runJob(format: Format, output: string, killAfterBatch?: number, killAtCheckpoint?: number): Promise<Run> {
  const args = ['--import', 'tsx', CHILD, format, output, `${output}.checkpoint.json`, String(BATCHES), String(ROWS)];
  if (killAfterBatch !== undefined) args.push(String(killAfterBatch));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let checkpoints = 0;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const seen = (stdout.match(/^checkpoint /gm) ?? []).length;
      if (killAtCheckpoint !== undefined && checkpoints < killAtCheckpoint && seen >= killAtCheckpoint) {
        setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * 40));
      }
      checkpoints = seen;
    });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

for (const format of FORMATS) {
  describe(`${format} output under kill -9`, () => {
    it('resumes exactly once after kills at a fixed point and at random moments', async (t) => {
      const output = join(dir, `job${extensionOf(format)}`);
      // Killed right after writing batch 13: batches 12 and 13 are written but not committed.
      const first = await runJob(format, output, 13);
      assert.equal(first.signal, 'SIGKILL', first.stderr);
      assert.match(first.stdout, /checkpoint 12\n$/);
      // Then killed at random moments, each run a little further, until one completes.
      let runs = 0;
      for (let at = 1; ; at++) {
        const r = await runJob(format, output, undefined, at);
        runs++;
        if (r.signal === null) {
          assert.equal(r.code, 0, r.stderr);
          assert.match(r.stdout, /done\n$/);
          t.diagnostic(`${format}: completed on run ${runs + 1} after ${runs} kills`);
          break;
        }
        assert.ok(runs < 10, 'the job should complete');
      }
      const rows = await readBack(format, output, RICH_SPECS);
      assert.equal(rows.length, BATCHES * ROWS);
      assert.deepStrictEqual(rows, expectedRows(RICH_SPECS, [makeBatch(RICH_SPECS, 0, BATCHES * ROWS)], format));
    });
  });
}
