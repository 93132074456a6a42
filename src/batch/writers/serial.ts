import { internal, messageOf } from '../../errors.js';

/**
 * Runs a writer's operations one after another, whatever the caller awaits, and stops it for good after the first
 * failure: once a write to disk has failed halfway, the only safe way on is to resume from the last commit.
 */
export class Serial {
  private tail: Promise<unknown> = Promise.resolve();
  private failure: unknown = undefined;
  private failed = false;
  private closed = false;

  constructor(private readonly what: string) {}

  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(async () => {
      if (this.failed) throw internal(`${this.what} failed earlier and cannot go on (${messageOf(this.failure)}); resume from the last commit`);
      if (this.closed) throw internal(`${this.what} is closed`);
      try {
        return await fn();
      } catch (e) {
        this.failed = true;
        this.failure = e;
        throw e;
      }
    });
    this.tail = next.catch(() => undefined);
    return next;
  }

  /** Resolves once every queued operation has ended, whether it succeeded or failed; never rejects. */
  idle(): Promise<void> {
    return this.tail.then(() => undefined);
  }

  /** Like run, and marks the writer closed once fn succeeds. */
  close(fn: () => Promise<void>): Promise<void> {
    return this.run(async () => {
      await fn();
      this.closed = true;
    });
  }
}
