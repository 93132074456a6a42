/**
 * `ferry bench` as a function: read the model's metadata, make (or read) one request, encode it once, check the
 * first answer, then run each load level and report throughput, latency percentiles, errors, and the server's batch
 * sizes and times. Works against any V2 server; only the batch sizes and server times need ferry.
 */
import { readInputFile } from './input-file.js';
import { runLoad, type Load } from './load-loop.js';
import { ServerMetricsScraper, summarizeBatchSizes, summarizeServerTimes } from './metrics-scrape.js';
import { resolveOptions, type BenchOptions, type ResolvedOptions } from './options.js';
import { ProgressLine } from './progress.js';
import { randomRequest } from './random-inputs.js';
import type { BenchReport, LevelReport } from './report.js';
import { FirstRequestFailed, openTarget } from './targets.js';

export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const o = resolveOptions(options);
  const progress = new ProgressLine(o.progress);
  const warnings: string[] = [];
  const target = openTarget(o);
  try {
    const metadata = await target.metadata();
    const prepared = o.inputFile !== undefined ? readInputFile(o.inputFile) : randomRequest(metadata, { batch: o.batch, shapes: o.shapes });
    const requestBytes = target.prepare(prepared);
    try {
      await target.probe();
    } catch (e) {
      if (!(e instanceof FirstRequestFailed)) throw e;
      // Reported, not fatal: measuring how a server handles failing requests is a legitimate run.
      const message = `the first request failed (${e.message}); every request sends the same body, so expect errors`;
      warnings.push(message);
      progress.note(`ferry bench: warning: ${message}`);
    }

    const scraper = new ServerMetricsScraper(o.metricsUrl, o.model, o.modelVersion);
    const levels: LevelReport[] = [];
    for (const load of loads(o)) {
      const sender = target.sender(load);
      try {
        await sender.connect();
        // Scraped at the edges of the measured window, so warm-up and drain do not count in the batch sizes and times.
        const before = atTime(o.warmupMs, () => scraper.scrape());
        const after = atTime(o.warmupMs + o.durationMs, () => scraper.scrape());
        const m = await runLoad(sender, load, { warmupMs: o.warmupMs, durationMs: o.durationMs }, progress);
        const [was, now] = [await before, await after];
        const batchSize = summarizeBatchSizes(was?.batchSize, now?.batchSize) ?? null;
        const serverTimes = summarizeServerTimes(was, now) ?? null;
        const ok = m.latencies.count;
        const seconds = m.windowMs / 1000;
        levels.push({
          mode: load.mode,
          concurrency: load.mode === 'concurrency' ? load.concurrency : load.maxInFlight,
          ...(load.mode === 'rate' ? { rate: load.rate } : {}),
          durationS: seconds,
          requests: ok + m.errors.total,
          errors: m.errors.total,
          errorsByKind: m.errors.list(),
          throughput: { requestsPerS: ok / seconds, rowsPerS: (ok * prepared.rows) / seconds },
          latencyMs: m.latencies.summary() ?? null,
          batchSize,
          serverTimes,
          ...(load.mode === 'rate' ? { unsent: m.unsent } : {}),
        });
      } finally {
        sender.close();
      }
    }
    return {
      model: o.model,
      modelVersion: o.modelVersion ?? null,
      protocol: o.protocol,
      encoding: o.encoding,
      target: target.address,
      metricsUrl: o.metricsUrl ?? null,
      inputs: prepared.request.inputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape })),
      rowsPerRequest: prepared.rows,
      requestBytes,
      warmupS: o.warmupMs / 1000,
      durationS: o.durationMs / 1000,
      levels,
      warnings,
    };
  } finally {
    progress.clear();
    target.close();
  }
}

function loads(o: ResolvedOptions): Load[] {
  if (o.mode === 'rate') return o.rate.map((rate) => ({ mode: 'rate', rate, maxInFlight: o.concurrency[0]! }));
  return o.concurrency.map((concurrency) => ({ mode: 'concurrency', concurrency }));
}

function atTime<T>(ms: number, fn: () => Promise<T>): Promise<T> {
  return new Promise((resolve, reject) => setTimeout(() => fn().then(resolve, reject), ms));
}
