/**
 * Server settings: defaults in one place, validated once, frozen. The CLI fills them from flags and FERRY_*
 * environment variables; tests and embedders pass them directly to startServer().
 */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Log lines: JSON (for collectors), pretty (for a person), or auto (pretty on a terminal). */
export type LogFormat = 'json' | 'pretty' | 'auto';
export const LOG_FORMATS: readonly LogFormat[] = ['auto', 'json', 'pretty'];

/** Triton's model control modes (core/model-control.ts says what each allows). */
export type ModelControlMode = 'poll' | 'explicit' | 'none';
export const MODEL_CONTROL_MODES: readonly ModelControlMode[] = ['poll', 'explicit', 'none'];

/** Who may register and use system shared memory regions (ServerSettings.allowClientShm). */
export type ClientShmScope = 'off' | 'local' | 'any';
export const CLIENT_SHM_SCOPES: readonly ClientShmScope[] = ['off', 'local', 'any'];

/** A management token shorter than this is refused: it guards loading code into the server. */
export const MIN_TOKEN_LENGTH = 16;

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
  readonly logFormat: LogFormat;
  /** poll: the repository is re-read every repositoryPollSecs; explicit: only what is asked for; none: read once. */
  readonly modelControlMode: ModelControlMode;
  readonly repositoryPollSecs: number;
  /** Explicit mode: models loaded at start ('*' for all). */
  readonly loadModels: readonly string[];
  /** Start with a repository that holds no model (poll mode then waits for models); otherwise that fails the start. */
  readonly allowEmptyRepository: boolean;
  /** The management port (model load and unload); null: none (a cluster worker: the primary serves it). */
  readonly managementPort: number | null;
  readonly managementHost: string;
  /** Bearer token the management port requires; required when it listens beyond loopback. */
  readonly managementToken?: string;
  /** Where experiments keep predictions and outcomes (DATA_DIR/experiments/MODEL/); undefined: in memory only. */
  readonly dataDir?: string;
  /** Experiments keep a prediction (for feedback to join) this many hours at most. */
  readonly predictionRetentionHours: number;
  /** ... and at most this many per model (the oldest go first). */
  readonly predictionMaxRecords: number;
  /** SageMaker's container contract on the HTTP port: GET /ping, POST /invocations. */
  readonly sagemaker: boolean;
  /**
   * Clients may register /dev/shm regions and pass tensors through them (Triton's system shared memory extension and
   * its --allow-client-shm flag): 'off' by default, as in Triton, since it makes the server open files a request
   * names; 'local' for clients connecting from loopback (those on this machine); 'any' for every peer (containers that
   * share /dev/shm but reach ferry over a network).
   */
  readonly allowClientShm: ClientShmScope;
}

export const DEFAULT_SETTINGS: Omit<ServerSettings, 'modelRepository'> = Object.freeze({
  host: '0.0.0.0',
  httpPort: 8080,
  grpcPort: 8081,
  maxBodyBytes: 64 * 1024 * 1024,
  strictReadiness: false,
  shutdownTimeoutMs: 30_000,
  logLevel: 'info' as LogLevel,
  logFormat: 'auto' as LogFormat,
  modelControlMode: 'poll' as ModelControlMode,
  repositoryPollSecs: 2,
  loadModels: [],
  allowEmptyRepository: false,
  managementPort: 8082,
  managementHost: '127.0.0.1',
  predictionRetentionHours: 168,
  predictionMaxRecords: 500_000,
  sagemaker: false,
  allowClientShm: 'off' as ClientShmScope,
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
  if (!LOG_FORMATS.includes(s.logFormat)) throw new Error(`log format must be one of ${LOG_FORMATS.join(', ')}, got '${s.logFormat}'`);
  if (!MODEL_CONTROL_MODES.includes(s.modelControlMode)) {
    throw new Error(`model control mode must be one of ${MODEL_CONTROL_MODES.join(', ')}, got '${s.modelControlMode}'`);
  }
  if (!Number.isFinite(s.repositoryPollSecs) || s.repositoryPollSecs <= 0) {
    throw new Error(`repository poll interval must be a positive number of seconds, got ${s.repositoryPollSecs}`);
  }
  if (s.managementPort !== null) checkPort('management port', s.managementPort);
  if (!CLIENT_SHM_SCOPES.includes(s.allowClientShm)) throw new Error(`client shared memory must be one of ${CLIENT_SHM_SCOPES.join(', ')}, got '${s.allowClientShm}'`);
  if (!(s.predictionRetentionHours > 0)) throw new Error(`prediction retention must be a positive number of hours, got ${s.predictionRetentionHours}`);
  if (!Number.isInteger(s.predictionMaxRecords) || s.predictionMaxRecords < 1) throw new Error(`prediction max records must be a positive integer, got ${s.predictionMaxRecords}`);
  checkManagementAccess(s);
  return Object.freeze(s);
}

/**
 * Secure by default: the management port loads and unloads models (code, in effect), so beyond loopback it needs a
 * bearer token, and ferry refuses to start without one rather than expose it (Triton, TF Serving and MLServer
 * serve this on every interface with no authentication).
 */
function checkManagementAccess(s: ServerSettings): void {
  const token = s.managementToken;
  if (token !== undefined && token.length < MIN_TOKEN_LENGTH) {
    throw new Error(`the management token must be at least ${MIN_TOKEN_LENGTH} characters (make one with: openssl rand -hex 32)`);
  }
  if (s.managementPort !== null && token === undefined && !isLoopback(s.managementHost)) {
    throw new Error(`the management port would listen on ${s.managementHost}, beyond this machine, without a token: set --management-token or FERRY_MANAGEMENT_TOKEN (e.g. openssl rand -hex 32), or keep --management-host 127.0.0.1`);
  }
}

/** 127.0.0.0/8, ::1 and localhost: reachable from this machine only. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === '::ffff:127.0.0.1';
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
