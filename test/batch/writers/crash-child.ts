/**
 * A stand-in for the batch job, run as a child process by kill.test.ts: writes batches, commits every few and
 * stores {nextBatch, state} in a checkpoint file (temp + rename), and resumes from that checkpoint when started
 * again with the same arguments. Optionally kills itself (SIGKILL) right after writing a given batch.
 *
 *   crash-child.ts <format> <output> <checkpoint> <batches> <rowsPerBatch> [killAfterBatch]
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { openWriter } from '../../../src/batch/writers/index.js';
import type { WriterState } from '../../../src/batch/types.js';
import { makeBatch, options, RICH_SPECS, type Format } from './helpers.js';

const [format, output, checkpoint, batchesArg, rowsArg, killArg] = process.argv.slice(2) as [Format, string, string, string, string, string?];
const batches = Number(batchesArg);
const rowsPerBatch = Number(rowsArg);
const killAfter = killArg === undefined ? -1 : Number(killArg);
const COMMIT_EVERY = 3;

interface Checkpoint { nextBatch: number; state: WriterState; done?: boolean }

async function loadCheckpoint(): Promise<Checkpoint | undefined> {
  try {
    return JSON.parse(await readFile(checkpoint, 'utf8')) as Checkpoint;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

async function saveCheckpoint(cp: Checkpoint): Promise<void> {
  await writeFile(`${checkpoint}.tmp`, JSON.stringify(cp));
  await rename(`${checkpoint}.tmp`, checkpoint);
}

const cp = await loadCheckpoint();
if (cp?.done) {
  process.stdout.write('already done\n');
  process.exit(0);
}
const writer = await openWriter(output, format, options(RICH_SPECS, cp?.state));
for (let b = cp?.nextBatch ?? 0; b < batches; b++) {
  await writer.write(makeBatch(RICH_SPECS, b * rowsPerBatch, rowsPerBatch));
  if ((b + 1) % COMMIT_EVERY === 0) {
    const state = await writer.commit();
    await saveCheckpoint({ nextBatch: b + 1, state });
    process.stdout.write(`checkpoint ${b + 1}\n`);
  }
  if (b === killAfter) process.kill(process.pid, 'SIGKILL');
}
const state = await writer.commit();
await saveCheckpoint({ nextBatch: batches, state });
process.stdout.write(`checkpoint ${batches}\n`); // a kill soon after this lands in close(): merging, removing parts
await writer.close();
await saveCheckpoint({ nextBatch: batches, state, done: true });
process.stdout.write('done\n');
