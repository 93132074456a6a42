/**
 * The once-a-second progress line on stderr. On a terminal the same line is rewritten in place (\r); otherwise
 * (a file, CI) each update is its own line, so logs stay readable.
 */
export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export interface ProgressSnapshot {
  /** "concurrency 8" or "rate 500/s". */
  readonly level: string;
  readonly elapsedS: number;
  readonly warmupS: number;
  readonly durationS: number;
  /** Requests completed since the level started (warm-up included). */
  readonly completed: number;
  readonly errors: number;
  /** Completions per second over the last interval. */
  readonly currentRate: number;
}

export class ProgressLine {
  private shown = false;

  constructor(private readonly stream: ProgressStream | undefined) {}

  update(s: ProgressSnapshot): void {
    if (!this.stream) return;
    const phase = s.elapsedS < s.warmupS ? `warm-up ${s.elapsedS.toFixed(1)}/${s.warmupS} s` : `${(s.elapsedS - s.warmupS).toFixed(1)}/${s.durationS} s`;
    const line = `${s.level} | ${phase} | ${s.completed} requests | ${Math.round(s.currentRate)} req/s | ${s.errors} errors`;
    if (this.stream.isTTY) this.stream.write(`\r${line}\x1b[K`);
    else this.stream.write(`${line}\n`);
    this.shown = true;
  }

  /** A plain message (a warning), on its own line even while the progress line is showing. */
  note(message: string): void {
    if (!this.stream) return;
    this.clear();
    this.stream.write(`${message}\n`);
  }

  /** Removes the in-place line before the next level or the report. */
  clear(): void {
    if (this.stream?.isTTY && this.shown) this.stream.write('\r\x1b[K');
    this.shown = false;
  }
}
