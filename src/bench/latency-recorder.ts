/**
 * Every latency of a run, kept exactly: a Float64Array that doubles when full (8 bytes a request, so ten million
 * requests take 80 MB), sorted once at the end. Exact percentiles, and recording costs one store.
 */
export interface LatencySummary {
  readonly min: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

export class LatencyRecorder {
  private values: Float64Array;
  private n = 0;

  constructor(initialCapacity = 1 << 16) {
    this.values = new Float64Array(initialCapacity);
  }

  get count(): number {
    return this.n;
  }

  record(ms: number): void {
    if (this.n === this.values.length) {
      const bigger = new Float64Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[this.n++] = ms;
  }

  /** Percentiles by nearest rank over everything recorded; undefined when nothing was. */
  summary(): LatencySummary | undefined {
    if (this.n === 0) return undefined;
    const sorted = this.values.subarray(0, this.n).sort(); // typed arrays sort numerically
    let sum = 0;
    for (let i = 0; i < sorted.length; i++) sum += sorted[i] as number;
    return {
      min: sorted[0] as number,
      mean: sum / sorted.length,
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p95: percentile(sorted, 95),
      p99: percentile(sorted, 99),
      max: sorted[sorted.length - 1] as number,
    };
  }
}

/** Nearest-rank percentile of ascending values: the smallest value with at least p% of the values at or below it. */
export function percentile(sorted: Float64Array, p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] as number;
}
