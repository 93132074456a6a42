/**
 * The CSV reader: the header from the file's first line, then batches of rows streamed from the resume position
 * (or from just past the header) through the byte-level scanner in ../csv/.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { invalid } from '../../errors.js';
import { readTextRow } from '../csv/index.js';
import type { Reader, ReaderOptions, RowBatch } from '../types.js';
import { csvBatches, type CsvJob } from './csv-batches.js';
import { csvScanPlan, delimiterByte } from './csv-plan.js';
import { checkChunking, FileWindow } from './file-window.js';
import { checkReaderOptions, startPosition, planInputs, type InputPlan } from './input-plan.js';
import { ParseWorker } from './parse-worker.js';

export interface CsvReaderOptions extends ReaderOptions {
  /** Bytes per read (default 1 MiB); tests use a few bytes so that fields straddle reads. */
  readonly chunkSize?: number;
  /** A row longer than this is an error rather than a reason to keep growing the buffer (default 64 MiB). */
  readonly maxRowBytes?: number;
  /**
   * Where parsing runs: 'main' (default) on the caller's thread; 'worker' in a worker thread, overlapping with the
   * caller's scoring and writing; 'auto' a worker when at least WORKER_MIN_BYTES are left to read and the process
   * may use two cores or more.
   * Measured on the shared 2-core machine (200k and 1M rows x 30 floats, parse + a stand-in for scoring and
   * writing): the worker was 0-40% slower, never faster. A fresh thread starts with cold JIT, every batch is
   * posted across, and with no idle second core there is nothing to overlap with. DESIGN.md's prototype gained
   * from a worker on an idle machine, so measure the whole job before choosing 'worker' or 'auto'.
   * Measured end to end since (`ferry batch`, 1M rows, bench/batch.sh, same machine, 2026-11-25, after the JSON
   * Lines writer stopped building strings): with a core mostly free the worker was 1.59x (JSON Lines) and 1.18x
   * (Parquet) of 'main'; with other jobs keeping both cores busy, 0.85x. The worker costs about 40-50 MB more (a
   * second V8 heap): 5M rows to Parquet peaked at 336-349 MB against 297 MB. So `ferry batch` asks for 'auto'
   * for text outputs and 'main' for Parquet (see BatchJobOptions.parseThread); the reader's own default is 'main'.
   */
  readonly thread?: 'main' | 'worker' | 'auto';
}

/** Below this, starting a thread (tens of milliseconds) costs more than the overlap wins. */
export const WORKER_MIN_BYTES = 8 << 20;
/** Batches the parse worker may run ahead of the caller: enough to hide the hand-over, little memory. */
const WORKER_AHEAD = 2;

const BOM = [0xef, 0xbb, 0xbf];

export async function openCsvReader(path: string, options: CsvReaderOptions): Promise<Reader> {
  const shard = checkReaderOptions(options);
  const delimiter = delimiterByte(options.delimiter);
  const { chunkSize, maxRowBytes } = checkChunking(options.chunkSize, options.maxRowBytes);
  const file = await open(path, 'r');
  try {
    const { header, dataStart } = await readHeader(file, path, delimiter, chunkSize, maxRowBytes);
    const plan = planInputs(header, options, true);
    csvScanPlan(plan, delimiter, shard); // checks the column kinds now rather than at the first batch
    const size = (await file.stat()).size;
    const start = startPosition(path, options.startAt, dataStart, size);
    const job: CsvJob = { path, delimiter, shard, start, batchSize: options.batchSize, chunkSize, maxRowBytes };
    const thread = options.thread ?? 'main';
    const inWorker = thread === 'worker' || (thread === 'auto' && size - start.byteOffset >= WORKER_MIN_BYTES && availableParallelism() >= 2);
    return new CsvReader(file, header, plan, job, inWorker);
  } catch (e) {
    await file.close();
    throw e;
  }
}

/** The first row, as text; and where the data rows begin. A UTF-8 byte order mark before it is skipped. */
async function readHeader(
  file: FileHandle,
  path: string,
  delimiter: number,
  chunkSize: number,
  maxRowBytes: number,
): Promise<{ header: string[]; dataStart: number }> {
  const window = new FileWindow(file, path, 0, chunkSize, maxRowBytes);
  await window.more();
  while (window.end < BOM.length && !window.eof) await window.more();
  if (window.end >= BOM.length && BOM.every((b, i) => window.buf[i] === b)) window.start = BOM.length;
  for (;;) {
    if (window.start >= window.end && window.eof) throw invalid(`${path} is empty: a CSV file starts with a header`);
    const row = readTextRow(window.buf, window.start, window.end, window.eof, delimiter);
    if (row) {
      if (row.fields.length === 1 && row.fields[0] === '') throw invalid(`${path}: the first line (the header) is empty`);
      return { header: row.fields, dataStart: window.offsetOf(row.next) };
    }
    await window.more();
  }
}

class CsvReader implements Reader {
  private closed = false;
  private started = false;
  private worker: ParseWorker | undefined;

  constructor(
    private readonly file: FileHandle,
    readonly header: readonly string[],
    private readonly plan: InputPlan,
    private readonly job: CsvJob,
    private readonly inWorker: boolean,
  ) {}

  batches(): AsyncIterable<RowBatch> {
    if (this.started) throw invalid('a reader yields its batches once');
    this.started = true;
    if (!this.inWorker) return csvBatches(this.file, this.plan, this.job, () => this.closed);
    // Plain copies: whatever else the caller's mapping objects carry need not survive a structured clone.
    const mappings = this.plan.inputs.map(({ mapping: m }) => ({ input: m.input, datatype: m.datatype, columns: [...m.columns], rowShape: [...m.rowShape] }));
    this.worker = new ParseWorker({ type: 'start', job: this.job, header: this.header, mappings, idColumn: this.plan.idColumn, ahead: WORKER_AHEAD });
    return this.worker.batches();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.worker?.stop();
    await this.file.close();
  }
}
