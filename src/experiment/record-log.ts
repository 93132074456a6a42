/**
 * An append-only log of JSON records in numbered segment files, with a checkpointed state beside it: the embedded
 * store of an experiment (predictions and outcomes) under --data-dir.
 *
 * Written by hand rather than on a database: better-sqlite3 compiles for about 75 s on every fresh install here and
 * adds a native binary to the container image, node:sqlite does not exist on Node 20, and DuckDB takes milliseconds
 * per row (../shared/DEPENDENCIES.md). What is needed is small: append, replay in order, drop whole old segments.
 *
 * - Group commit: records appended in one turn of the event loop go out in one write at its end. An append's promise
 *   resolves once its record is written (the kernel has it: a kill -9 of ferry loses nothing, and the caller answers
 *   only then); a durable append also waits for fdatasync (a power cut loses nothing either).
 * - onWritten sees the records in order once written, so an owner that applies them there can checkpoint its state
 *   at any moment with `through` = the last record written, and replay exactly what came after on the next start.
 * - Each start writes a new segment, so a line torn by a crash is only ever the last line of an old segment, and
 *   replay skips it.
 * - Retention drops whole segments, oldest first, only after a checkpoint covers them.
 * Without a folder the log keeps nothing on disk and append resolves at once (the owner keeps its state in memory).
 */
import { closeSync, close as closeFile, fdatasync, openSync, writeSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
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

interface Deferred {
  readonly promise: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  promise.catch(() => undefined); // a failure is reported to each appender that awaits it
  return { promise, resolve, reject };
}

const STATE_FILE = 'state.json';
const LOCK_FILE = 'LOCK';
const segmentFile = (n: number): string => `${String(n).padStart(8, '0')}.jsonl`;

export class RecordLog<R extends LogRecord> {
  /** Called with records, and each one's line as written, once they are written, in order (set by the owner). */
  onWritten: (records: readonly R[], lines: readonly string[]) => void = () => {};
  private seq = 0;
  private written = 0;
  private pending: R[] = [];
  private pendingLines: string[] = [];
  private pendingDurable = false;
  /** What the records pending wait on: settled by the next flush. */
  private flush: Deferred | undefined;
  private fd: number | undefined;
  private readonly segments: Segment[] = [];
  private failure: Error | undefined;

  private constructor(private readonly options: RecordLogOptions) {}

  /**
   * Opens the log in its folder (made if missing), reads the checkpointed state and replays every record in order:
   * `replay(record, afterCheckpoint)`. Returns the log and the state last checkpointed (undefined: none).
   */
  static async open<R extends LogRecord>(options: RecordLogOptions, replay: (record: R, line: string, afterCheckpoint: boolean) => void): Promise<{ log: RecordLog<R>; state: unknown }> {
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
        replay(record, line, record.s > through);
      }
      log.segments.push(segment);
    }
    log.seq = Math.max(log.seq, through);
    log.written = log.seq;
    log.startSegment();
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

  /**
   * Appends a record (its `s` and `t` are set here and returned); `written` resolves once it is written, and synced
   * to disk when `durable`. Records appended in one turn of the event loop share one write and one promise.
   */
  append(fields: Unstamped<R>, durable = false): { record: R; written: Promise<void> } {
    // The stamp first: a line then starts {"s":N,"t":T, which a reader of the line may rely on.
    const record = { s: ++this.seq, t: Date.now(), ...fields } as unknown as R;
    if (this.failure) return { record, written: Promise.reject(this.failure) };
    this.pending.push(record);
    this.pendingLines.push(JSON.stringify(record));
    if (durable) this.pendingDurable = true;
    if (this.flush === undefined) {
      this.flush = deferred();
      queueMicrotask(() => this.flushPending());
    }
    return { record, written: this.flush.promise };
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

  /**
   * Writes what is pending, syncs, checkpoints `finalState()` (taken once everything is written and applied), closes
   * the file, and only then lets the folder go.
   */
  async close(finalState?: () => unknown): Promise<void> {
    const flush = this.flush;
    this.flushPending();
    await flush?.promise.catch(() => undefined);
    if (this.fd !== undefined) {
      const fd = this.fd;
      this.fd = undefined;
      await new Promise<void>((resolve) => fdatasync(fd, () => closeFile(fd, () => resolve())));
    }
    if (finalState) await this.checkpoint(finalState());
    if (this.options.dir !== undefined) await rm(join(this.options.dir, LOCK_FILE), { force: true });
  }

  /**
   * One write for every record appended since the last: synchronous, because a few kilobytes into the page cache
   * take microseconds, far less than a round trip through libuv's thread pool, and the answers waiting on them go
   * out in this same turn. Only the sync to disk that feedback waits for goes to the thread pool.
   */
  private flushPending(): void {
    const flush = this.flush;
    const batch = this.pending;
    const lines = this.pendingLines;
    const durable = this.pendingDurable;
    this.flush = undefined;
    this.pending = [];
    this.pendingLines = [];
    this.pendingDurable = false;
    if (!flush) return;
    try {
      this.write(batch, lines);
    } catch (e) {
      // A full or failing disk: refuse from now on, and never acknowledge what is not written.
      this.failure = new Error(`the experiment store cannot write: ${(e as Error).message}`);
      flush.reject(this.failure);
      return;
    }
    this.written = (batch[batch.length - 1] as R).s;
    this.onWritten(batch, lines);
    if (durable && this.fd !== undefined) fdatasync(this.fd, (e) => (e ? flush.reject(e) : flush.resolve()));
    else flush.resolve();
  }

  private write(batch: readonly R[], lines: readonly string[]): void {
    const segment = this.segments[this.segments.length - 1];
    if (this.fd === undefined || segment === undefined) return;
    const bytes = Buffer.from(`${lines.join('\n')}\n`);
    for (let offset = 0; offset < bytes.length; ) offset += writeSync(this.fd, bytes, offset);
    const last = batch[batch.length - 1] as R;
    segment.records += batch.length;
    segment.lastTime = last.t;
    segment.lastSeq = last.s;
    if (segment.records >= this.options.segmentRecords) this.startSegment();
  }

  private startSegment(): void {
    const dir = this.options.dir;
    if (dir === undefined) return;
    if (this.fd !== undefined) closeSync(this.fd);
    const number = (this.segments[this.segments.length - 1]?.number ?? 0) + 1;
    this.fd = openSync(join(dir, segmentFile(number)), 'a');
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
