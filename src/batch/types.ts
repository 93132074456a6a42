/**
 * The contracts of `ferry batch`: readers turn a source (CSV, JSON Lines, ...) into batches of model inputs;
 * writers store scored batches (JSON Lines, CSV, Parquet, ...) so that a job killed at any moment resumes
 * exactly once. Every reader and every writer passes one shared conformance suite (test/batch/).
 */
import type { Datatype } from '../tensor/datatypes.js';
import type { Tensor, TensorSpec } from '../tensor/tensor.js';

/**
 * Where reading resumes: the byte offset of the next unread row, and that row's number. Text files (CSV, JSON Lines)
 * seek to the byte offset. Row-addressed sources (Parquet, a PostgreSQL query) have no byte offsets: for them
 * byteOffset is always 0 and rowNumber alone says where to resume (Parquet skips that many rows of the file, a
 * PostgreSQL cursor moves past that many rows of the query's result).
 */
export interface SourcePosition {
  /** Byte offset in the source file of the first row not yet consumed (for CSV, past the header); 0 for row-addressed sources. */
  readonly byteOffset: number;
  /** 0-based index of that row among the data rows (the header is not a row). */
  readonly rowNumber: number;
}

/** A row the reader could not turn into model inputs. */
export interface Reject {
  /** 0-based data row index. */
  readonly row: number;
  readonly id?: string;
  /** What is wrong, naming the column: "column 'x': "abc" is not a number". */
  readonly reason: string;
}

/** How columns feed one model input. */
export interface InputMapping {
  readonly input: string;
  readonly datatype: Datatype;
  /** Column indices (in the source's header order), in the order they fill the input's row. */
  readonly columns: readonly number[];
  /** The input's shape past the batch dimension, e.g. [30] for [-1,30], [] for [-1]. Its element count equals columns.length, except in JSON Lines, where one column may hold a whole row as an array. */
  readonly rowShape: readonly number[];
  /** A model's feature (TensorSpec.missing): an empty or null value is a missing one, not a rejected row. */
  readonly missing?: boolean;
}

export interface ReaderOptions {
  /** Rows per batch (before rejects are taken out). */
  readonly batchSize: number;
  /**
   * Maps header columns to model inputs; called once the header is known. Typed sources (Parquet, PostgreSQL) also
   * say which columns hold numbers (or arrays of numbers): by default only those feed a model input.
   */
  readonly mapColumns: (header: readonly string[], numeric?: readonly boolean[]) => { mappings: readonly InputMapping[]; idColumn: number | undefined };
  /** Only rows with rowNumber % count === index are read (`--shard index/count`); default: all. */
  readonly shard?: { readonly index: number; readonly count: number };
  /** Resume here instead of at the start. */
  readonly startAt?: SourcePosition;
  /** CSV only: the field delimiter (default ','). */
  readonly delimiter?: string;
  /** PostgreSQL only: the query whose rows are scored. */
  readonly query?: string;
}

export interface RowBatch {
  /** 0-based data row index of each good row, ascending. */
  readonly rowNumbers: readonly number[];
  /** Each good row's id: the id column's value, or its row number as text. */
  readonly ids: readonly string[];
  /** One tensor per mapped input, shape [rows, ...rowShape], in mapping order. */
  readonly inputs: readonly Tensor[];
  /** Rows of this stretch of the source that were refused. */
  readonly rejects: readonly Reject[];
  /** Every row up to here has been either returned or rejected: resume from this position. */
  readonly next: SourcePosition;
  /** Rows of the source consumed by this batch (good + rejected + skipped by sharding). */
  readonly consumed: number;
}

export interface Reader {
  /** The source's column names. */
  readonly header: readonly string[];
  /** Rows in the whole source, when known without reading it (Parquet's metadata); for progress. */
  readonly totalRows?: number;
  batches(): AsyncIterable<RowBatch>;
  close(): Promise<void>;
}

/** What a writer is handed: the good rows of one batch with the model's outputs for them. */
export interface ScoredBatch {
  readonly ids: readonly string[];
  readonly rowNumbers: readonly number[];
  /** One tensor per model output, shape [rows, ...]. */
  readonly outputs: readonly Tensor[];
}

/** Opaque writer state kept in the checkpoint: enough to cut the output back to what was committed. */
export type WriterState = Readonly<Record<string, unknown>>;

export interface WriterOptions {
  readonly model: string;
  readonly modelVersion: string;
  readonly outputs: readonly TensorSpec[];
  /** When resuming: the state committed last; everything the writer wrote after it is discarded. */
  readonly resume?: WriterState;
  /** Table outputs (DuckDB, PostgreSQL) only: the table upserted into (default 'predictions'). */
  readonly table?: string;
}

export interface Writer {
  write(batch: ScoredBatch): Promise<void>;
  /** Makes everything written so far durable (fsync, or a database's COMMIT) and returns the state to store in the checkpoint. */
  commit(): Promise<WriterState>;
  /** Completes the output (e.g. merges Parquet parts); the job is done after this. */
  close(): Promise<void>;
  /**
   * Lets go of what the writer holds (files, connections) without completing the output, after the queued
   * operations end: for a job that stopped or failed. What was committed stays, and a later run resumes from it.
   * Optional: a writer without it holds nothing that outlives the process's need for it.
   */
  release?(): Promise<void>;
}
