/**
 * Row batches from a source that yields typed records in chunks and resumes by row number (Parquet through DuckDB,
 * PostgreSQL through a cursor): the shard filter, the batch cut and each batch's resume position, shared so both
 * readers count and cut rows the same way. (JSON Lines resumes by byte offset and keeps its own loop.)
 */
import { invalid } from '../../errors.js';
import type { Reader, RowBatch } from '../types.js';
import { RowStore, takeBatch, type InputPlan } from './input-plan.js';
import { RecordParser } from './record-rows.js';

export interface RecordBatchOptions {
  readonly plan: InputPlan;
  readonly shard: { readonly index: number; readonly count: number };
  /** The row number of the first record the chunks hold. */
  readonly start: number;
  readonly batchSize: number;
  /** True once the reader is closed: the last, partial batch is then not yielded (`chunks` must stop too). */
  readonly closed: () => boolean;
}

export async function* recordBatches(chunks: AsyncIterable<readonly (readonly unknown[])[]>, o: RecordBatchOptions): AsyncGenerator<RowBatch> {
  const { plan, batchSize } = o;
  const { index, count } = o.shard;
  const store = new RowStore(batchSize, plan.width);
  const records = new RecordParser(plan, store);
  let nextRow = o.start;
  let consumed = 0;
  let taken = 0;
  const flush = (): RowBatch => {
    const batch = takeBatch(plan, store, { byteOffset: 0, rowNumber: nextRow }, consumed);
    consumed = 0;
    taken = 0;
    return batch;
  };
  for await (const rows of chunks) {
    for (const values of rows) {
      const row = nextRow++;
      consumed++;
      if (count === 1 || row % count === index) {
        taken++;
        records.add(values, row);
      }
      if (taken >= batchSize) yield flush();
    }
  }
  if (consumed > 0 && !o.closed()) yield flush();
}

/**
 * A reader of such a source: yields its batches once, from the chunks the subclass fetches (`chunks()` stops once
 * `closed` is set); the subclass closes its connection in `close()`.
 */
export abstract class RecordSourceReader implements Reader {
  readonly header: readonly string[];
  protected closed = false;
  private started = false;

  constructor(
    protected readonly plan: InputPlan,
    private readonly shard: { readonly index: number; readonly count: number },
    private readonly start: number,
    protected readonly batchSize: number,
  ) {
    this.header = plan.header;
  }

  batches(): AsyncIterable<RowBatch> {
    if (this.started) throw invalid('a reader yields its batches once');
    this.started = true;
    const { plan, shard, start, batchSize } = this;
    return recordBatches(this.chunks(), { plan, shard, start, batchSize, closed: () => this.closed });
  }

  protected abstract chunks(): AsyncGenerator<unknown[][]>;
  abstract close(): Promise<void>;
}
