/**
 * Triton's statistics extension for one model version: cumulative counts and durations of requests (success, fail),
 * of their time queued, and of model runs (compute_infer), the rows inferred and the runs made, the time of the last
 * run, and the runs per batch size. The queue, run and row figures are read off the Prometheus histograms' cells
 * (their count and sum); what those do not split (success or failure, batch size, the last run's time) is kept here,
 * from the same per-version calls (metrics.ts forVersion). Read by GET /v2/models[/NAME[/versions/V]]/stats and gRPC
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
const NS_PER_S = 1e9;

/** A histogram cell's running count and sum (fast-metrics.ts HistogramCell). */
interface CountAndSum {
  readonly count: number;
  readonly sum: number;
}

/** The version's histogram cells: queue time and run time in seconds, rows per run. */
export interface StatsCells {
  readonly queueSeconds: CountAndSum;
  readonly runSeconds: CountAndSum;
  readonly rowsPerRun: CountAndSum;
}

export class VersionStats {
  private successCount = 0;
  private successNs = 0;
  private failCount = 0;
  private failNs = 0;
  private lastInference = 0;
  /** Per batch size: runs and their cumulative time in seconds (added as the run histogram adds it). */
  private readonly bySize = new Map<number, { count: number; seconds: number }>();

  requestDone(ms: number, failed: boolean): void {
    if (failed) {
      this.failCount++;
      this.failNs += ms * NS_PER_MS;
    } else {
      this.successCount++;
      this.successNs += ms * NS_PER_MS;
    }
  }

  constructor(private readonly cells: StatsCells) {}

  ran(rows: number, ms: number): void {
    this.lastInference = Date.now();
    const size = this.bySize.get(rows);
    if (size) {
      size.count++;
      size.seconds += ms / 1000;
    } else this.bySize.set(rows, { count: 1, seconds: ms / 1000 });
  }

  /** The statistics now, in Triton's shape (nanoseconds rounded to integers, batch sizes ascending). */
  report(name: string, version: string): ModelStatistics {
    const d = (count: number, ns: number): StatisticDuration => ({ count, ns: Math.round(ns) });
    const { queueSeconds, runSeconds, rowsPerRun } = this.cells;
    const runs = runSeconds.count;
    return {
      name,
      version,
      last_inference: this.lastInference,
      inference_count: rowsPerRun.sum,
      execution_count: runs,
      inference_stats: {
        success: d(this.successCount, this.successNs),
        fail: d(this.failCount, this.failNs),
        queue: d(queueSeconds.count, queueSeconds.sum * NS_PER_S),
        compute_input: d(runs, 0),
        compute_infer: d(runs, runSeconds.sum * NS_PER_S),
        compute_output: d(runs, 0),
        cache_hit: d(0, 0),
        cache_miss: d(0, 0),
      },
      batch_stats: [...this.bySize].sort((a, b) => a[0] - b[0]).map(([size, s]) => ({
        batch_size: size,
        compute_input: d(s.count, 0),
        compute_infer: d(s.count, s.seconds * NS_PER_S),
        compute_output: d(s.count, 0),
      })),
    };
  }
}
