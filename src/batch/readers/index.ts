/** The readers of `ferry batch`, by format. */
import { extname } from 'node:path';
import { invalid } from '../../errors.js';
import type { Reader, ReaderOptions } from '../types.js';
import { openCsvReader, type CsvReaderOptions } from './csv-reader.js';
import { openJsonlReader } from './jsonl-reader.js';
import type { PostgresReaderOptions } from './postgres-reader.js';

export type SourceFormat = 'csv' | 'jsonl' | 'parquet' | 'postgres';

export { openCsvReader, type CsvReaderOptions } from './csv-reader.js';
export { openJsonlReader, type JsonlReaderOptions } from './jsonl-reader.js';

/** The options every reader takes, and each one's own: CSV's delimiter and chunk size, PostgreSQL's query or table. */
export type AnyReaderOptions = CsvReaderOptions & Omit<PostgresReaderOptions, keyof ReaderOptions>;

/**
 * Opens a reader for the format (`path` is a PostgreSQL URL for 'postgres'). Parquet (DuckDB) and PostgreSQL (pg) are
 * loaded on use, so a CSV job does not load them.
 */
export async function openReader(path: string, format: SourceFormat, options: AnyReaderOptions): Promise<Reader> {
  switch (format) {
    case 'csv':
      return openCsvReader(path, options);
    case 'jsonl':
      return openJsonlReader(path, options);
    case 'parquet':
      return (await import('./parquet-reader.js')).openParquetReader(path, options);
    case 'postgres':
      return (await import('./postgres-reader.js')).openPostgresReader(path, options);
    default:
      throw invalid(`unknown source format ${JSON.stringify(format)}: csv, jsonl, parquet or postgres`);
  }
}

/**
 * The format a file's extension names, and the delimiter it implies: .csv (','), .tsv (tab), .jsonl and .ndjson,
 * .parquet; a postgresql:// or postgres:// URL is a PostgreSQL input. Case does not matter; a trailing .gz is not
 * supported (the text readers need byte offsets to resume).
 */
export function formatFromPath(path: string): { format: SourceFormat; delimiter?: string } {
  if (/^postgres(ql)?:\/\//i.test(path)) return { format: 'postgres' };
  const ext = extname(path).toLowerCase();
  switch (ext) {
    case '.csv':
      return { format: 'csv' };
    case '.tsv':
      return { format: 'csv', delimiter: '\t' };
    case '.jsonl':
    case '.ndjson':
      return { format: 'jsonl' };
    case '.parquet':
      return { format: 'parquet' };
    default:
      throw invalid(`cannot tell the format of ${path} from its extension ${ext ? `(${ext})` : '(none)'}: use .csv, .tsv, .jsonl, .ndjson or .parquet, a postgresql:// URL, or name the format`);
  }
}
