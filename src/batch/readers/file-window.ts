/**
 * A window on a file read in chunks: bytes [start, end) of `buf` are read and not yet consumed, `buf[0]` is at
 * file offset `base`. A reader consumes whole rows by moving `start`; when the rest is a partial row it calls
 * `more()`, which slides the partial row to the front and reads the next chunk after it. Memory stays at about
 * two chunks, plus the longest row (up to `maxRowBytes`).
 */
import { Buffer } from 'node:buffer';
import type { FileHandle } from 'node:fs/promises';
import { invalid } from '../../errors.js';

export const DEFAULT_CHUNK_SIZE = 1 << 20;
export const DEFAULT_MAX_ROW_BYTES = 64 << 20;

export class FileWindow {
  buf: Buffer;
  start = 0;
  end = 0;
  /** File offset of buf[0]. */
  base: number;
  /** No byte is left to read past `end`. */
  eof = false;

  constructor(
    private readonly file: FileHandle,
    private readonly path: string,
    offset: number,
    private readonly chunkSize: number,
    private readonly maxRowBytes: number,
  ) {
    this.base = offset;
    this.buf = Buffer.allocUnsafe(2 * chunkSize + 1); // + 1: room for the CSV scanner's sentinel
  }

  /** File offset of buf[i]. */
  offsetOf(i: number): number {
    return this.base + i;
  }

  /** Reads the next chunk, keeping the unconsumed bytes. Sets `eof` once the file has nothing more. */
  async more(): Promise<void> {
    if (this.eof) return;
    const keep = this.end - this.start;
    if (keep > this.maxRowBytes) {
      throw invalid(
        `${this.path}: the row at byte ${this.offsetOf(this.start)} is longer than ${this.maxRowBytes} bytes (a quote that is never closed?)`,
      );
    }
    if (this.start > 0) {
      this.buf.copyWithin(0, this.start, this.end);
      this.base += this.start;
      this.start = 0;
      this.end = keep;
    }
    if (this.buf.length - this.end <= this.chunkSize) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.end + this.chunkSize + 1));
      this.buf.copy(bigger, 0, 0, this.end);
      this.buf = bigger;
    }
    const { bytesRead } = await this.file.read(this.buf, this.end, this.chunkSize, this.base + this.end);
    if (bytesRead === 0) this.eof = true;
    this.end += bytesRead;
  }
}

/** Checks the tuning options both readers take. */
export function checkChunking(chunkSize: number | undefined, maxRowBytes: number | undefined): { chunkSize: number; maxRowBytes: number } {
  const c = chunkSize ?? DEFAULT_CHUNK_SIZE;
  const m = maxRowBytes ?? DEFAULT_MAX_ROW_BYTES;
  if (!Number.isInteger(c) || c < 1) throw invalid(`chunkSize must be a positive integer, not ${c}`);
  if (!Number.isInteger(m) || m < 1) throw invalid(`maxRowBytes must be a positive integer, not ${m}`);
  return { chunkSize: c, maxRowBytes: m };
}
