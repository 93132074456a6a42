/** The readers of `ferry batch`, by format. */
import { extname } from 'node:path';
import { invalid } from '../../errors.js';
import type { Reader, ReaderOptions } from '../types.js';
import { openCsvReader, type CsvReaderOptions } from './csv-reader.js';
import { openJsonlReader } from './jsonl-reader.js';

export type SourceFormat = 'csv' | 'jsonl';

export { openCsvReader, type CsvReaderOptions } from './csv-reader.js';
export { openJsonlReader, type JsonlReaderOptions } from './jsonl-reader.js';

/** Opens a reader for the format; CSV options (delimiter, chunk size) are passed on, JSON Lines ignores the delimiter. */
export async function openReader(path: string, format: SourceFormat, options: CsvReaderOptions): Promise<Reader> {
  switch (format) {
    case 'csv':
      return openCsvReader(path, options);
    case 'jsonl':
      return openJsonlReader(path, options);
    default:
      throw invalid(`unknown source format ${JSON.stringify(format)}: csv or jsonl`);
  }
}

/**
 * The format a file's extension names, and the delimiter it implies: .csv (','), .tsv (tab), .jsonl and .ndjson.
 * Case does not matter; a trailing .gz is not supported (the readers need byte offsets to resume).
 */
export function formatFromPath(path: string): { format: SourceFormat; delimiter?: string } {
  const ext = extname(path).toLowerCase();
  switch (ext) {
    case '.csv':
      return { format: 'csv' };
    case '.tsv':
      return { format: 'csv', delimiter: '\t' };
    case '.jsonl':
    case '.ndjson':
      return { format: 'jsonl' };
    default:
      throw invalid(`cannot tell the format of ${path} from its extension ${ext ? `(${ext})` : '(none)'}: use .csv, .tsv, .jsonl or .ndjson, or name the format`);
  }
}
