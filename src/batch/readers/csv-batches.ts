/**
 * The CSV batch loop: reads the file in chunks from a row boundary and cuts batches with the scanner. The same
 * loop runs on the calling thread or in a parse worker (csv-worker.ts).
 */
import type { FileHandle } from 'node:fs/promises';
import { CsvScanner } from '../csv/index.js';
import type { RowBatch, SourcePosition } from '../types.js';
import { csvScanPlan } from './csv-plan.js';
import { FileWindow } from './file-window.js';
import { RowStore, takeBatch, type InputPlan } from './input-plan.js';

/** Everything the loop needs, all of it plain data, so that it can be posted to a worker. */
export interface CsvJob {
  readonly path: string;
  readonly delimiter: number;
  readonly shard: { readonly index: number; readonly count: number };
  readonly start: SourcePosition;
  readonly batchSize: number;
  readonly chunkSize: number;
  readonly maxRowBytes: number;
}

export async function* csvBatches(file: FileHandle, plan: InputPlan, job: CsvJob, stopped: () => boolean): AsyncGenerator<RowBatch> {
  const { batchSize } = job;
  const window = new FileWindow(file, job.path, job.start.byteOffset, job.chunkSize, job.maxRowBytes);
  const store = new RowStore(batchSize, plan.width);
  const scanner = new CsvScanner(csvScanPlan(plan, job.delimiter, job.shard), store, job.start.rowNumber);
  while (!stopped()) {
    window.start = scanner.scan(window.buf, window.start, window.end, window.eof, batchSize);
    const drained = window.eof && window.start >= window.end;
    if (scanner.taken >= batchSize || drained) {
      if (scanner.consumed > 0) {
        const batch = takeBatch(plan, store, { byteOffset: window.offsetOf(window.start), rowNumber: scanner.nextRow }, scanner.consumed);
        scanner.resetCounts();
        yield batch;
      }
      if (drained) return;
    } else {
      await window.more();
    }
  }
}
