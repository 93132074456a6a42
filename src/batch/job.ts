/**
 * A batch scoring job: read -> score -> write, in batches, with bounded memory, committing progress so a job
 * killed at any moment resumes exactly once. Reading the next batch overlaps scoring and writing the current one.
 */
import { rm, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { openReader, type SourceFormat } from './readers/index.js';
import { isTableFormat, openWriter, openRejectsWriter, type OutputFormat, type RejectsWriter } from './writers/index.js';
import { partsDirOf } from './writers/parquet-writer.js';
import { mapColumns } from './column-mapping.js';
import { readCheckpoint, removeCheckpoint, sameJob, writeCheckpoint, type Checkpoint, type JobCounts } from './checkpoint.js';
import type { Scorer } from './scorer.js';
import type { RowBatch, SourcePosition } from './types.js';

export interface BatchJobOptions {
  readonly input: string;
  readonly inputFormat: SourceFormat;
  readonly output: string;
  readonly outputFormat: OutputFormat;
  readonly batchSize: number;
  readonly idColumn?: string;
  readonly map?: Readonly<Record<string, readonly string[]>>;
  readonly delimiter?: string;
  /** PostgreSQL input: the query whose rows are scored (it needs an ORDER BY for resuming and sharding to be exact). */
  readonly query?: string;
  /** PostgreSQL input: a table to read whole, in primary key order, instead of a query. */
  readonly inputTable?: string;
  /** Table outputs (DuckDB, PostgreSQL): the table upserted into (default 'predictions'). */
  readonly table?: string;
  /**
   * CSV: where parsing runs (see CsvReaderOptions.thread). Default: 'auto' (a worker thread for a large file on a
   * machine with two cores or more) for JSON Lines and CSV output; 'main' for Parquet and tables, whose DuckDB needs
   * the memory a second V8 heap would take (measured, 5M rows: 297 MB on the main thread, 336-349 MB with a worker;
   * the job's target is under 300 MB).
   */
  readonly parseThread?: 'main' | 'worker' | 'auto';
  /** Rejected rows go here (JSON Lines). */
  readonly rejects: string;
  /** The job fails once more rows than this are rejected; undefined = no limit. */
  readonly maxRejects?: number;
  readonly shard?: { readonly index: number; readonly count: number };
  readonly checkpoint: string;
  /** Commit (fsync outputs, write the checkpoint) at most this often. */
  readonly commitEveryMs: number;
  /**
   * Stops the job at the next batch boundary: the batch being scored is written, everything is committed, the
   * checkpoint stays (a rerun resumes there) and the summary says finished: false.
   */
  readonly signal?: AbortSignal;
  /**
   * A checkpoint of this output left by a different job (the input was replaced since, or the model version
   * changed): 'fail' (default) refuses to start; 'restart' starts over, replacing the output (`--every`: each run
   * scores the input as it is then). A checkpoint of another output is always refused.
   */
  readonly otherCheckpoint?: 'fail' | 'restart';
  /** Lines about the job's own decisions (starting over), for stderr. */
  readonly log?: (line: string) => void;
}

export interface JobProgress {
  readonly counts: JobCounts;
  /** Bytes of the input read so far, and its size: the fraction done (both 0 for a source without byte offsets). */
  readonly inputBytes: number;
  readonly inputSize: number;
  /** Rows in the whole source, when known up front (Parquet): the fraction done where there are no bytes. */
  readonly inputRows?: number;
  readonly elapsedMs: number;
}

export interface JobSummary extends JobCounts {
  readonly model: string;
  readonly modelVersion: string;
  readonly input: string;
  readonly output: string;
  readonly rejectsFile: string;
  /** Rows consumed by this run (a resumed run counts only what it did). */
  readonly rowsThisRun: number;
  readonly seconds: number;
  readonly rowsPerSecond: number;
  readonly resumedFrom: number | undefined;
  /** False when the job was stopped (options.signal) before the end: its checkpoint is kept for a rerun. */
  readonly finished: boolean;
}

export class TooManyRejects extends Error {}

export async function runBatchJob(scorer: Scorer, o: BatchJobOptions, onProgress?: (p: JobProgress) => void): Promise<JobSummary> {
  const started = performance.now();
  const tableOutput = isTableFormat(o.outputFormat);
  if (o.table !== undefined && !tableOutput) throw new Error(`--table is for table outputs (a .duckdb file or a postgresql:// URL), not ${o.outputFormat}`);
  if ((o.query !== undefined || o.inputTable !== undefined) && o.inputFormat !== 'postgres') {
    throw new Error(`--query and --input-table are for a PostgreSQL input (a postgresql:// URL), not ${o.inputFormat}`);
  }
  // The job's identity: a file by its path, size and modification time; a database by its URL (password hidden)
  // and the query (or table), which cannot be checked for change: the query's ORDER BY keeps row numbers meaningful.
  const databaseInput = o.inputFormat === 'postgres';
  const inputInfo = databaseInput ? { size: 0, mtimeMs: 0 } : await stat(o.input).catch((e: NodeJS.ErrnoException) => {
    throw new Error(e.code === 'ENOENT' ? `input file '${o.input}' does not exist` : `cannot read input file '${o.input}': ${e.message}`);
  });
  const { redactUrl } = databaseInput || o.outputFormat === 'postgres' ? await import('./postgres.js') : { redactUrl: (s: string) => s };
  const source = databaseInput
    ? { input: redactUrl(o.input), query: o.query ?? null, inputTable: o.inputTable ?? null }
    : { input: resolve(o.input), inputSize: inputInfo.size, inputModified: inputInfo.mtimeMs };
  const job = {
    ...source,
    output: o.outputFormat === 'postgres' ? redactUrl(o.output) : resolve(o.output), outputFormat: o.outputFormat,
    ...(tableOutput ? { table: o.table ?? 'predictions' } : {}),
    model: scorer.model, modelVersion: scorer.version,
    shard: o.shard ?? null, idColumn: o.idColumn ?? null, map: o.map ?? null,
  };
  let checkpoint = await readCheckpoint(o.checkpoint);
  if (checkpoint && !sameJob(checkpoint.job, job)) {
    if (o.otherCheckpoint !== 'restart' || checkpoint.job.output !== job.output) {
      throw new Error(`${o.checkpoint} belongs to another job (different input, output, model or options); remove it to start this one over`);
    }
    o.log?.(`${o.checkpoint} is from an unfinished run over another input or model version; starting over`);
    checkpoint = undefined;
  }
  const counts: JobCounts = checkpoint ? { ...checkpoint.counts } : { consumed: 0, scored: 0, rejected: 0 };
  const resumedFrom = checkpoint?.position.rowNumber;
  const writerOptions = { model: scorer.model, modelVersion: scorer.version, outputs: scorer.outputs, ...(o.table !== undefined ? { table: o.table } : {}) };
  const writer = await openWriter(o.output, o.outputFormat, { ...writerOptions, ...(checkpoint ? { resume: checkpoint.writer } : {}) });
  let rejects: RejectsWriter;
  try {
    rejects = await openRejectsWriter(o.rejects, checkpoint ? { resume: checkpoint.rejects } : {});
  } catch (e) {
    await writer.release?.().catch(() => {});
    throw e;
  }
  const consumedBefore = counts.consumed;
  let finished = checkpoint?.finished ?? false;
  const freshStart = checkpoint === undefined;
  let committed = false;

  const commit = async (position: SourcePosition, finished: boolean): Promise<void> => {
    committed = true;
    const [w, r] = await Promise.all([writer.commit(), rejects.commit()]);
    checkpoint = { version: 1, job, position, writer: w, rejects: r, counts: { ...counts }, finished };
    await writeCheckpoint(o.checkpoint, checkpoint);
  };

  /** Reads, scores and writes from the checkpoint on; true when every row is done, false when stopped (o.signal). */
  const scoreRows = async (): Promise<boolean> => {
    const reader = await openReader(o.input, o.inputFormat, {
      batchSize: o.batchSize,
      // Typed sources (Parquet, PostgreSQL) say which columns are numeric; like JSON Lines, a column may hold an array.
      mapColumns: (header, numeric) => mapColumns(header, scorer.inputs, {
        map: o.map ?? {}, ...(o.idColumn ? { idColumn: o.idColumn } : {}), arrayColumns: o.inputFormat !== 'csv', ...(numeric ? { numeric } : {}),
      }),
      ...(o.shard ? { shard: o.shard } : {}),
      ...(checkpoint ? { startAt: checkpoint.position } : {}),
      ...(o.delimiter ? { delimiter: o.delimiter } : {}),
      ...(o.query !== undefined ? { query: o.query } : {}),
      ...(o.inputTable !== undefined ? { table: o.inputTable } : {}),
      ...(o.idColumn !== undefined ? { idColumnName: o.idColumn } : {}),
      thread: o.parseThread ?? (o.outputFormat === 'parquet' || tableOutput ? 'main' : 'auto'),
    });
    let position: SourcePosition = checkpoint?.position ?? { byteOffset: 0, rowNumber: 0 };
    let lastCommit = performance.now();
    let stopped = false;
    try {
      let scoring: { batch: RowBatch; outputs: ReturnType<Scorer['score']> } | undefined;
      const finish = async (): Promise<void> => {
        if (!scoring) return;
        const { batch, outputs } = scoring;
        scoring = undefined;
        if (batch.ids.length > 0) await writer.write({ ids: batch.ids, rowNumbers: batch.rowNumbers, outputs: await outputs });
        counts.scored += batch.ids.length;
        counts.consumed += batch.consumed;
        position = batch.next;
        onProgress?.({
          counts, inputBytes: position.byteOffset, inputSize: inputInfo.size,
          ...(reader.totalRows !== undefined ? { inputRows: reader.totalRows } : {}), elapsedMs: performance.now() - started,
        });
        if (performance.now() - lastCommit >= o.commitEveryMs) {
          await commit(position, false);
          lastCommit = performance.now();
        }
      };
      for await (const batch of reader.batches()) {
        await finish();
        await rejects.write(batch.rejects);
        counts.rejected += batch.rejects.length;
        if (o.maxRejects !== undefined && counts.rejected > o.maxRejects) {
          // The rejects are flushed for the user to read, but not committed: a rerun (after raising the limit or
          // fixing the data) reads this stretch again and must not list its rejects twice.
          await rejects.commit();
          throw new TooManyRejects(`${counts.rejected} rows rejected, more than --max-rejects ${o.maxRejects}; see ${o.rejects} (the last: row ${batch.rejects.at(-1)!.row}: ${batch.rejects.at(-1)!.reason})`);
        }
        // Scoring starts now; the next batch is read while it runs.
        scoring = { batch, outputs: batch.ids.length > 0 ? scorer.score(batch.inputs) : Promise.resolve([]) };
        scoring.outputs.catch(() => {}); // awaited in finish(); this only keeps an early failure from going unhandled
        if (o.signal?.aborted) {
          stopped = true;
          break;
        }
      }
      await finish();
      await commit(position, !stopped);
    } finally {
      await reader.close();
    }
    return !stopped;
  };

  try {
    if (!finished) finished = await scoreRows();
  } catch (e) {
    // What was committed stays for a rerun; the files and connections go now (a scheduler keeps the process).
    await Promise.allSettled([writer.release?.(), rejects.release()]);
    // A new job that failed before its first commit (a column that does not fit the model, an unreadable input)
    // leaves no empty output files behind: there is nothing in them to resume from.
    if (freshStart && !committed) await removeFiles(tableOutput ? [o.rejects] : [o.output, partsDirOf(o.output), o.rejects]);
    throw e;
  }
  if (finished) {
    await writer.close();
    await rejects.close();
    await removeCheckpoint(o.checkpoint);
    if (counts.rejected === 0) await removeFiles([o.rejects]); // no rejects: no empty file to wonder about
  } else {
    await Promise.all([writer.release?.(), rejects.release()]);
  }
  const seconds = (performance.now() - started) / 1000;
  const rowsThisRun = counts.consumed - consumedBefore;
  return {
    ...counts,
    model: scorer.model,
    modelVersion: scorer.version,
    input: o.input,
    output: o.output,
    rejectsFile: o.rejects,
    rowsThisRun,
    seconds,
    rowsPerSecond: rowsThisRun / Math.max(seconds, 1e-9),
    resumedFrom,
    finished,
  };
}

/** Removes files or folders that may not exist. */
async function removeFiles(paths: readonly string[]): Promise<void> {
  await Promise.all(paths.map((p) => rm(p, { recursive: true, force: true })));
}

export type { Checkpoint };
