/**
 * The output writers of `ferry batch`: pick one by format (or by the output path's extension) and open it. Files
 * (JSON Lines, CSV, Parquet) are written afresh and cut back on resume; tables (DuckDB, PostgreSQL) are upserted
 * into, keyed by id (see table-output.ts).
 */
import { extname } from 'node:path';
import { invalid } from '../../errors.js';
import type { Writer, WriterOptions } from '../types.js';
import { openCsvWriter } from './csv-writer.js';
import { openJsonlWriter } from './jsonl-writer.js';
import { openParquetWriter } from './parquet-writer.js';

export type OutputFormat = 'jsonl' | 'csv' | 'parquet' | 'duckdb' | 'postgres';

const EXTENSIONS: Readonly<Record<string, OutputFormat>> = {
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.csv': 'csv',
  '.parquet': 'parquet',
  '.duckdb': 'duckdb',
  '.db': 'duckdb',
};

/** True for the formats that are tables upserted into (they take --table), rather than files written afresh. */
export function isTableFormat(format: OutputFormat): boolean {
  return format === 'duckdb' || format === 'postgres';
}

/** The output format an output path asks for by its extension (case-insensitive); a postgresql:// URL is a PostgreSQL table. */
export function outputFormatFromPath(path: string): OutputFormat {
  if (/^postgres(ql)?:\/\//i.test(path)) return 'postgres';
  const ext = extname(path).toLowerCase();
  const format = EXTENSIONS[ext];
  if (format === undefined) {
    throw invalid(`cannot tell the output format of '${path}' from its extension${ext === '' ? '' : ` '${ext}'`}: use one of ${Object.keys(EXTENSIONS).join(', ')}, or a postgresql:// URL`);
  }
  return format;
}

/**
 * Opens a writer. Files: without options.resume the output starts empty (an existing file is replaced); with it,
 * the output is cut back to that committed state and writing continues after it. Tables: created if missing, kept
 * if there (rows upserted by id). The PostgreSQL writer (pg) and the DuckDB table writer are loaded on use.
 */
export async function openWriter(path: string, format: OutputFormat, options: WriterOptions): Promise<Writer> {
  switch (format) {
    case 'jsonl': return openJsonlWriter(path, options);
    case 'csv': return openCsvWriter(path, options);
    case 'parquet': return openParquetWriter(path, options);
    case 'duckdb': return (await import('./duckdb-table-writer.js')).openDuckDBTableWriter(path, options);
    case 'postgres': return (await import('./postgres-table-writer.js')).openPostgresTableWriter(path, options);
    default: throw invalid(`unknown output format '${String(format)}': use jsonl, csv, parquet, duckdb or postgres`);
  }
}

export { openRejectsWriter, type RejectsWriter, type RejectsWriterOptions } from './rejects-writer.js';
export { openJsonlWriter } from './jsonl-writer.js';
export { openCsvWriter } from './csv-writer.js';
export { openParquetWriter, partsDirOf, type ParquetState } from './parquet-writer.js';
export type { TextFileState } from './resumable-file.js';
