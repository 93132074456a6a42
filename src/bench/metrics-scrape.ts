/**
 * Reads the server's own histograms from its Prometheus endpoint before and after a level, so the report can say how
 * many rows each model run really held and where the server's time went (request, queue, run: what Triton's
 * perf_analyzer shows from Triton's statistics). Servers without /metrics, or without these histograms (Triton,
 * KServe runtimes), give undefined and the report says "n/a": the bench must work against any V2 server.
 */
import http from 'node:http';
import https from 'node:https';
import { findHistogram, histogramDelta, histogramMean, histogramQuantile, parsePrometheusText, type Histogram } from './prometheus.js';

/** The histograms ferry exports, labelled model and version: rows per model run, and times in seconds. */
export const BATCH_SIZE_METRIC = 'ferry_batch_size';
const TIME_METRICS = {
  request: 'ferry_request_duration_seconds',
  queue: 'ferry_queue_duration_seconds',
  run: 'ferry_inference_duration_seconds',
} as const;

export interface BatchSizeSummary {
  /** Model runs during the level. */
  readonly runs: number;
  readonly mean: number;
  /** Approximate: interpolated within the histogram bucket the median falls in. */
  readonly p50: number;
}

/** Mean times inside the server over a level, in milliseconds; each null when the server does not export it. */
export interface ServerTimes {
  /** A request from its check to its answer's data: checking, waiting in the queue, the run, splitting the batch. */
  readonly requestMs: number | null;
  /** A request's wait in the batcher's queue. */
  readonly queueMs: number | null;
  /** One model run (a whole batch). */
  readonly runMs: number | null;
}

/** One scrape of the model's histograms (each undefined when the server does not export it). */
export interface ServerScrape {
  readonly batchSize?: Histogram;
  readonly request?: Histogram;
  readonly queue?: Histogram;
  readonly run?: Histogram;
}

export class ServerMetricsScraper {
  constructor(
    private readonly metricsUrl: string | undefined,
    private readonly model: string,
    private readonly version: string | undefined,
  ) {}

  /** The histograms now; undefined when there is no metrics endpoint. */
  async scrape(): Promise<ServerScrape | undefined> {
    if (!this.metricsUrl) return undefined;
    const text = await getText(this.metricsUrl, 5_000);
    if (text === undefined) return undefined;
    const match: Record<string, string> = { model: this.model };
    if (this.version !== undefined) match.version = this.version;
    const samples = parsePrometheusText(text);
    const find = (name: string) => findHistogram(samples, name, match);
    return { batchSize: find(BATCH_SIZE_METRIC), request: find(TIME_METRICS.request), queue: find(TIME_METRICS.queue), run: find(TIME_METRICS.run) };
  }
}

/** Mean server times over a level, from the scrapes before and after it; undefined when none is known. */
export function summarizeServerTimes(before: ServerScrape | undefined, after: ServerScrape | undefined): ServerTimes | undefined {
  if (!after) return undefined;
  const meanMs = (key: 'request' | 'queue' | 'run'): number | null => {
    const now = after[key];
    if (!now) return null;
    const mean = histogramMean(histogramDelta(before?.[key], now));
    return mean === undefined ? null : mean * 1000;
  };
  const times = { requestMs: meanMs('request'), queueMs: meanMs('queue'), runMs: meanMs('run') };
  return times.requestMs === null && times.queueMs === null && times.runMs === null ? undefined : times;
}

/** Batch sizes over a level, from the scrapes before and after it; undefined when unknown or nothing ran. */
export function summarizeBatchSizes(before: Histogram | undefined, after: Histogram | undefined): BatchSizeSummary | undefined {
  if (!after) return undefined;
  const delta = histogramDelta(before, after);
  const mean = histogramMean(delta);
  const p50 = histogramQuantile(delta, 0.5, { integers: true });
  if (mean === undefined || p50 === undefined) return undefined;
  return { runs: delta.count, mean, p50 };
}

/** GET a URL's body as text; undefined on any failure or a status other than 200 (metrics are optional). */
function getText(url: string, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return resolve(undefined);
    }
    const get = target.protocol === 'https:' ? https.get : http.get;
    const req = get(target, { agent: false, timeout: timeoutMs }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return resolve(undefined);
      }
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}
