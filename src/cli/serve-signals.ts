/**
 * What signals do to `ferry serve`: SIGTERM and SIGINT stop it gracefully (a second one exits at once), SIGHUP reads
 * the repository again (what daemons such as nginx do with it; before, it ended the server with no graceful stop).
 *
 * Started by npm (`npm start`, `npx ferry`), ferry runs under a shell npm spawned; npm passes a SIGTERM to that shell,
 * which dies without passing it on, and the server went on serving, orphaned. So under npm ferry also stops
 * gracefully when that parent goes. (Only under npm: a server started with nohup outlives its shell on purpose.)
 */
import cluster from 'node:cluster';
import { messageOf } from '../errors.js';
import { onPrimaryStop } from '../cluster.js';
import type { RunningServer } from '../server.js';

/** How often a server started by npm checks that its parent is still there. */
const PARENT_CHECK_MS = 500;

export function stopOnSignals(server: RunningServer): void {
  let signals = 0;
  const onSignal = (signal: string): void => {
    if (++signals > 1) {
      server.log.warn(`${signal} again: exiting now`);
      process.exit(1);
    }
    server.log.info(`${signal} received`);
    server.stop().then(
      () => process.exit(0),
      (e: unknown) => {
        server.log.error(`stop failed: ${messageOf(e)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGHUP', () => {
    server.log.info('SIGHUP received: reading the repository again');
    server.reread().then(
      (what) => server.log.info(`SIGHUP: ${what}`),
      (e: unknown) => server.log.error(`SIGHUP: reading the repository failed: ${messageOf(e)}`),
    );
  });
  if (cluster.isWorker) {
    // The primary stops its workers (a terminal's Ctrl-C reaches the whole process group: the primary handles it).
    process.on('SIGINT', () => {});
    onPrimaryStop(() => onSignal('stop from the primary'));
    return;
  }
  process.on('SIGINT', () => onSignal('SIGINT'));
  stopWithNpm();
}

/**
 * Under npm, a SIGTERM to this process once npm's shell, its parent, is gone (the stop npm meant to pass on). The
 * cluster primary's own SIGTERM handler then stops every server process.
 */
export function stopWithNpm(): void {
  if (process.env.npm_command === undefined) return;
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    process.stderr.write('ferry serve: the npm process that started it ended; stopping\n');
    process.kill(process.pid, 'SIGTERM');
  }, PARENT_CHECK_MS);
  timer.unref();
}
