/**
 * Wires ferry together: the serving core (repository -> registry -> data plane, kept in step with the repository by
 * the model control mode) -> protocol fronts and the management port; start, ready, graceful stop.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { resolveSettings, type ServerSettings } from './config/server-config.js';
import type { DataPlane } from './dataplane/dataplane.js';
import { registerExperimentMetrics } from './observe/experiment-metrics.js';
import { registerDriftMetrics } from './observe/drift-metrics.js';
import { ServingCore } from './core/serving-core.js';
import type { ModelManagement } from './core/model-control.js';
import { messageOf } from './errors.js';
import { createLogger, type Logger } from './observe/logger.js';
import { Metrics } from './observe/metrics.js';
import { clusterMetricsSource } from './cluster.js';
import { GrpcFront } from './protocol/v2-grpc/grpc-front.js';
import { RestFront } from './protocol/v2-rest/rest-front.js';
import { SageMakerFront } from './protocol/sagemaker/sagemaker-front.js';
import { ManagementServer } from './protocol/management/management-server.js';
import type { RuntimeLoader } from './runtime/load.js';
import { mmapThresholdHint } from './runtime/native-memory.js';

export const SERVER_NAME = 'ferry';
/** The V2 protocol extensions ferry serves (server metadata lists them, as Triton's does). */
const EXTENSIONS = ['binary_tensor_data', 'model_repository', 'statistics', 'model_configuration', 'logging', 'trace'];

/**
 * What readiness does not wait for (the gRPC message codecs, prom-client's process metrics: about 10 ms together)
 * starts this long after the server is ready, so that the first requests of a new instance, which a load balancer
 * sends as soon as it is ready, are not queued behind it. A gRPC call or a scrape before then loads what it needs.
 */
const AFTER_READY_MS = 250;
export const SERVER_VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export interface RunningServer {
  readonly settings: ServerSettings;
  readonly httpPort: number;
  readonly grpcPort: number;
  /** The management port; undefined when there is none (a cluster worker: the primary serves it). */
  readonly managementPort: number | undefined;
  readonly dataplane: DataPlane;
  /** Model load, unload and index, as the management port calls them. */
  readonly management: ModelManagement;
  readonly metrics: Metrics;
  readonly log: Logger;
  /** Resolves once the start-up load has finished, whatever its outcome. */
  readonly loaded: Promise<void>;
  /** Graceful stop: readiness down, no new connections, requests in flight answered, models released. */
  stop(): Promise<void>;
  /** Reads the repository again now, as its model control mode allows (SIGHUP); says what it did. */
  reread(): Promise<string>;
}

export interface StartOptions extends Partial<ServerSettings> {
  readonly modelRepository: string;
  readonly logger?: Logger;
  /** Loads a model file into a runtime; defaults to ferry's own (ONNX). For embedders adding a runtime. */
  readonly loader?: RuntimeLoader;
  /** Set in a cluster worker: /metrics then answers for the whole cluster (see cluster.ts). */
  readonly clusterWorker?: boolean;
  /** Where another process serves the management port (a cluster's primary), when this one serves none. */
  readonly managementElsewhere?: string;
}

/**
 * Starts serving. The HTTP port opens before the models load, so liveness answers at once and readiness says
 * when loading is done (what Kubernetes probes expect); inference on a model still loading gets 503.
 */
export async function startServer(options: StartOptions): Promise<RunningServer> {
  const { logger, loader, clusterWorker, managementElsewhere, ...rest } = options;
  const settings = resolveSettings(rest);
  const log = logger ?? createLogger(settings.logLevel, settings.logFormat);
  const metrics = new Metrics();
  let grpcFront: GrpcFront | undefined;
  const core = await ServingCore.open({
    repository: settings.modelRepository,
    ...(settings.modelName !== undefined ? { modelName: settings.modelName } : {}),
    controlMode: settings.modelControlMode,
    pollMs: settings.repositoryPollSecs * 1000,
    loadModels: settings.loadModels,
    allowEmpty: settings.allowEmptyRepository,
    ...(loader ? { loader } : {}),
    log,
    metrics,
    dataplane: {
      serverName: SERVER_NAME,
      serverVersion: SERVER_VERSION,
      // Listed when clients may use it, so a client that checks the list knows before it registers a region.
      extensions: settings.allowClientShm !== 'off' ? [...EXTENSIONS, 'system_shared_memory'] : EXTENSIONS,
      strictReadiness: settings.strictReadiness,
      allowClientShm: settings.allowClientShm,
      maxSharedMemoryInputBytes: settings.maxBodyBytes,
    },
    experiments: {
      dataDir: settings.dataDir,
      maxPredictions: settings.predictionMaxRecords,
      retentionMs: settings.predictionRetentionHours * 3_600_000,
      // Feedback reaches whichever process the kernel hands its connection: it cannot find what another recorded.
      ...(clusterWorker ? { unsupported: 'experiments need one server process (--processes 1): feedback must reach the process that recorded the prediction' } : {}),
    },
    onChange: () => grpcFront?.syncHealth(),
  });
  const dataplane = core.dataplane;
  registerExperimentMetrics(metrics.registry, () => dataplane.experiments());
  registerDriftMetrics(metrics.registry, () => dataplane.featureDrift());
  let managementPort: number | undefined;
  // Named in the 403 the public ports answer a load with; the management port listens after them (port 0 picks one).
  const managementAddress = (): string | undefined => (managementPort === undefined ? managementElsewhere : `${settings.managementHost}:${managementPort}`);
  const restFront = new RestFront(dataplane, {
    maxBodyBytes: settings.maxBodyBytes,
    metrics: clusterWorker ? clusterMetricsSource(metrics.registry) : () => metrics.text(),
    managementAddress,
    ...(settings.sagemaker ? { sagemaker: new SageMakerFront(dataplane, settings.maxBodyBytes) } : {}),
  }, log);
  const http = createServer({ keepAliveTimeout: 65_000 }, restFront.handle);
  const httpPort = await listen(http, settings.httpPort, settings.host);
  log.info({ host: settings.host, port: httpPort }, `HTTP (V2 REST) listening on ${settings.host}:${httpPort}`);
  grpcFront = new GrpcFront(dataplane, { maxMessageBytes: settings.maxBodyBytes, managementAddress }, log);
  let grpcPort: number;
  let management: ManagementServer | undefined;
  try {
    grpcPort = await grpcFront.listen(settings.host, settings.grpcPort).catch((e: unknown) => {
      throw new Error(`cannot listen for gRPC on ${settings.host}:${settings.grpcPort}: ${messageOf(e)}`);
    });
    log.info({ host: settings.host, grpcPort }, `gRPC (V2) listening on ${settings.host}:${grpcPort}`);
    if (settings.managementPort !== null) {
      management = new ManagementServer(core.control, { host: settings.managementHost, port: settings.managementPort, token: settings.managementToken }, log);
      managementPort = await management.listen().catch((e: unknown) => {
        throw new Error(`cannot listen for management on ${settings.managementHost}:${settings.managementPort}: ${messageOf(e)}`);
      });
      log.info({ host: settings.managementHost, managementPort, token: settings.managementToken !== undefined },
        `management (model load and unload, REST and gRPC) listening on ${settings.managementHost}:${managementPort}${settings.managementToken ? ', bearer token required' : ''}`);
    }
  } catch (e) {
    await Promise.all([new Promise((resolve) => http.close(resolve)), grpcFront.stop(0), management?.stop(0)]);
    throw e;
  }

  const hint = settings.modelControlMode === 'none' ? undefined : mmapThresholdHint();
  if (hint) log.info(hint);
  const started = performance.now();
  let afterReady: NodeJS.Timeout | undefined;
  let stopping: Promise<void> | undefined;
  const front = grpcFront;
  const loaded = core.load().then(() => {
    const { versions, ready } = core.registry.versionCounts();
    const mode = settings.modelControlMode === 'poll' ? `; watching the repository every ${settings.repositoryPollSecs} s` : settings.modelControlMode === 'explicit' ? '; explicit model control' : '';
    log.info({ ms: Math.round(performance.now() - started) }, `loaded ${ready} of ${versions} model versions; server is ${dataplane.ready() ? 'ready' : 'not ready'}${mode}`);
    if (core.registry.size === 0) {
      const mode = settings.modelControlMode;
      log.info(mode === 'poll'
        ? `no model is loaded yet: waiting for model folders in ${settings.modelRepository} (each loads once its files are complete)`
        : mode === 'explicit' ? 'no model is loaded yet: load them on the management port (POST /v2/repository/models/NAME/load)' : 'no model is loaded, and model control mode none loads none later');
    }
    if (stopping) return;
    afterReady = setTimeout(() => {
      metrics.startDefaultMetrics();
      front.prepare().catch((e: unknown) => log.error(`cannot load the gRPC message codecs: ${messageOf(e)}; V2 gRPC calls will fail`));
    }, AFTER_READY_MS);
    afterReady.unref();
  });

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      log.info('stopping: no new connections; answering the requests in flight');
      clearTimeout(afterReady);
      dataplane.markStopping();
      restFront.closing = true;
      await loaded;
      const timeout = settings.shutdownTimeoutMs;
      await Promise.all([closeHttp(http, timeout, log), front.stop(timeout), management?.stop(timeout)]);
      await core.stop();
      dataplane.sharedMemory.close();
      log.info('stopped');
    })();
    return stopping;
  };
  const reread = async (): Promise<string> => {
    await loaded;
    return core.reread();
  };
  return { settings, httpPort, grpcPort, managementPort, dataplane, management: core.control, metrics, log, loaded, stop, reread };
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Stops accepting, lets requests in flight finish (idle keep-alive connections close now), then forces the rest. */
function closeHttp(server: Server, timeoutMs: number, log: Logger): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      log.warn(`requests still open after ${timeoutMs} ms; closing their connections`);
      server.closeAllConnections();
    }, timeoutMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/** The contract of a model written in JavaScript or TypeScript (model.mjs / model.js / model.ts in a version folder). */
export type { FerryModel, LoadModel, ModelContext, ModelTensor, OnnxModel, RecordModel, ReturnedTensor, TensorDeclaration, TensorModel } from './runtime/module/model-contract.js';
