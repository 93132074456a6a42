/**
 * The JSON Lines reader: one JSON object per line. The "header" is the key order of the file's first object;
 * each row's values are then looked up by name, so later objects may order their keys as they like. A value may
 * be an array (nested arrays are flattened): it then fills as many elements of its input as it holds, so
 * {"features": [30 numbers]} feeds an input of row shape [30] through a mapping with that one column.
 * Positions are byte offsets of line starts, as for CSV.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { invalid, messageOf } from '../../errors.js';
import { quote } from '../csv/index.js';
import type { Reader, ReaderOptions, RowBatch, SourcePosition } from '../types.js';
import { checkChunking, FileWindow } from './file-window.js';
import { checkReaderOptions, startPosition, planInputs, RowStore, takeBatch, type InputPlan } from './input-plan.js';
import { RecordParser } from './record-rows.js';

export interface JsonlReaderOptions extends ReaderOptions {
  /** Bytes per read (default 1 MiB). */
  readonly chunkSize?: number;
  /** A line longer than this is an error (default 64 MiB). */
  readonly maxRowBytes?: number;
}

const LF = 10;

export async function openJsonlReader(path: string, options: JsonlReaderOptions): Promise<Reader> {
  const shard = checkReaderOptions(options);
  const { chunkSize, maxRowBytes } = checkChunking(options.chunkSize, options.maxRowBytes);
  const file = await open(path, 'r');
  try {
    const { header, dataStart } = await readHeader(file, path, chunkSize, maxRowBytes);
    const plan = planInputs(header, options, false);
    const size = (await file.stat()).size;
    const start = startPosition(path, options.startAt, dataStart, size);
    return new JsonlReader(file, path, plan, shard, start, options.batchSize, chunkSize, maxRowBytes);
  } catch (e) {
    await file.close();
    throw e;
  }
}

/** The keys of the first object; the rows start at the file's start (past a byte order mark): it is a row too. */
async function readHeader(file: FileHandle, path: string, chunkSize: number, maxRowBytes: number): Promise<{ header: string[]; dataStart: number }> {
  const window = new FileWindow(file, path, 0, chunkSize, maxRowBytes);
  await window.more();
  while (window.end < 3 && !window.eof) await window.more();
  const dataStart = window.end >= 3 && window.buf[0] === 0xef && window.buf[1] === 0xbb && window.buf[2] === 0xbf ? 3 : 0;
  window.start = dataStart;
  for (;;) {
    const lf = window.buf.indexOf(LF, window.start);
    const lineEnd = lf >= 0 && lf < window.end ? lf : window.eof ? window.end : -1;
    if (lineEnd < 0) {
      await window.more();
      continue;
    }
    const line = window.buf.toString('utf8', window.start, lineEnd);
    if (line.trim() !== '') {
      let first: unknown;
      try {
        first = JSON.parse(line);
      } catch (e) {
        throw invalid(`${path}: the first line is not JSON (${messageOf(e)}), so the columns are unknown`);
      }
      if (!isObject(first)) throw invalid(`${path}: the first line is not a JSON object, so the columns are unknown`);
      return { header: Object.keys(first), dataStart };
    }
    if (lineEnd >= window.end) throw invalid(`${path} is empty: JSON Lines needs at least one object`);
    window.start = lineEnd + 1;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

class JsonlReader implements Reader {
  readonly header: readonly string[];
  private closed = false;
  private started = false;

  constructor(
    private readonly file: FileHandle,
    private readonly path: string,
    private readonly plan: InputPlan,
    private readonly shard: { index: number; count: number },
    private readonly start: SourcePosition,
    private readonly batchSize: number,
    private readonly chunkSize: number,
    private readonly maxRowBytes: number,
  ) {
    this.header = plan.header;
  }

  batches(): AsyncIterable<RowBatch> {
    if (this.started) throw invalid('a reader yields its batches once');
    this.started = true;
    return this.read();
  }

  private async *read(): AsyncGenerator<RowBatch> {
    const { plan, batchSize } = this;
    const { index, count } = this.shard;
    const window = new FileWindow(this.file, this.path, this.start.byteOffset, this.chunkSize, this.maxRowBytes);
    const store = new RowStore(batchSize, plan.width);
    const rows = new RecordParser(plan, store);
    let nextRow = this.start.rowNumber;
    let consumed = 0;
    let taken = 0;
    const flush = (): RowBatch => {
      const batch = takeBatch(plan, store, { byteOffset: window.offsetOf(window.start), rowNumber: nextRow }, consumed);
      consumed = 0;
      taken = 0;
      return batch;
    };
    while (!this.closed) {
      const { buf, end } = window;
      const lf = window.start < end ? buf.indexOf(LF, window.start) : -1;
      let lineEnd = lf >= 0 && lf < end ? lf : -1;
      if (lineEnd < 0) {
        if (!window.eof) {
          await window.more();
          continue;
        }
        if (window.start >= end) break;
        lineEnd = end; // the last line, without a line feed
      }
      const lineStart = window.start;
      window.start = lineEnd < end ? lineEnd + 1 : end;
      if (isBlank(buf, lineStart, lineEnd)) continue; // not a row
      const row = nextRow++;
      consumed++;
      if (count === 1 || row % count === index) {
        taken++;
        parseLine(rows, store, buf.toString('utf8', lineStart, lineEnd), row);
      }
      if (taken >= batchSize) yield flush();
    }
    if (consumed > 0 && !this.closed) yield flush();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.file.close();
  }
}

function isBlank(b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = b[i];
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}

/** One line to one good row (into the store) or one reject. */
function parseLine(rows: RecordParser, store: RowStore, line: string, row: number): void {
  let object: unknown;
  try {
    object = JSON.parse(line);
  } catch (e) {
    store.rejects.push({ row, reason: `not valid JSON (${messageOf(e)})` });
    return;
  }
  if (!isObject(object)) {
    store.rejects.push({ row, reason: `not a JSON object but ${Array.isArray(object) ? 'an array' : quote(JSON.stringify(object))}` });
    return;
  }
  rows.add(object, row);
}
