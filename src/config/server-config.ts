/**
 * Server settings: defaults in one place, validated once, frozen. The CLI fills them from flags and FERRY_*
 * environment variables; tests and embedders pass them directly to startServer().
 */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export interface ServerSettings {
  /** A model repository folder, or a single .onnx file served as one model. */
  readonly modelRepository: string;
  /** Name of the model when modelRepository is a single file (default: the file name without .onnx). */
  readonly modelName?: string;
  readonly host: string;
  /** 0 picks a free port (tests). */
  readonly httpPort: number;
  /** Used by the gRPC front; accepted and validated now so deployments can set it once. */
  readonly grpcPort: number;
  /** Largest request body accepted, in bytes; larger bodies get 413. */
  readonly maxBodyBytes: number;
  /** When true, /v2/health/ready also needs every model READY (Triton's --strict-readiness). */
  readonly strictReadiness: boolean;
  /** How long a graceful stop waits for requests in flight before it closes connections anyway. */
  readonly shutdownTimeoutMs: number;
  readonly logLevel: LogLevel;
}

export const DEFAULT_SETTINGS: Omit<ServerSettings, 'modelRepository'> = Object.freeze({
  host: '0.0.0.0',
  httpPort: 8080,
  grpcPort: 8081,
  maxBodyBytes: 64 * 1024 * 1024,
  strictReadiness: false,
  shutdownTimeoutMs: 30_000,
  logLevel: 'info' as LogLevel,
});

function checkPort(name: string, port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`${name} must be an integer from 0 to 65535, got ${port}`);
  }
}

export function resolveSettings(input: Partial<ServerSettings> & { modelRepository: string }): ServerSettings {
  const s: ServerSettings = { ...DEFAULT_SETTINGS, ...stripUndefined(input), modelRepository: input.modelRepository };
  checkPort('http port', s.httpPort);
  checkPort('grpc port', s.grpcPort);
  if (!Number.isInteger(s.maxBodyBytes) || s.maxBodyBytes <= 0) {
    throw new Error(`max body size must be a positive number of bytes, got ${s.maxBodyBytes}`);
  }
  if (!Number.isFinite(s.shutdownTimeoutMs) || s.shutdownTimeoutMs < 0) {
    throw new Error(`shutdown timeout must be a non-negative number of milliseconds, got ${s.shutdownTimeoutMs}`);
  }
  if (!LOG_LEVELS.includes(s.logLevel)) {
    throw new Error(`log level must be one of ${LOG_LEVELS.join(', ')}, got '${s.logLevel}'`);
  }
  return Object.freeze(s);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Parses sizes such as "64mb", "512k", "1048576" into bytes. */
export function parseByteSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb?|mb?|gb?|kib|mib|gib)?\s*$/i.exec(text);
  if (!m) throw new Error(`'${text}' is not a size (examples: 1048576, 512kb, 64mb, 1gb)`);
  const unit = (m[2] ?? 'b').toLowerCase()[0];
  const scale = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
  return Math.floor(Number(m[1]) * scale);
}
