/** What the CSV reader and its parse worker say to each other. */
import type { ErrorCode } from '../../errors.js';
import type { InputMapping, RowBatch } from '../types.js';
import type { CsvJob } from './csv-batches.js';

export type ToParseWorker =
  | {
      readonly type: 'start';
      readonly job: CsvJob;
      readonly header: readonly string[];
      readonly mappings: readonly InputMapping[];
      readonly idColumn: number | undefined;
      /** Batches the worker may post before the reader has taken them. */
      readonly ahead: number;
    }
  /** The reader took a batch: one more may come. */
  | { readonly type: 'more' };

export type FromParseWorker =
  | { readonly type: 'batch'; readonly batch: RowBatch }
  | { readonly type: 'done' }
  | { readonly type: 'error'; readonly code: ErrorCode; readonly message: string };
