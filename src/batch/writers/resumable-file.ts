/**
 * An append-only text file that can be cut back to its last commit: the scheme behind the JSON Lines, CSV and
 * rejects writers. commit() flushes and fsyncs and returns the committed length; reopening with that state
 * truncates whatever was written after it (rows of a killed run, a half-written last line) and appends from there.
 *
 * Text is buffered in memory and written in large blocks at explicit positions: one write call per ~1 MiB, not per
 * row or per batch.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { invalid } from '../../errors.js';
import type { WriterState } from '../types.js';

/** What a text writer keeps in the checkpoint (a type, not an interface, so it is a WriterState). */
export type TextFileState = {
  readonly format: string;
  /** Committed length of the file in bytes. */
  readonly bytes: number;
  /** Rows in the committed part of the file. */
  readonly rows: number;
};

const FLUSH_CHARS = 1 << 20;

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Checks a checkpointed state is one this kind of file wrote. */
export function parseTextState(state: WriterState, format: string, path: string): TextFileState {
  const { format: f, bytes, rows } = state as Record<string, unknown>;
  if (f !== format || !isCount(bytes) || !isCount(rows)) {
    throw invalid(`cannot resume ${path}: the checkpoint's writer state ${JSON.stringify(state)} is not a ${format} writer's state`);
  }
  return { format, bytes, rows };
}

/** fsyncs a directory so a file created in it survives a crash; a no-op where the platform refuses (Windows). */
export async function syncDir(dir: string): Promise<void> {
  let dh: FileHandle | undefined;
  try {
    dh = await open(dir, 'r');
    await dh.sync();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EBADF') throw e;
  } finally {
    await dh?.close();
  }
}

export class ResumableTextFile {
  /** Text, or bytes already encoded as UTF-8. */
  private pending: (string | Uint8Array)[] = [];
  private pendingChars = 0;
  private pendingRows = 0;
  private dirSynced: boolean;
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly format: string,
    private readonly fh: FileHandle,
    /** Bytes on disk (flushed). */
    private position: number,
    /** Rows flushed to disk. */
    private rows: number,
    isNew: boolean,
  ) {
    this.dirSynced = !isNew;
  }

  /**
   * Without resume: creates or truncates the file. With resume: cuts the file back to the committed length and
   * appends after it; a file shorter than that (replaced or edited since) is refused.
   */
  static async open(path: string, format: string, resume: WriterState | undefined): Promise<ResumableTextFile> {
    if (resume === undefined) return new ResumableTextFile(path, format, await open(path, 'w'), 0, 0, true);
    const state = parseTextState(resume, format, path);
    let fh: FileHandle;
    try {
      fh = await open(path, 'r+');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' && state.bytes === 0) {
        return new ResumableTextFile(path, format, await open(path, 'w'), 0, state.rows, true);
      }
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        throw invalid(`cannot resume: ${path} is missing, but the checkpoint says ${state.bytes} bytes of it were committed`);
      }
      throw e;
    }
    try {
      const { size } = await fh.stat();
      if (size < state.bytes) {
        throw invalid(`cannot resume: ${path} holds ${size} bytes, fewer than the ${state.bytes} the checkpoint committed (was it changed or replaced?)`);
      }
      if (size > state.bytes) {
        await fh.truncate(state.bytes);
        await fh.sync();
      }
    } catch (e) {
      await fh.close();
      throw e;
    }
    return new ResumableTextFile(path, format, fh, state.bytes, state.rows, false);
  }

  /** True while nothing has been written: right after creating the file, or resuming at 0 bytes. */
  get isEmpty(): boolean {
    return this.position === 0 && this.pending.length === 0;
  }

  /** Appends text (or its UTF-8 bytes) holding `rows` rows. */
  async append(text: string | Uint8Array, rows: number): Promise<void> {
    this.pending.push(text);
    this.pendingChars += text.length;
    this.pendingRows += rows;
    if (this.pendingChars >= FLUSH_CHARS) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const parts = this.pending.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p));
    const buf = parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts);
    this.pending = [];
    this.pendingChars = 0;
    let off = 0;
    while (off < buf.length) {
      const { bytesWritten } = await this.fh.write(buf, off, buf.length - off, this.position + off);
      off += bytesWritten;
    }
    this.position += buf.length;
    this.rows += this.pendingRows;
    this.pendingRows = 0;
  }

  /** Flushes and fsyncs (the directory too, the first time), and returns the state to checkpoint. */
  async commit(): Promise<TextFileState> {
    await this.flush();
    await this.fh.sync();
    if (!this.dirSynced) {
      await syncDir(dirname(this.path));
      this.dirSynced = true;
    }
    return { format: this.format, bytes: this.position, rows: this.rows };
  }

  /** Closes the file without flushing or syncing: what was not committed may or may not be on disk (resuming cuts it). */
  async release(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.pending = [];
    await this.fh.close();
  }

  /** Commits and closes the file. */
  async close(): Promise<TextFileState> {
    if (this.closed) return { format: this.format, bytes: this.position, rows: this.rows };
    try {
      return await this.commit();
    } finally {
      this.closed = true;
      await this.fh.close();
    }
  }
}
