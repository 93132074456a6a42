/**
 * Rejected rows as JSON Lines: `{"row":12,"id":"a-12","reason":"column 'x': \"abc\" is not a number"}`, id null
 * when the row had none. Resumable by truncation like the JSON Lines output, with its own state
 * ({format: 'rejects', bytes, rows}) to checkpoint next to the output's.
 */
import type { Reject, WriterState } from '../types.js';
import { ResumableTextFile } from './resumable-file.js';
import { Serial } from './serial.js';

export interface RejectsWriter {
  write(rejects: readonly Reject[]): Promise<void>;
  /** Makes everything written so far durable (fsync) and returns the state to store in the checkpoint. */
  commit(): Promise<WriterState>;
  close(): Promise<void>;
  /** Closes the file without committing (see Writer.release). */
  release(): Promise<void>;
}

export interface RejectsWriterOptions {
  /** When resuming: the state committed last; everything written after it is discarded. */
  readonly resume?: WriterState;
}

export function rejectLine(r: Reject): string {
  return `{"row":${r.row},"id":${r.id === undefined ? 'null' : JSON.stringify(r.id)},"reason":${JSON.stringify(r.reason)}}\n`;
}

export async function openRejectsWriter(path: string, options: RejectsWriterOptions = {}): Promise<RejectsWriter> {
  const file = await ResumableTextFile.open(path, 'rejects', options.resume);
  const serial = new Serial(`rejects writer for ${path}`);
  return {
    write(rejects) {
      if (rejects.length === 0) return Promise.resolve();
      let text = '';
      for (const r of rejects) text += rejectLine(r);
      return serial.run(() => file.append(text, rejects.length));
    },
    commit() {
      return serial.run(() => file.commit());
    },
    close() {
      return serial.close(async () => {
        await file.close();
      });
    },
    async release() {
      await serial.idle();
      await file.release();
    },
  };
}
