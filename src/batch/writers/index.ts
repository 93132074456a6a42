/**
 * The output writers of `ferry batch`: pick one by format (or by the output path's extension) and open it.
 */
import { extname } from 'node:path';
import { invalid } from '../../errors.js';
import type { Writer, WriterOptions } from '../types.js';
import { openCsvWriter } from './csv-writer.js';
import { openJsonlWriter } from './jsonl-writer.js';
import { openParquetWriter } from './parquet-writer.js';

export type OutputFormat = 'jsonl' | 'csv' | 'parquet';

const EXTENSIONS: Readonly<Record<string, OutputFormat>> = {
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.csv': 'csv',
  '.parquet': 'parquet',
};

/** The output format an output path asks for by its extension (case-insensitive). */
export function outputFormatFromPath(path: string): OutputFormat {
  const ext = extname(path).toLowerCase();
  const format = EXTENSIONS[ext];
  if (format === undefined) {
    throw invalid(`cannot tell the output format of '${path}' from its extension${ext === '' ? '' : ` '${ext}'`}: use one of ${Object.keys(EXTENSIONS).join(', ')}`);
  }
  return format;
}

/**
 * Opens a writer. Without options.resume the output starts empty (an existing file is replaced); with it, the
 * output is cut back to that committed state and writing continues after it.
 */
export function openWriter(path: string, format: OutputFormat, options: WriterOptions): Promise<Writer> {
  switch (format) {
    case 'jsonl': return openJsonlWriter(path, options);
    case 'csv': return openCsvWriter(path, options);
    case 'parquet': return openParquetWriter(path, options);
    default: return Promise.reject(invalid(`unknown output format '${String(format)}': use jsonl, csv or parquet`));
  }
}

export { openRejectsWriter, type RejectsWriter, type RejectsWriterOptions } from './rejects-writer.js';
export { openJsonlWriter } from './jsonl-writer.js';
export { openCsvWriter } from './csv-writer.js';
export { openParquetWriter, partsDirOf, type ParquetState } from './parquet-writer.js';
export type { TextFileState } from './resumable-file.js';
