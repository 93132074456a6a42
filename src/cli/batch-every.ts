/**
 * `ferry batch --every CRON [--tz ZONE]`: the one-run action of batch-command.ts, started at each time the
 * schedule names (src/batch/schedule.ts), each run a fresh job with the same flags. The process stays up until
 * SIGTERM or SIGINT: while waiting it exits 0 at once; while a run goes, the job finishes its current batch,
 * commits its checkpoint and the process exits 0 (the next start resumes that run). A second signal exits at
 * once; the last checkpoint still holds (exactly once). A failed run is reported on stderr and the schedule goes on.
 */
import { messageOf } from '../errors.js';

/** One `ferry batch` run: reports its own failure on stderr and returns false; `signal` stops it early. */
export type BatchRun = (model: string, opts: Record<string, unknown>, signal?: AbortSignal) => Promise<boolean>;

/** The action commander calls: one run, or runs on the schedule `--every` names. */
export function withSchedule(run: BatchRun): (model: string, opts: Record<string, unknown>) => Promise<void> {
  return async (model, opts) => {
    const every = opts.every as string | undefined;
    const tz = opts.tz as string | undefined;
    if (every === undefined) {
      if (tz !== undefined) {
        process.stderr.write('ferry batch: --tz only goes with --every\n');
        process.exitCode = 2;
        return;
      }
      await run(model, opts);
      return;
    }
    const { parseSchedule, runOnSchedule } = await import('../batch/schedule.js');
    const log = (line: string): void => void process.stderr.write(`ferry batch: ${line}\n`);
    let schedule;
    try {
      schedule = parseSchedule(every, tz);
    } catch (e) {
      log(messageOf(e));
      process.exitCode = 2;
      return;
    }
    const stop = new AbortController();
    let running = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stop.signal.aborted) {
        log(`${signal} again: exiting now; the last checkpoint holds, and the next run resumes from it`);
        process.exit(signal === 'SIGINT' ? 130 : 143);
      }
      log(running ? `${signal}: finishing the current batch, committing the checkpoint, then exiting` : `${signal}: exiting`);
      stop.abort();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    try {
      await runOnSchedule({
        schedule,
        signal: stop.signal,
        log,
        run: async (signal) => {
          running = true;
          try {
            return await run(model, opts, signal);
          } finally {
            running = false;
          }
        },
      });
    } finally {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    }
    // Stopped by a signal (or the schedule ran out): a normal end, whatever the runs' fortunes.
    process.exitCode = 0;
    // Nothing should be left holding the event loop; if something is, it must not keep a stopped scheduler alive.
    setTimeout(() => process.exit(0), 2000).unref();
  };
}
