/**
 * One level of load. Closed loop (`concurrency`): that many requests are always in flight, each sent as soon as
 * the previous one on its slot is answered. Open loop (`rate`): requests are sent on a fixed schedule whatever the
 * server does; at most `maxInFlight` are in flight, and a request that had to wait for that limit has its latency
 * counted from its *scheduled* time, so when the server falls behind the wait shows in the latencies (no
 * coordinated omission).
 *
 * Timing: warm-up, then the measured window. What is recorded is every request that *completes* inside the
 * window, which makes completions / window length the throughput with no edge bias. After the window nothing new
 * is sent, and the requests still in flight are awaited (not recorded) so the next level starts on a quiet server.
 */
import { performance } from 'node:perf_hooks';
import { LatencyRecorder } from './latency-recorder.js';
import type { ProgressLine } from './progress.js';
import { ErrorTally, type Failure, type RequestSender } from './sender.js';

export type Load =
  | { readonly mode: 'concurrency'; readonly concurrency: number }
  | { readonly mode: 'rate'; readonly rate: number; readonly maxInFlight: number };

export interface LoopTiming {
  readonly warmupMs: number;
  readonly durationMs: number;
}

export interface LevelMeasurement {
  /** Latencies (ms) of the successful requests completed in the window. */
  readonly latencies: LatencyRecorder;
  readonly errors: ErrorTally;
  /** Length of the measured window in ms. */
  readonly windowMs: number;
  /** Open loop: requests that were due when the window ended but never sent, held back by the in-flight limit. */
  readonly unsent: number;
}

export function describeLoad(load: Load): string {
  return load.mode === 'concurrency' ? `concurrency ${load.concurrency}` : `rate ${load.rate}/s`;
}

export function runLoad(sender: RequestSender, load: Load, timing: LoopTiming, progress?: ProgressLine): Promise<LevelMeasurement> {
  return new Promise((resolve) => {
    const latencies = new LatencyRecorder();
    const errors = new ErrorTally();
    const start = performance.now();
    const windowStart = start + timing.warmupMs;
    const windowEnd = windowStart + timing.durationMs;
    let inFlight = 0;
    let completed = 0;
    let failed = 0;
    let ended = false;
    let unsentAtEnd = (): number => 0;

    const complete = (sentAt: number, failure: Failure | undefined): number => {
      const now = performance.now();
      inFlight--;
      completed++;
      if (failure) failed++;
      if (now >= windowStart && now <= windowEnd) {
        if (failure) errors.add(failure);
        else latencies.record(now - sentAt);
      }
      return now;
    };

    let lastCompleted = 0;
    let lastTick = start;
    const ticker = setInterval(() => {
      const now = performance.now();
      progress?.update({
        level: describeLoad(load),
        elapsedS: (now - start) / 1000,
        warmupS: timing.warmupMs / 1000,
        durationS: timing.durationMs / 1000,
        completed,
        errors: failed,
        currentRate: ((completed - lastCompleted) * 1000) / (now - lastTick),
      });
      lastCompleted = completed;
      lastTick = now;
    }, 1000);

    let endTimer: NodeJS.Timeout | undefined;
    const finishIfDrained = (): void => {
      if (ended || inFlight > 0) return;
      const early = windowEnd - performance.now();
      if (early > 0) {
        // Timers fire up to a millisecond before performance.now() says they should: look again at the end, or an
        // open-loop run with nothing in flight at that moment would never finish.
        clearTimeout(endTimer);
        endTimer = setTimeout(finishIfDrained, Math.ceil(early) + 1);
        return;
      }
      ended = true;
      clearInterval(ticker);
      clearTimeout(endTimer);
      progress?.clear();
      resolve({ latencies, errors, windowMs: timing.durationMs, unsent: unsentAtEnd() });
    };

    if (load.mode === 'concurrency') {
      const issue = (): void => {
        const sentAt = performance.now();
        inFlight++;
        sender.send((failure) => {
          if (complete(sentAt, failure) < windowEnd) issue();
          else finishIfDrained();
        });
      };
      for (let i = 0; i < load.concurrency; i++) issue();
      return;
    }

    // Open loop: request k is due at start + k * period. `sent` counts requests sent; those due but not sent yet
    // (the in-flight limit was reached) go out as earlier ones complete.
    const period = 1000 / load.rate;
    const dueBy = (now: number): number => Math.floor((now - start) / period) + 1;
    let sent = 0;
    let waiting = 0; // due but held back by the in-flight limit, as of the last look
    let heldBefore = 0; // requests with a lower index were held back by the in-flight limit
    const sendDue = (): void => {
      const now = performance.now();
      if (now >= windowEnd) return;
      const due = dueBy(now);
      while (sent < due && inFlight < load.maxInFlight) {
        const k = sent++;
        // Held back by the limit: the wait is the server's doing, so latency counts from the scheduled time and
        // the queueing shows (no coordinated omission). Otherwise it counts from the real send: a timer fires up
        // to a millisecond late, and that lateness is the generator's, not the server's.
        const from = k < heldBefore ? start + k * period : performance.now();
        inFlight++;
        sender.send((failure) => {
          complete(from, failure);
          sendDue();
          finishIfDrained();
        });
      }
      waiting = due - sent;
      if (waiting > 0) heldBefore = due;
    };
    const schedule = (): void => {
      sendDue();
      const now = performance.now();
      if (now < windowEnd) setTimeout(schedule, Math.max(0, start + dueBy(now) * period - now));
    };
    // Requests that were due but still held back by the in-flight limit when sending stopped.
    unsentAtEnd = () => waiting;
    // Wakes the loop at the end of the window, in case nothing is in flight then to do it.
    endTimer = setTimeout(finishIfDrained, Math.max(0, windowEnd - performance.now()) + 1);
    schedule();
  });
}
