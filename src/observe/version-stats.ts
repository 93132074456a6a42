/**
 * Triton's statistics extension for one model version: cumulative counts and durations of requests (success, fail),
 * of their time queued, and of model runs (compute_infer), the rows inferred and the runs made, the time of the last
 * run, and the runs per batch size. Updated from the same per-version calls the Prometheus metrics take
 * (metrics.ts forVersion), a few additions each; read by GET /v2/models[/NAME[/versions/V]]/stats and gRPC
 * ModelStatistics. ferry's runtimes take and give tensors as they are, with no separate copy in or out to time:
 * compute_input and compute_output count the runs with a duration of 0.
 */

/** A count and a cumulative duration, in nanoseconds (Triton's StatisticDuration). */
export interface StatisticDuration {
  count: number;
  ns: number;
}

export interface BatchStatistics {
  readonly batch_size: number;
  readonly compute_input: StatisticDuration;
  readonly compute_infer: StatisticDuration;
  readonly compute_output: StatisticDuration;
}

/** One version's statistics in Triton's JSON shape (its REST answer; gRPC's ModelStatistics has the same fields). */
export interface ModelStatistics {
  readonly name: string;
  readonly version: string;
  readonly last_inference: number;
  readonly inference_count: number;
  readonly execution_count: number;
  readonly inference_stats: {
    readonly success: StatisticDuration;
    readonly fail: StatisticDuration;
    readonly queue: StatisticDuration;
    readonly compute_input: StatisticDuration;
    readonly compute_infer: StatisticDuration;
    readonly compute_output: StatisticDuration;
    readonly cache_hit: StatisticDuration;
    readonly cache_miss: StatisticDuration;
  };
  readonly batch_stats: readonly BatchStatistics[];
}

const NS_PER_MS = 1e6;

export class VersionStats {
  private successCount = 0;
  private successNs = 0;
  private failCount = 0;
  private failNs = 0;
  private queueCount = 0;
  private queueNs = 0;
  private runs = 0;
  private runNs = 0;
  private rows = 0;
  private lastInference = 0;
  /** Per batch size: runs and their cumulative time. */
  private readonly bySize = new Map<number, StatisticDuration>();

  requestDone(ms: number, failed: boolean): void {
    if (failed) {
      this.failCount++;
      this.failNs += ms * NS_PER_MS;
    } else {
      this.successCount++;
      this.successNs += ms * NS_PER_MS;
    }
  }

  queued(ms: number): void {
    this.queueCount++;
    this.queueNs += ms * NS_PER_MS;
  }

  ran(rows: number, ms: number): void {
    this.runs++;
    this.runNs += ms * NS_PER_MS;
    this.rows += rows;
    this.lastInference = Date.now();
    const size = this.bySize.get(rows);
    if (size) {
      size.count++;
      size.ns += ms * NS_PER_MS;
    } else this.bySize.set(rows, { count: 1, ns: ms * NS_PER_MS });
  }

  /** The statistics now, in Triton's shape (nanoseconds rounded to integers, batch sizes ascending). */
  report(name: string, version: string): ModelStatistics {
    const d = (count: number, ns: number): StatisticDuration => ({ count, ns: Math.round(ns) });
    return {
      name,
      version,
      last_inference: this.lastInference,
      inference_count: this.rows,
      execution_count: this.runs,
      inference_stats: {
        success: d(this.successCount, this.successNs),
        fail: d(this.failCount, this.failNs),
        queue: d(this.queueCount, this.queueNs),
        compute_input: d(this.runs, 0),
        compute_infer: d(this.runs, this.runNs),
        compute_output: d(this.runs, 0),
        cache_hit: d(0, 0),
        cache_miss: d(0, 0),
      },
      batch_stats: [...this.bySize].sort((a, b) => a[0] - b[0]).map(([size, s]) => ({
        batch_size: size,
        compute_input: d(s.count, 0),
        compute_infer: d(s.count, s.ns),
        compute_output: d(s.count, 0),
      })),
    };
  }
}
