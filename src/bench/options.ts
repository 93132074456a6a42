/**
 * What `ferry bench` takes, its defaults in one place, and the checks that need no server. The result is complete
 * and frozen, so the rest of the bench never wonders about a missing value.
 */
import { parseHttpUrl } from '../client/index.js';
import { BenchError } from './bench-error.js';
import { DEFAULT_GRPC_PORT, DEFAULT_URL } from './defaults.js';
import type { ProgressStream } from './progress.js';

export type BenchProtocol = 'http' | 'grpc';
/** HTTP: `json` or `binary` (the binary tensor extension). gRPC: `raw` (raw_input_contents) or `typed` (contents). */
export type BenchEncoding = 'json' | 'binary' | 'raw' | 'typed';

export const ENCODINGS: Readonly<Record<BenchProtocol, readonly BenchEncoding[]>> = { http: ['json', 'binary'], grpc: ['raw', 'typed'] };

export interface BenchOptions {
  readonly model: string;
  readonly modelVersion?: string;
  /** The server's HTTP base URL: inference over HTTP, metadata, /metrics. Default http://127.0.0.1:8080. */
  readonly url?: string;
  /** Default 'http'. */
  readonly protocol?: BenchProtocol;
  /** host:port of the gRPC service. Default: the host of `url`, port 8081. */
  readonly grpcUrl?: string;
  /** Default: json for HTTP, raw for gRPC. */
  readonly encoding?: BenchEncoding;
  /** Closed loop: one level per value. Open loop: the most requests in flight (one value). Default [1], or [256] with `rate`. */
  readonly concurrency?: readonly number[];
  /** Open loop: requests per second, one level per value. */
  readonly rate?: readonly number[];
  /** Seconds measured per level. Default 10. */
  readonly duration?: number;
  /** Seconds of load before each level's measurement. Default 2. */
  readonly warmup?: number;
  /** Rows per request (the free first dimension). Default 1. */
  readonly batch?: number;
  /** Whole input shapes by name, for other free dimensions. */
  readonly shapes?: Readonly<Record<string, readonly number[]>>;
  /** A V2 JSON inference request body to send instead of random data. */
  readonly inputFile?: string;
  /** gRPC connections the calls are spread over. Default 4. */
  readonly connections?: number;
  /** Per-request timeout in ms (0: none). Default 30000. */
  readonly timeoutMs?: number;
  /** Prometheus endpoint for batch sizes; false to skip. Default `url` + /metrics. */
  readonly metricsUrl?: string | false;
  /** Where the progress line and warnings go (stderr in the CLI); nothing is written when undefined. */
  readonly progress?: ProgressStream;
}

export interface ResolvedOptions {
  readonly model: string;
  readonly modelVersion: string | undefined;
  readonly url: URL;
  readonly protocol: BenchProtocol;
  readonly grpcAddress: string;
  readonly encoding: BenchEncoding;
  readonly mode: 'concurrency' | 'rate';
  readonly concurrency: readonly number[];
  readonly rate: readonly number[];
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly batch: number;
  readonly shapes: Readonly<Record<string, readonly number[]>>;
  readonly inputFile: string | undefined;
  readonly connections: number;
  readonly timeoutMs: number;
  readonly metricsUrl: string | undefined;
  readonly progress: ProgressStream | undefined;
}

export { DEFAULT_GRPC_PORT, DEFAULT_URL };
/** In rate mode, the most requests in flight unless --concurrency says otherwise. */
export const DEFAULT_RATE_MAX_IN_FLIGHT = 256;

export function resolveOptions(o: BenchOptions): ResolvedOptions {
  if (!o.model) throw new BenchError('--model is required: the name of the model to load-test');
  const url = toUrl(o.url ?? DEFAULT_URL);
  const protocol = o.protocol ?? 'http';
  if (protocol !== 'http' && protocol !== 'grpc') throw new BenchError(`--protocol must be http or grpc, got '${String(protocol)}'`);
  const encoding = o.encoding ?? (ENCODINGS[protocol][0] as BenchEncoding);
  if (!ENCODINGS[protocol].includes(encoding)) {
    throw new BenchError(`--encoding ${encoding} is not for ${protocol.toUpperCase()}: use ${ENCODINGS[protocol].join(' or ')} (${protocol === 'http' ? 'raw and typed are gRPC encodings' : 'json and binary are HTTP encodings'})`);
  }
  const rate = o.rate ?? [];
  const mode = rate.length > 0 ? 'rate' : 'concurrency';
  for (const r of rate) positive(r, '--rate', false);
  const concurrency = o.concurrency && o.concurrency.length > 0 ? o.concurrency : [mode === 'rate' ? DEFAULT_RATE_MAX_IN_FLIGHT : 1];
  for (const c of concurrency) positive(c, '--concurrency', true);
  if (mode === 'rate' && concurrency.length > 1) {
    throw new BenchError('with --rate, --concurrency is the most requests in flight and takes one value (sweep the rate instead: --rate 100,200,400)');
  }
  const duration = o.duration ?? 10;
  positive(duration, '--duration', false);
  const warmup = o.warmup ?? 2;
  if (!(warmup >= 0) || !Number.isFinite(warmup)) throw new BenchError(`--warmup must be 0 or more seconds, got ${warmup}`);
  const batch = o.batch ?? 1;
  positive(batch, '--batch', true);
  const shapes = o.shapes ?? {};
  if (o.inputFile !== undefined && (o.batch !== undefined || Object.keys(shapes).length > 0)) {
    throw new BenchError('--batch and --shape shape random inputs; with --input the file gives the shapes');
  }
  const connections = o.connections ?? 4;
  positive(connections, '--connections', true);
  const timeoutMs = o.timeoutMs ?? 30_000;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 0) throw new BenchError(`--timeout must be whole milliseconds (0 for none), got ${timeoutMs}`);
  const base = url.href.replace(/\/+$/, '');
  return Object.freeze({
    model: o.model,
    modelVersion: o.modelVersion || undefined,
    url,
    protocol,
    grpcAddress: o.grpcUrl ? o.grpcUrl.replace(/^grpc:\/\//, '') : `${url.hostname}:${DEFAULT_GRPC_PORT}`,
    encoding,
    mode,
    concurrency,
    rate,
    durationMs: duration * 1000,
    warmupMs: warmup * 1000,
    batch,
    shapes,
    inputFile: o.inputFile,
    connections,
    timeoutMs,
    metricsUrl: o.metricsUrl === false ? undefined : o.metricsUrl ?? `${base}/metrics`,
    progress: o.progress,
  });
}

function toUrl(text: string): URL {
  try {
    return parseHttpUrl(text);
  } catch (e) {
    throw new BenchError(`--url: ${(e as Error).message}`);
  }
}

function positive(n: number, flag: string, whole: boolean): void {
  if (!(n > 0) || !Number.isFinite(n) || (whole && !Number.isSafeInteger(n))) {
    throw new BenchError(`${flag} must be a positive ${whole ? 'whole ' : ''}number, got ${n}`);
  }
}
