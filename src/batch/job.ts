/**
 * A batch scoring job: read -> score -> write, in batches, with bounded memory, committing progress so a job
 * killed at any moment resumes exactly once. Reading the next batch overlaps scoring and writing the current one.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { openReader, type SourceFormat } from './readers/index.js';
import { isTableFormat, openWriter, openRejectsWriter, type OutputFormat } from './writers/index.js';
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
  /** Rejected rows go here (JSON Lines). */
  readonly rejects: string;
  /** The job fails once more rows than this are rejected; undefined = no limit. */
  readonly maxRejects?: number;
  readonly shard?: { readonly index: number; readonly count: number };
  readonly checkpoint: string;
  /** Commit (fsync outputs, write the checkpoint) at most this often. */
  readonly commitEveryMs: number;
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
  const inputInfo = databaseInput ? { size: 0, mtimeMs: 0 } : await stat(o.input);
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
    throw new Error(`${o.checkpoint} belongs to another job (different input, output, model or options); remove it to start this one over`);
  }
  const counts: JobCounts = checkpoint ? { ...checkpoint.counts } : { consumed: 0, scored: 0, rejected: 0 };
  const resumedFrom = checkpoint?.position.rowNumber;
  const writerOptions = { model: scorer.model, modelVersion: scorer.version, outputs: scorer.outputs, ...(o.table !== undefined ? { table: o.table } : {}) };
  const writer = await openWriter(o.output, o.outputFormat, { ...writerOptions, ...(checkpoint ? { resume: checkpoint.writer } : {}) });
  const rejects = await openRejectsWriter(o.rejects, checkpoint ? { resume: checkpoint.rejects } : {});
  const consumedBefore = counts.consumed;

  const commit = async (position: SourcePosition, finished: boolean): Promise<void> => {
    const [w, r] = await Promise.all([writer.commit(), rejects.commit()]);
    checkpoint = { version: 1, job, position, writer: w, rejects: r, counts: { ...counts }, finished };
    await writeCheckpoint(o.checkpoint, checkpoint);
  };

  try {
    if (!checkpoint?.finished) {
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
      });
      let position: SourcePosition = checkpoint?.position ?? { byteOffset: 0, rowNumber: 0 };
      let lastCommit = performance.now();
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
        }
        await finish();
        await commit(position, true);
      } finally {
        await reader.close();
      }
    }
    await writer.close();
  } catch (e) {
    // A failed job lets go of its outputs without completing them: a database writer rolls back what it had not
    // committed and closes its connection (which would otherwise keep the process alive); files stay for a resume.
    await writer.abort?.().catch(() => {});
    await rejects.close().catch(() => {});
    throw e;
  }
  await rejects.close();
  await removeCheckpoint(o.checkpoint);
  const seconds = (performance.now() - started) / 1000;
  const rowsThisRun = counts.consumed - consumedBefore;
  return {
    ...counts,
    model: scorer.model,
    modelVersion: scorer.version,
    input: databaseInput ? redactUrl(o.input) : o.input,
    output: o.outputFormat === 'postgres' ? redactUrl(o.output) : o.output,
    rejectsFile: o.rejects,
    rowsThisRun,
    seconds,
    rowsPerSecond: rowsThisRun / Math.max(seconds, 1e-9),
    resumedFrom,
  };
}

export type { Checkpoint };
