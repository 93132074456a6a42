/**
 * The Parquet reader, through DuckDB (@duckdb/node-api): `SELECT * FROM read_parquet(file)` streamed chunk by chunk
 * (DuckDB's chunks hold 2,048 rows), so memory stays bounded whatever the file's size.
 *
 * Parquet has no byte offsets to seek to: positions are row numbers (byteOffset is always 0, see SourcePosition) and
 * a resumed read skips that many rows with OFFSET. DuckDB keeps a plain scan in file order (preserve_insertion_order,
 * on by default), so row numbers mean the same in every run over the same file.
 *
 * Columns are typed: numbers (and lists of numbers) feed numeric inputs as they are, BIGINT as bigint, DECIMAL as a
 * double; a VARCHAR feeding a numeric input is parsed as CSV parses a field; a NULL is a reject ("column 'x' is
 * null"). The reader has an instance of its own: nothing else (an appender, say) may share the connection that
 * streams, or the stream ends early (see DESIGN).
 */
import { stat } from 'node:fs/promises';
import {
  DuckDBInstance, DuckDBTypeId, JSDuckDBValueConverter,
  type DuckDBConnection, type DuckDBResult, type DuckDBType,
} from '@duckdb/node-api';
import { invalid, messageOf } from '../../errors.js';
import type { Reader, ReaderOptions } from '../types.js';
import { checkReaderOptions, planInputs, startRow, type InputPlan } from './input-plan.js';
import { RecordSourceReader } from './record-batches.js';

const NUMERIC_TYPES: ReadonlySet<DuckDBTypeId> = new Set([
  DuckDBTypeId.TINYINT, DuckDBTypeId.SMALLINT, DuckDBTypeId.INTEGER, DuckDBTypeId.BIGINT, DuckDBTypeId.HUGEINT,
  DuckDBTypeId.UTINYINT, DuckDBTypeId.USMALLINT, DuckDBTypeId.UINTEGER, DuckDBTypeId.UBIGINT, DuckDBTypeId.UHUGEINT,
  DuckDBTypeId.FLOAT, DuckDBTypeId.DOUBLE, DuckDBTypeId.DECIMAL,
]);

/** A number, or a list / fixed-size array of numbers: what may feed a numeric input by default. */
export function isNumericDuckType(t: DuckDBType): boolean {
  if (NUMERIC_TYPES.has(t.typeId)) return true;
  if (t.typeId === DuckDBTypeId.LIST || t.typeId === DuckDBTypeId.ARRAY) return isNumericDuckType((t as unknown as { valueType: DuckDBType }).valueType);
  return false;
}

const literal = (s: string): string => `'${s.replace(/'/g, "''")}'`;

export async function openParquetReader(path: string, options: ReaderOptions): Promise<Reader> {
  const shard = checkReaderOptions(options);
  const start = startRow(path, options.startAt);
  await stat(path); // a missing file: the file system's own message, before DuckDB's longer one
  const instance = await DuckDBInstance.create(':memory:', { preserve_insertion_order: 'true' });
  let conn: DuckDBConnection | undefined;
  try {
    conn = await instance.connect();
    let totalRows: number;
    try {
      const meta = await conn.runAndReadAll(`SELECT sum(num_rows) FROM parquet_file_metadata(${literal(path)})`);
      totalRows = Number(meta.getRows()[0]?.[0] ?? 0);
    } catch (e) {
      throw invalid(`${path} is not a Parquet file DuckDB can read: ${firstLine(messageOf(e))}`);
    }
    if (start > totalRows) {
      throw invalid(`${path}: resume row ${start} lies past the file's ${totalRows} rows; was the file changed?`);
    }
    // OFFSET in the query: the rows before the resume point are skipped inside DuckDB and never reach JavaScript.
    const result = await conn.stream(`SELECT * FROM read_parquet(${literal(path)})${start > 0 ? ` OFFSET ${start}` : ''}`);
    const header = result.columnNames();
    const plan = planInputs(header, options, false, result.columnTypes().map(isNumericDuckType));
    return new ParquetReader(instance, conn, result, plan, shard, start, options.batchSize, totalRows);
  } catch (e) {
    conn?.closeSync();
    instance.closeSync();
    throw e;
  }
}

function firstLine(s: string): string {
  return s.split('\n')[0] as string;
}

class ParquetReader extends RecordSourceReader {
  constructor(
    private readonly instance: DuckDBInstance,
    private readonly conn: DuckDBConnection,
    private readonly result: DuckDBResult,
    plan: InputPlan,
    shard: { index: number; count: number },
    start: number,
    batchSize: number,
    readonly totalRows: number,
  ) {
    super(plan, shard, start, batchSize);
  }

  /** DuckDB's chunks (2,048 rows each) as rows of JS values, until the result ends or the reader is closed. */
  protected async *chunks(): AsyncGenerator<unknown[][]> {
    while (!this.closed) {
      const chunk = await this.result.fetchChunk();
      if (chunk === null || chunk.rowCount === 0) return;
      yield chunk.convertRows(JSDuckDBValueConverter);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.conn.closeSync();
    this.instance.closeSync();
  }
}
