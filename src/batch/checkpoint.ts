/**
 * The job's checkpoint: what has been committed (reader position, writer states, counts), written atomically
 * (temp file, fsync, rename) after the outputs it describes are durable. A job killed at any moment restarts from
 * the last checkpoint; whatever was written after it is cut away, so every input row lands exactly once.
 */
import { open, readFile, rename, rm } from 'node:fs/promises';
import type { SourcePosition, WriterState } from './types.js';

export interface JobCounts {
  /** Source rows consumed (scored + rejected + left to other shards). */
  consumed: number;
  scored: number;
  rejected: number;
}

export interface Checkpoint {
  readonly version: 1;
  /** Identifies the job: a checkpoint of another job (other input, model, output, shard...) is never resumed. */
  readonly job: Readonly<Record<string, unknown>>;
  readonly position: SourcePosition;
  readonly writer: WriterState;
  readonly rejects: WriterState;
  readonly counts: JobCounts;
  /** Every row is committed; only closing the output (merging parts) may remain. */
  readonly finished: boolean;
}

export async function readCheckpoint(path: string): Promise<Checkpoint | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    return JSON.parse(text) as Checkpoint;
  } catch {
    throw new Error(`checkpoint ${path} is not valid JSON; remove it to start the job over`);
  }
}

export async function writeCheckpoint(path: string, checkpoint: Checkpoint): Promise<void> {
  const tmp = `${path}.tmp`;
  const file = await open(tmp, 'w');
  try {
    await file.writeFile(JSON.stringify(checkpoint));
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(tmp, path);
}

export async function removeCheckpoint(path: string): Promise<void> {
  await rm(path, { force: true });
}

/** True when two job descriptions are the same job. */
export function sameJob(a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
