/**
 * The bench's result: one object (what `runBench` returns and `--json` prints) and its table for people.
 * Latencies are in milliseconds; throughput counts successful requests only, errors are listed apart.
 */
import type { BenchEncoding, BenchProtocol } from './options.js';
import type { LatencySummary } from './latency-recorder.js';
import type { BatchSizeSummary, ServerTimes } from './metrics-scrape.js';

export interface LevelReport {
  readonly mode: 'concurrency' | 'rate';
  /** Closed loop: requests kept in flight. Open loop: the most allowed in flight. */
  readonly concurrency: number;
  /** Open loop only: the target request rate (per second). */
  readonly rate?: number;
  readonly durationS: number;
  /** Requests completed in the measured window, failed ones included. */
  readonly requests: number;
  readonly errors: number;
  readonly errorsByKind: readonly { readonly kind: string; readonly count: number; readonly firstMessage: string }[];
  readonly throughput: { readonly requestsPerS: number; readonly rowsPerS: number };
  /** Of the successful requests; null when none succeeded. */
  readonly latencyMs: LatencySummary | null;
  /** Rows per model run from the server's ferry_batch_size histogram; null when the server does not export it. */
  readonly batchSize: BatchSizeSummary | null;
  /** Mean times inside the server from its ferry_*_duration_seconds histograms; null when it does not export them. */
  readonly serverTimes: ServerTimes | null;
  /** Open loop only: requests that were due but never went out, held back by the in-flight limit. */
  readonly unsent?: number;
}

export interface BenchReport {
  readonly model: string;
  readonly modelVersion: string | null;
  readonly protocol: BenchProtocol;
  readonly encoding: BenchEncoding;
  /** Where inference requests went: the HTTP base URL or the gRPC host:port. */
  readonly target: string;
  readonly metricsUrl: string | null;
  readonly inputs: readonly { readonly name: string; readonly datatype: string; readonly shape: readonly number[] }[];
  readonly rowsPerRequest: number;
  readonly requestBytes: number;
  readonly warmupS: number;
  readonly durationS: number;
  readonly levels: readonly LevelReport[];
  readonly warnings: readonly string[];
}

const ENCODING_NAME: Readonly<Record<BenchEncoding, string>> = {
  json: 'JSON',
  binary: 'binary tensors',
  raw: 'raw_input_contents',
  typed: 'typed contents',
};

export function formatReport(r: BenchReport): string {
  const inputs = r.inputs.map((i) => `${i.name} ${i.datatype} [${i.shape.join(',')}]`).join(', ');
  const lines = [
    `model ${r.model}${r.modelVersion ? ` version ${r.modelVersion}` : ''} over ${r.protocol === 'http' ? 'HTTP' : 'gRPC'} (${ENCODING_NAME[r.encoding]}) at ${r.target}`,
    `${r.rowsPerRequest} row${r.rowsPerRequest === 1 ? '' : 's'} per request (${inputs}; ${formatBytes(r.requestBytes)}); ${r.durationS} s per level after ${r.warmupS} s warm-up`,
    '',
  ];
  const rate = r.levels.some((l) => l.mode === 'rate');
  const header = [rate ? 'rate/s' : 'concurrency', 'requests', 'req/s', 'rows/s', 'p50 ms', 'p90 ms', 'p95 ms', 'p99 ms', 'max ms', 'errors', 'batch mean', 'batch p50'];
  const rows = r.levels.map((l) => {
    const lat = l.latencyMs;
    const ms = (x: number | undefined) => (x === undefined ? '-' : formatMs(x));
    return [
      String(rate ? l.rate : l.concurrency),
      String(l.requests),
      l.throughput.requestsPerS.toFixed(1),
      l.throughput.rowsPerS.toFixed(1),
      ms(lat?.p50), ms(lat?.p90), ms(lat?.p95), ms(lat?.p99), ms(lat?.max),
      String(l.errors),
      l.batchSize ? l.batchSize.mean.toFixed(1) : 'n/a',
      l.batchSize ? l.batchSize.p50.toFixed(1) : 'n/a',
    ];
  });
  lines.push(...table([header, ...rows]));
  for (const l of r.levels) {
    const level = l.mode === 'rate' ? `rate ${l.rate}/s` : `concurrency ${l.concurrency}`;
    for (const e of l.errorsByKind) lines.push(`errors at ${level}: ${e.count} x ${e.kind}, first: ${e.firstMessage}`);
    if (l.unsent) {
      lines.push(`at ${level} the server fell behind: ${l.unsent} request${l.unsent === 1 ? '' : 's'} due were never sent, held back by the limit of ${l.concurrency} in flight (raise --concurrency or lower --rate)`);
    }
  }
  if (r.levels.every((l) => !l.batchSize)) {
    lines.push('', `batch sizes: n/a (${r.metricsUrl ? `no ferry_batch_size histogram for this model at ${r.metricsUrl}` : 'metrics not scraped'})`);
  }
  const timed = r.levels.filter((l) => l.serverTimes);
  if (timed.length > 0) {
    // The rest of a request's latency, beyond the server's request time, is the network, the protocol front and the client.
    lines.push('', 'inside the server (means from its /metrics): request = check + queue + run + split; run is per batch, a worker model\'s hand-off included');
    const ms = (x: number | null | undefined) => (x === null || x === undefined ? '-' : formatMs(x));
    const header = [rate ? 'rate/s' : 'concurrency', 'request ms', 'queue ms', 'run ms', 'client mean ms'];
    lines.push(...table([header, ...timed.map((l) => [String(rate ? l.rate : l.concurrency), ms(l.serverTimes!.requestMs), ms(l.serverTimes!.queueMs), ms(l.serverTimes!.runMs), ms(l.latencyMs?.mean)])]));
  }
  return `${lines.join('\n')}\n`;
}

/** Right-aligned columns, two spaces apart. */
function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  return rows.map((row) => row.map((cell, c) => cell.padStart(widths[c]!)).join('  '));
}

export function formatMs(ms: number): string {
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  return ms.toFixed(2);
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
