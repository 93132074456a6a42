/**
 * Reads the server's batch-size histogram from its Prometheus endpoint before and after a level, so the report can
 * say how many rows each model run really held. Servers without /metrics, or without this histogram (Triton,
 * KServe runtimes), give undefined and the report says "n/a": the bench must work against any V2 server.
 */
import http from 'node:http';
import https from 'node:https';
import { findHistogram, histogramDelta, histogramMean, histogramQuantile, parsePrometheusText, type Histogram } from './prometheus.js';

/** The histogram ferry exports: rows per model run, labelled model and version. */
export const BATCH_SIZE_METRIC = 'ferry_batch_size';

export interface BatchSizeSummary {
  /** Model runs during the level. */
  readonly runs: number;
  readonly mean: number;
  /** Approximate: interpolated within the histogram bucket the median falls in. */
  readonly p50: number;
}

export class BatchSizeScraper {
  constructor(
    private readonly metricsUrl: string | undefined,
    private readonly model: string,
    private readonly version: string | undefined,
  ) {}

  /** The histogram now; undefined when there is no metrics endpoint or no such series. */
  async scrape(): Promise<Histogram | undefined> {
    if (!this.metricsUrl) return undefined;
    const text = await getText(this.metricsUrl, 5_000);
    if (text === undefined) return undefined;
    const match: Record<string, string> = { model: this.model };
    if (this.version !== undefined) match.version = this.version;
    return findHistogram(parsePrometheusText(text), BATCH_SIZE_METRIC, match);
  }
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
