/**
 * The experiment store's log on a real folder: records replay in order after a reopen, split at the checkpoint; a
 * line torn by a crash is skipped; each open writes a new segment; retention drops whole segments only once a
 * checkpoint covers them; without a folder nothing touches the disk.
 */
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordLog, type LogRecord } from '../../src/experiment/record-log.js';

interface Note extends LogRecord {
  n: number;
}

async function openLog(dir: string | undefined, segmentRecords = 1000) {
  const replayed: { n: number; after: boolean }[] = [];
  const { log, state } = await RecordLog.open<Note>({ dir, segmentRecords }, (r, _line, after) => replayed.push({ n: r.n, after }));
  return { log, state, replayed };
}

describe('record log', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ferry-log-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('replays every record in order, those after the checkpoint marked so, with the state saved', async () => {
    const first = await openLog(dir);
    const written: number[] = [];
    first.log.onWritten = (records) => written.push(...records.map((r) => r.n));
    await Promise.all([1, 2, 3].map((n) => first.log.append({ n }).written));
    assert.deepEqual(written, [1, 2, 3], 'onWritten sees the records in order, once written');
    await first.log.checkpoint({ total: 6 });
    await first.log.append({ n: 4 }, true).written;
    await first.log.close();

    const again = await openLog(dir);
    assert.deepEqual(again.state, { total: 6 });
    assert.deepEqual(again.replayed, [
      { n: 1, after: false },
      { n: 2, after: false },
      { n: 3, after: false },
      { n: 4, after: true },
    ]);
    const next = again.log.append({ n: 5 });
    await next.written;
    assert.equal(next.record.s, 5, 'sequence numbers go on from the last one');
    await again.log.close();
    assert.equal(readdirSync(dir).filter((f) => f.endsWith('.jsonl')).length, 2, 'each open writes a new segment');
  });

  it('skips a line torn by a crash', async () => {
    const first = await openLog(dir);
    await first.log.append({ n: 1 }).written;
    await first.log.close();
    const segment = readdirSync(dir).find((f) => f.endsWith('.jsonl'))!;
    appendFileSync(join(dir, segment), '{"n":2,"s":2,"t":17');
    const again = await openLog(dir);
    assert.deepEqual(again.replayed.map((r) => r.n), [1]);
    assert.equal(again.log.append({ n: 3 }).record.s, 2);
    await again.log.close();
  });

  it('drops whole old segments by count and age, never past the checkpoint, never the one being written', async () => {
    const { log } = await openLog(dir, 10);
    for (let i = 1; i <= 35; i++) await log.append({ n: i }).written;
    const segments = () => readdirSync(dir).filter((f) => f.endsWith('.jsonl')).length;
    assert.equal(segments(), 4, '10 records per segment: three full ones and the one being written');
    assert.equal(await log.prune(10, 0, 0), 0, 'nothing a checkpoint does not cover goes');
    assert.equal(await log.prune(10, 0, 35), 20, 'keep at least 10: the two oldest segments go');
    assert.equal(log.storedRecords, 15);
    assert.equal(await log.prune(1_000, Date.now() + 1, 35), 10, 'all older than the cut-off: all but the current segment go');
    assert.equal(segments(), 1);
    await log.close();
  });

  it('refuses a folder another live process holds, and takes over one a killed process left', async () => {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'LOCK'), String(process.ppid)); // alive: the process that started this test
    await assert.rejects(openLog(dir), /in use by another process \(pid \d+\): give each server its own --data-dir/);
    writeFileSync(join(dir, 'LOCK'), '999999999'); // no such process
    const { log } = await openLog(dir);
    await log.close();
    assert.ok(!readdirSync(dir).includes('LOCK'), 'closing lets the folder go');
  });

  it('keeps nothing on disk without a folder, and still calls onWritten in order', async () => {
    const { log } = await openLog(undefined);
    const seen: number[] = [];
    log.onWritten = (records) => seen.push(...records.map((r) => r.n));
    await Promise.all([1, 2].map((n) => log.append({ n }, true).written));
    assert.deepEqual(seen, [1, 2]);
    assert.equal(log.durable, false);
    await log.checkpoint({});
    await log.close();
  });
});
