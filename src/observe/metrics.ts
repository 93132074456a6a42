/**
 * Prometheus metrics (prom-client's Registry and its process metrics), one registry per server so several servers
 * in one process never mix. The per-request counters and histograms are fast-metrics.ts's: their cells are bound
 * once per model version at load, so a request costs a few additions, no label lookup or hashing.
 */
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { ErrorCode } from '../errors.js';
import type { BatchObserver } from '../batching/dynamic-batcher.js';
import { FastCounter, FastHistogram, type CounterCell } from './fast-metrics.js';
import { VersionStats } from './version-stats.js';

/** Seconds, from sub-millisecond tabular runs to multi-second batches. */
const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

export type Outcome = 'success' | 'client_error' | 'not_found' | 'rejected' | 'timeout' | 'unavailable' | 'error';

const OUTCOME: Readonly<Record<ErrorCode, Outcome>> = {
  INVALID_ARGUMENT: 'client_error',
  PAYLOAD_TOO_LARGE: 'client_error',
  UNSUPPORTED_MEDIA_TYPE: 'client_error',
  NOT_ACCEPTABLE: 'client_error',
  METHOD_NOT_ALLOWED: 'client_error',
  FAILED_PRECONDITION: 'client_error',
  CONFLICT: 'client_error',
  UNAUTHENTICATED: 'client_error',
  PERMISSION_DENIED: 'client_error',
  UNSUPPORTED: 'client_error',
  NOT_FOUND: 'not_found',
  RESOURCE_EXHAUSTED: 'rejected',
  DEADLINE_EXCEEDED: 'timeout',
  UNAVAILABLE: 'unavailable',
  INTERNAL: 'error',
};

/** A request's outcome label: success without a failure code. */
function outcomeOf(failure: ErrorCode | undefined): Outcome {
  return failure ? OUTCOME[failure] : 'success';
}

/** A traffic split's counters, bound once per split: a request costs an addition. */
export interface TrafficMetrics {
  /** The cell counting requests a variant answered. */
  variant(name: string): CounterCell;
  /** Sticky splits: requests without the key (routed at random instead). */
  readonly unkeyed: CounterCell;
  /** Requests whose chosen variant could not answer, and went to another. */
  fallback(name: string): CounterCell;
}

/** The per-version handles the data plane and the batcher report to. */
export interface VersionMetrics extends BatchObserver {
  /** A request answered: `failure` is the neutral code it failed with, undefined for a success. */
  requestDone(ms: number, failure?: ErrorCode): void;
  /** Triton's statistics extension, kept by the same calls. */
  readonly stats: VersionStats;
}

export class Metrics {
  readonly registry = new Registry();
  private readonly requests: FastCounter;
  private readonly requestSeconds: FastHistogram;
  private readonly queueSeconds: FastHistogram;
  private readonly inferenceSeconds: FastHistogram;
  private readonly batchSize: FastHistogram;
  private readonly trafficRequests: FastCounter;
  private readonly trafficUnkeyed: FastCounter;
  private readonly trafficFallbacks: FastCounter;
  private defaultMetrics = false;

  constructor() {
    const registers = [this.registry];
    this.requests = new FastCounter({ name: 'ferry_requests_total', help: 'Inference requests by model, version and outcome', registers });
    this.requestSeconds = new FastHistogram({ name: 'ferry_request_duration_seconds', help: 'Inference request time inside the server: check, queue and run', buckets: LATENCY_BUCKETS, registers });
    this.queueSeconds = new FastHistogram({ name: 'ferry_queue_duration_seconds', help: 'Time a request waited in the batcher queue', buckets: LATENCY_BUCKETS, registers });
    this.inferenceSeconds = new FastHistogram({ name: 'ferry_inference_duration_seconds', help: 'Time of one model run (one batch)', buckets: LATENCY_BUCKETS, registers });
    this.batchSize = new FastHistogram({ name: 'ferry_batch_size', help: 'Rows per model run', buckets: BATCH_BUCKETS, registers });
    this.trafficRequests = new FastCounter({ name: 'ferry_traffic_requests_total', help: 'Requests without a version, by the traffic split variant that answered', registers });
    this.trafficUnkeyed = new FastCounter({ name: 'ferry_traffic_unkeyed_total', help: 'Requests to a sticky traffic split without its key (routed at random)', registers });
    this.trafficFallbacks = new FastCounter({ name: 'ferry_traffic_fallbacks_total', help: 'Requests whose chosen variant could not answer, by that variant', registers });
  }

  forTraffic(model: string, variants: readonly string[]): TrafficMetrics {
    const cells = new Map(variants.map((name) => [name, this.trafficRequests.labels({ model, variant: name })]));
    const fallbacks = new Map<string, CounterCell>();
    const requests = this.trafficRequests;
    const fallbackFamily = this.trafficFallbacks;
    return {
      variant: (name) => cells.get(name) ?? requests.labels({ model, variant: name }),
      unkeyed: this.trafficUnkeyed.labels({ model }),
      fallback: (name) => {
        let cell = fallbacks.get(name);
        if (!cell) fallbacks.set(name, (cell = fallbackFamily.labels({ model, variant: name })));
        return cell;
      },
    };
  }

  /** Drops a model's traffic series (its split removed, or the model unloaded). */
  forgetTraffic(model: string): void {
    for (const family of [this.trafficRequests, this.trafficUnkeyed, this.trafficFallbacks]) family.forget({ model });
  }

  forVersion(model: string, version: number): VersionMetrics {
    const labels = { model, version: String(version) };
    const requestSeconds = this.requestSeconds.labels(labels);
    const queueSeconds = this.queueSeconds.labels(labels);
    const inferenceSeconds = this.inferenceSeconds.labels(labels);
    const batchSize = this.batchSize.labels(labels);
    const byOutcome = new Map<Outcome, CounterCell>();
    const requests = this.requests;
    // Success is counted from the start, so a dashboard shows 0 rather than nothing for a model never called.
    byOutcome.set('success', requests.labels({ ...labels, outcome: 'success' }));
    const stats = new VersionStats({ queueSeconds, runSeconds: inferenceSeconds, rowsPerRun: batchSize });
    return {
      stats,
      requestDone(ms, failure) {
        const outcome = outcomeOf(failure);
        let counter = byOutcome.get(outcome);
        if (!counter) byOutcome.set(outcome, (counter = requests.labels({ ...labels, outcome })));
        counter.value++;
        requestSeconds.observe(ms / 1000);
        stats.requestDone(ms, failure !== undefined);
      },
      queued(ms) {
        queueSeconds.observe(ms / 1000);
      },
      ran(rows, ms) {
        batchSize.observe(rows);
        inferenceSeconds.observe(ms / 1000);
        stats.ran(rows, ms);
      },
    };
  }

  /**
   * Drops a version's series once it is unloaded and not loaded again: a server that takes a new version every day
   * would otherwise keep, and print, every version it ever served.
   */
  forgetVersion(model: string, version: number): void {
    const labels = { model, version: String(version) };
    for (const family of [this.requests, this.requestSeconds, this.queueSeconds, this.inferenceSeconds, this.batchSize]) family.forget(labels);
  }

  /**
   * Adds prom-client's process and Node.js metrics (CPU, memory, event loop lag, GC). The server calls it once its
   * models are loaded: setting them up is about 2.4 ms, which readiness need not wait for; a scrape before then
   * starts them too.
   */
  startDefaultMetrics(): void {
    if (this.defaultMetrics) return;
    this.defaultMetrics = true;
    collectDefaultMetrics({ register: this.registry });
  }

  async text(): Promise<{ contentType: string; body: string }> {
    this.startDefaultMetrics();
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
