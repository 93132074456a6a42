/**
 * The schedule of `ferry batch --every`: what the expression names (fixed dates, no clock), then the loop on the
 * real clock with every-second expressions: runs on the second, no overlap (a time that comes while a run goes is
 * skipped and logged), a failed run does not stop the schedule, and stopping while waiting or while running.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseSchedule, runOnSchedule, type ScheduledRunsOptions } from '../../src/batch/schedule.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs the loop until `stopAfterMs`, then stops it; returns what happened. */
async function runFor(stopAfterMs: number, expression: string, run: ScheduledRunsOptions['run']) {
  const lines: string[] = [];
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), stopAfterMs);
  const t0 = Date.now();
  const result = await runOnSchedule({ schedule: parseSchedule(expression), run, signal: stop.signal, log: (l) => lines.push(l) });
  clearTimeout(timer);
  return { result, lines, ms: Date.now() - t0 };
}

describe('schedule: the expression', () => {
  const at = (s: string) => new Date(s);

  it('5 fields: minute hour day-of-month month day-of-week, with lists, ranges, steps and names', () => {
    const nightly = parseSchedule('0 2 * * *', 'UTC');
    assert.deepEqual(nightly.next(at('2026-11-25T18:00:00Z')), at('2026-11-26T02:00:00Z'));
    assert.deepEqual(nightly.next(at('2026-11-26T02:00:00Z')), at('2026-11-27T02:00:00Z'), 'strictly after');
    const weekdays = parseSchedule('30 9-17/4 * * MON-FRI', 'UTC');
    // 2026-11-27 is a Friday: 09:30, 13:30, 17:30, then Monday.
    assert.deepEqual(weekdays.next(at('2026-11-27T10:00:00Z')), at('2026-11-27T13:30:00Z'));
    assert.deepEqual(weekdays.next(at('2026-11-27T17:30:00Z')), at('2026-11-30T09:30:00Z'));
    const quarterly = parseSchedule('0 0 1 JAN,APR,JUL,OCT *', 'UTC');
    assert.deepEqual(quarterly.next(at('2026-11-25T00:00:00Z')), at('2027-01-01T00:00:00Z'));
    // Day-of-month and day-of-week both given: either matches (Vixie cron). 2026-12-01 is a Tuesday.
    const either = parseSchedule('0 0 1 * FRI', 'UTC');
    assert.deepEqual(either.next(at('2026-11-25T00:00:00Z')), at('2026-11-27T00:00:00Z'));
    assert.deepEqual(either.next(at('2026-11-28T00:00:00Z')), at('2026-12-01T00:00:00Z'));
  });

  it('6 fields: seconds first', () => {
    const s = parseSchedule('*/15 * * * * *', 'UTC');
    assert.deepEqual(s.next(at('2026-11-25T18:00:07.400Z')), at('2026-11-25T18:00:15Z'));
  });

  it('a time zone moves the times; without one, local time', () => {
    const paris = parseSchedule('0 2 * * *', 'Europe/Paris');
    assert.deepEqual(paris.next(at('2026-11-25T18:00:00Z')), at('2026-11-26T01:00:00Z'), 'CET is UTC+1 in November');
    assert.deepEqual(paris.next(at('2026-07-01T12:00:00Z')), at('2026-07-02T00:00:00Z'), 'CEST is UTC+2 in July');
    assert.equal(parseSchedule('0 2 * * *').timezone, undefined);
  });

  it('refuses what it cannot read, saying why', () => {
    assert.throws(() => parseSchedule('* * *'), /bad schedule '\* \* \*'.*5 fields/);
    assert.throws(() => parseSchedule('61 * * * *'), /bad schedule.*minute/);
    assert.throws(() => parseSchedule('0 0 0 * * * 2030'), /bad schedule/);
    assert.throws(() => parseSchedule('0 2 * * FUNDAY'), /bad schedule/);
    assert.throws(() => parseSchedule('0 2 * * *', 'Mars/Olympus'), /unknown time zone 'Mars\/Olympus'/);
    assert.throws(() => parseSchedule('0 0 31 2 *'), /names no time/);
  });
});

describe('schedule: the loop, on the real clock', () => {
  it('starts a run at each second the expression names, on the second', async () => {
    const dues: Date[] = [];
    const starts: number[] = [];
    const { result, lines } = await runFor(3200, '* * * * * *', async (_signal, due) => {
      dues.push(due);
      starts.push(Date.now());
    });
    assert.ok(result.started >= 2 && result.started <= 4, `2 to 4 runs in 3.2 s, got ${result.started}`);
    assert.equal(result.failed, 0);
    assert.equal(result.skipped, 0);
    dues.forEach((due, i) => {
      assert.equal(due.getMilliseconds(), 0, 'due on a whole second');
      // Never early; late only by what a busy machine's timers take (a shared 2-core machine: well under 900 ms).
      assert.ok(starts[i]! >= due.getTime() && starts[i]! - due.getTime() < 900, `run ${i} started ${starts[i]! - due.getTime()} ms after its time`);
      if (i > 0) assert.equal(due.getTime() - dues[i - 1]!.getTime(), 1000);
    });
    assert.match(lines[0]!, /^next run at \d{4}-\d\d-\d\dT.*Z \(schedule '\* \* \* \* \* \*', local time/);
  });

  it('never overlaps: a time that comes while a run goes is skipped, with a log line', async () => {
    let going = 0;
    let most = 0;
    const { result, lines } = await runFor(3700, '* * * * * *', async () => {
      going++;
      most = Math.max(most, going);
      await sleep(1500); // longer than the period
      going--;
    });
    assert.equal(most, 1, 'one run at a time');
    assert.ok(result.started >= 1 && result.skipped >= 1, JSON.stringify(result));
    assert.ok(lines.some((l) => /^skipped the run due at .*Z: the run due at .*Z is still going$/.test(l)), lines.join('\n'));
  });

  it('a failed run is logged and the schedule goes on', async () => {
    let calls = 0;
    const { result, lines } = await runFor(3200, '* * * * * *', async () => {
      calls++;
      if (calls === 1) throw new Error('disk full');
      return calls === 2 ? false : undefined; // false: a run that reported its own failure
    });
    assert.ok(result.started >= 2, JSON.stringify(result));
    assert.equal(result.failed, Math.min(result.started, 2));
    assert.ok(lines.some((l) => /the run due at .* failed: disk full; the schedule goes on/.test(l)), lines.join('\n'));
    assert.ok(lines.some((l) => /the run due at .* failed \(see above\); the schedule goes on/.test(l)), lines.join('\n'));
  });

  it('stopped while waiting: returns at once, no run started', async () => {
    // Once a year: the loop is certainly waiting when the stop comes.
    const { result, ms } = await runFor(100, '0 0 1 1 *', async () => assert.fail('no run'));
    assert.deepEqual(result, { started: 0, failed: 0, skipped: 0 });
    assert.ok(ms < 400, `returned ${ms} ms after start`);
  });

  it('stopped while a run goes: the run sees the signal, and the loop returns once it has wound down', async () => {
    let sawStop = false;
    let ended = 0;
    const stop = new AbortController();
    const done = runOnSchedule({
      schedule: parseSchedule('* * * * * *'),
      signal: stop.signal,
      log: () => {},
      run: async (signal) => {
        setTimeout(() => stop.abort(), 100);
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
        sawStop = true;
        await sleep(200); // committing a checkpoint
        ended = Date.now();
      },
    });
    const result = await done;
    assert.ok(sawStop);
    assert.ok(ended > 0 && Date.now() >= ended, 'the loop waited for the run');
    assert.deepEqual(result, { started: 1, failed: 0, skipped: 0 });
  });
});
