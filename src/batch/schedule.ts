/**
 * Periodic runs (`ferry batch --every CRON`): a cron expression says when, and one run at a time goes.
 *
 * The expression is read by croner (dependency-free, Node >= 18, maintained) rather than by a parser of our own:
 * 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first; `*`, lists, ranges, steps, names
 * (JAN-DEC, SUN-SAT), and croner's extras (L, W, #, @daily...). Day-of-month and day-of-week combine with OR, as
 * in Vixie cron. Times are in the process's local time zone (the TZ environment variable; UTC in most containers)
 * unless a zone is named.
 *
 * The loop: wait for the next time; if the previous run is still going, that time is skipped (with a log line),
 * otherwise a run starts and the next time is awaited alongside it. A failed run is logged and the schedule goes
 * on. Stopping (the signal) while waiting returns at once; while a run goes, the run sees the same signal (the
 * batch job then commits its checkpoint and stops) and is awaited.
 */
import { Cron } from 'croner';
import { invalid, messageOf } from '../errors.js';

export interface Schedule {
  readonly expression: string;
  /** The IANA zone the times are in; undefined: the process's local time. */
  readonly timezone: string | undefined;
  /** The first time named by the expression strictly after `after` (whole seconds); undefined: none is left. */
  next(after: Date): Date | undefined;
}

export function parseSchedule(expression: string, timezone?: string): Schedule {
  if (timezone !== undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    } catch {
      throw invalid(`unknown time zone '${timezone}': use an IANA name such as UTC or Europe/Paris`);
    }
  }
  let cron: Cron;
  try {
    cron = new Cron(expression, { mode: '5-or-6-parts', ...(timezone !== undefined ? { timezone } : {}) });
  } catch (e) {
    throw invalid(`bad schedule '${expression}': ${messageOf(e).replace(/^CronPattern: /, '')} (5 fields: minute hour day-of-month month day-of-week, or 6 with seconds first)`);
  }
  if (cron.nextRun() === null) throw invalid(`schedule '${expression}' names no time from now on`);
  return {
    expression,
    timezone,
    next: (after) => cron.nextRun(after) ?? undefined,
  };
}

export interface ScheduledRunsOptions {
  readonly schedule: Schedule;
  /**
   * One run; it is handed the stop signal (a run should wind down soon after it fires). A rejection is a failed
   * run, and so is false (a run that reported its failure itself).
   */
  readonly run: (signal: AbortSignal, due: Date) => Promise<boolean | void>;
  /** Stops the schedule: see the module comment. */
  readonly signal: AbortSignal;
  /** Where the schedule's own lines go (next time, skipped and failed runs). */
  readonly log: (line: string) => void;
}

export interface ScheduledRunsResult {
  /** Runs started, those that failed, and times skipped because a run was still going. */
  readonly started: number;
  readonly failed: number;
  readonly skipped: number;
}

/** Longest single timer: a long wait is cut up so that a change of the wall clock is noticed within this. */
const MAX_SLEEP_MS = 60_000;

/** Resolves after ms, or as soon as the signal fires. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

const iso = (d: Date): string => d.toISOString();

export async function runOnSchedule(o: ScheduledRunsOptions): Promise<ScheduledRunsResult> {
  const { schedule, signal, log } = o;
  const zone = schedule.timezone ?? `local time, ${Intl.DateTimeFormat().resolvedOptions().timeZone}`;
  let started = 0;
  let failed = 0;
  let skipped = 0;
  let current: { due: Date; done: Promise<void> } | undefined;
  /** The time the loop waits for. */
  let waitingFor: Date | undefined;
  const announce = (due: Date): void => log(`next run at ${iso(due)} (schedule '${schedule.expression}', ${zone})`);

  const start = (due: Date): void => {
    started++;
    const done = (async () => {
      try {
        if ((await o.run(signal, due)) === false) {
          failed++;
          log(`the run due at ${iso(due)} failed (see above); the schedule goes on`);
        }
      } catch (e) {
        failed++;
        log(`the run due at ${iso(due)} failed: ${messageOf(e)}; the schedule goes on`);
      } finally {
        current = undefined;
        if (!signal.aborted && waitingFor !== undefined) announce(waitingFor);
      }
    })();
    current = { due, done };
  };

  let after = new Date();
  while (!signal.aborted) {
    const due = schedule.next(after);
    waitingFor = due;
    if (due === undefined) {
      log(`schedule '${schedule.expression}' names no further time; stopping after the current run`);
      break;
    }
    if (current === undefined) announce(due);
    // Timers may fire a little early: sleep again until the wall clock has reached the time.
    for (let left = due.getTime() - Date.now(); left > 0 && !signal.aborted; left = due.getTime() - Date.now()) {
      await sleep(Math.min(left, MAX_SLEEP_MS), signal);
    }
    if (signal.aborted) break;
    if (current !== undefined) {
      skipped++;
      log(`skipped the run due at ${iso(due)}: the run due at ${iso(current.due)} is still going`);
    } else {
      start(due);
    }
    // From the later of the due time and now: times that passed while the process could not run at all (a machine
    // asleep, a blocked event loop) are not caught up on.
    after = new Date(Math.max(due.getTime(), Date.now()));
  }
  await current?.done;
  return { started, failed, skipped };
}
