/**
 * An append-only log of JSON records in numbered segment files, with a checkpointed state beside it: the embedded
 * store of an experiment (predictions and outcomes) under --data-dir.
 *
 * Written by hand rather than on a database: better-sqlite3 compiles for about 75 s on every fresh install here and
 * adds a native binary to the container image, node:sqlite does not exist on Node 20, and DuckDB takes milliseconds
 * per row (../shared/DEPENDENCIES.md). What is needed is small: append, replay in order, drop whole old segments.
 *
 * - Group commit: records appended while a write is in flight go out together in the next one. append() resolves once
 *   its record is written (the kernel has it: a kill -9 of ferry loses nothing, and the caller answers only then);
 *   a durable append also waits for fdatasync (a power cut loses nothing either).
 * - onWritten sees the records in order once written, so an owner that applies them there can checkpoint its state
 *   at any moment with `through` = the last record written, and replay exactly what came after on the next start.
 * - Each start writes a new segment, so a line torn by a crash is only ever the last line of an old segment, and
 *   replay skips it.
 * - Retention drops whole segments, oldest first, only after a checkpoint covers them.
 * Without a folder the log keeps nothing on disk and append resolves at once (the owner keeps its state in memory).
 */
import { mkdir, open, readdir, readFile, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

/** Every record carries its sequence number and time, set by append(). */
export interface LogRecord {
  s: number;
  t: number;
}

/** A record as appended: without the stamp append() adds (for each member of a union of record kinds). */
export type Unstamped<R> = R extends unknown ? Omit<R, 's' | 't'> : never;

export interface RecordLogOptions {
  /** Where the segments and the checkpoint live; undefined: in memory only. */
  readonly dir: string | undefined;
  /** Records per segment file before the next one starts. */
  readonly segmentRecords: number;
}

interface Segment {
  readonly number: number;
  records: number;
  lastTime: number;
  lastSeq: number;
}

interface Waiter {
  readonly through: number;
  readonly durable: boolean;
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
}

const STATE_FILE = 'state.json';
const LOCK_FILE = 'LOCK';
const segmentFile = (n: number): string => `${String(n).padStart(8, '0')}.jsonl`;

export class RecordLog<R extends LogRecord> {
  /** Called with records once they are written, in order (set by the owner before the first append). */
  onWritten: (records: readonly R[]) => void = () => {};
  private seq = 0;
  private written = 0;
  private pending: R[] = [];
  private waiters: Waiter[] = [];
  private writing = false;
  private handle: FileHandle | undefined;
  private readonly segments: Segment[] = [];
  private failure: Error | undefined;

  private constructor(private readonly options: RecordLogOptions) {}

  /**
   * Opens the log in its folder (made if missing), reads the checkpointed state and replays every record in order:
   * `replay(record, afterCheckpoint)`. Returns the log and the state last checkpointed (undefined: none).
   */
  static async open<R extends LogRecord>(options: RecordLogOptions, replay: (record: R, afterCheckpoint: boolean) => void): Promise<{ log: RecordLog<R>; state: unknown }> {
    const log = new RecordLog<R>(options);
    const dir = options.dir;
    if (dir === undefined) return { log, state: undefined };
    await mkdir(dir, { recursive: true });
    await lock(dir);
    const saved = await readFile(join(dir, STATE_FILE), 'utf8').then((text) => JSON.parse(text) as { through: number; state: unknown }, (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined;
      throw new Error(`cannot read ${join(dir, STATE_FILE)}: ${e.message}`);
    });
    const through = saved?.through ?? 0;
    const numbers = (await readdir(dir)).filter((f) => /^\d{8}\.jsonl$/.test(f)).map((f) => Number(f.slice(0, 8))).sort((a, b) => a - b);
    for (const number of numbers) {
      const segment: Segment = { number, records: 0, lastTime: 0, lastSeq: 0 };
      for (const line of (await readFile(join(dir, segmentFile(number)), 'utf8')).split('\n')) {
        if (line === '') continue;
        let record: R;
        try {
          record = JSON.parse(line) as R;
        } catch {
          continue; // a line torn by a crash mid-write: it was never acknowledged
        }
        segment.records++;
        segment.lastTime = record.t;
        segment.lastSeq = record.s;
        log.seq = Math.max(log.seq, record.s);
        replay(record, record.s > through);
      }
      log.segments.push(segment);
    }
    log.seq = Math.max(log.seq, through);
    log.written = log.seq;
    await log.startSegment();
    return { log, state: saved?.state };
  }

  get durable(): boolean {
    return this.options.dir !== undefined;
  }

  /** The sequence number of the last record written (what a checkpoint taken now covers). */
  get writtenThrough(): number {
    return this.written;
  }

  /** Records kept on disk (all segments). */
  get storedRecords(): number {
    let n = 0;
    for (const s of this.segments) n += s.records;
    return n;
  }

  /** Appends a record (its `s` and `t` are set here); resolves once written, and synced when `durable`. */
  append(fields: Unstamped<R>, durable = false): Promise<R> {
    if (this.failure) return Promise.reject(this.failure);
    const record = { ...fields, s: ++this.seq, t: Date.now() } as unknown as R;
    this.pending.push(record);
    return new Promise<R>((resolve, reject) => {
      this.waiters.push({ through: record.s, durable, resolve: () => resolve(record), reject });
      if (!this.writing) void this.drain();
    });
  }

  /** Writes `state` (covering every record written so far) so the next open replays only what follows it. */
  async checkpoint(state: unknown): Promise<void> {
    const dir = this.options.dir;
    if (dir === undefined) return;
    const text = JSON.stringify({ through: this.written, state });
    const temporary = join(dir, `${STATE_FILE}.tmp`);
    await writeFile(temporary, text);
    await rename(temporary, join(dir, STATE_FILE));
  }

  /**
   * Deletes the oldest segments while the others still hold `keepRecords`, or while their newest record is older
   * than `oldestTime`; never the segment being written, never one the last checkpoint does not cover.
   */
  async prune(keepRecords: number, oldestTime: number, checkpointed: number): Promise<number> {
    const dir = this.options.dir;
    let removed = 0;
    while (dir !== undefined && this.segments.length > 1) {
      const oldest = this.segments[0] as Segment;
      const rest = this.storedRecords - oldest.records;
      if (oldest.lastSeq > checkpointed || (rest < keepRecords && oldest.lastTime >= oldestTime)) break;
      await rm(join(dir, segmentFile(oldest.number)), { force: true });
      this.segments.shift();
      removed += oldest.records;
    }
    return removed;
  }

  /** Waits for every record appended so far to be written, then closes the file. */
  async close(): Promise<void> {
    if (this.pending.length > 0 || this.writing) await new Promise<void>((resolve, reject) => this.waiters.push({ through: this.seq, durable: true, resolve, reject }));
    await this.handle?.close();
    this.handle = undefined;
    if (this.options.dir !== undefined) await rm(join(this.options.dir, LOCK_FILE), { force: true });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    try {
      while (this.pending.length > 0) {
        const batch = this.pending;
        this.pending = [];
        const durable = this.waiters.some((w) => w.durable && w.through <= (batch[batch.length - 1] as R).s);
        await this.write(batch, durable);
        this.written = (batch[batch.length - 1] as R).s;
        this.onWritten(batch);
        const done = this.waiters.filter((w) => w.through <= this.written);
        this.waiters = this.waiters.filter((w) => w.through > this.written);
        for (const w of done) w.resolve();
      }
    } catch (e) {
      // A full or failing disk: refuse from now on (the owner answers 503s), never acknowledge what is not written.
      this.failure = new Error(`the experiment store cannot write: ${(e as Error).message}`);
      for (const w of this.waiters) w.reject(this.failure);
      this.waiters = [];
      this.pending = [];
    } finally {
      this.writing = false;
    }
  }

  private async write(batch: readonly R[], durable: boolean): Promise<void> {
    const segment = this.segments[this.segments.length - 1];
    if (this.handle === undefined || segment === undefined) return;
    let text = '';
    for (const r of batch) text += `${JSON.stringify(r)}\n`;
    const bytes = Buffer.from(text);
    for (let offset = 0; offset < bytes.length; ) offset += (await this.handle.write(bytes, offset)).bytesWritten;
    if (durable) await this.handle.datasync();
    const last = batch[batch.length - 1] as R;
    segment.records += batch.length;
    segment.lastTime = last.t;
    segment.lastSeq = last.s;
    if (segment.records >= this.options.segmentRecords) await this.startSegment();
  }

  private async startSegment(): Promise<void> {
    const dir = this.options.dir;
    if (dir === undefined) return;
    await this.handle?.close();
    const number = (this.segments[this.segments.length - 1]?.number ?? 0) + 1;
    this.handle = await open(join(dir, segmentFile(number)), 'a');
    this.segments.push({ number, records: 0, lastTime: 0, lastSeq: this.written });
  }
}

/**
 * Two servers appending to one log would interleave sequence numbers and each replay the other's records: the folder
 * is taken with a file naming this process. One left by a process that is gone (a kill -9) is taken over.
 */
async function lock(dir: string): Promise<void> {
  const file = join(dir, LOCK_FILE);
  try {
    await writeFile(file, String(process.pid), { flag: 'wx' });
    return;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const holder = Number(await readFile(file, 'utf8').catch(() => ''));
  if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder)) {
    throw new Error(`${dir} is in use by another process (pid ${holder}): give each server its own --data-dir`);
  }
  await writeFile(file, String(process.pid));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
