/**
 * Wires ferry together: repository -> registry -> data plane -> protocol fronts; start, ready, graceful stop.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { resolveSettings, type ServerSettings } from './config/server-config.js';
import { DataPlane } from './dataplane/dataplane.js';
import { messageOf } from './errors.js';
import { createLogger, type Logger } from './observe/logger.js';
import { Metrics } from './observe/metrics.js';
import { clusterMetricsSource } from './cluster.js';
import { GrpcFront } from './protocol/v2-grpc/grpc-front.js';
import { RestFront } from './protocol/v2-rest/rest-front.js';
import { ModelRegistry } from './registry/registry.js';
import { scanRepository } from './repository/model-repository.js';
import { loadRuntime, type RuntimeLoader } from './runtime/load.js';

export const SERVER_NAME = 'ferry';

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
  readonly dataplane: DataPlane;
  readonly metrics: Metrics;
  readonly log: Logger;
  /** Resolves once the start-up load has finished, whatever its outcome. */
  readonly loaded: Promise<void>;
  /** Graceful stop: readiness down, no new connections, requests in flight answered, models released. */
  stop(): Promise<void>;
}

export interface StartOptions extends Partial<ServerSettings> {
  readonly modelRepository: string;
  readonly logger?: Logger;
  /** Loads a model file into a runtime; defaults to ferry's own (ONNX). For embedders adding a runtime. */
  readonly loader?: RuntimeLoader;
  /** Set in a cluster worker: /metrics then answers for the whole cluster (see cluster.ts). */
  readonly clusterWorker?: boolean;
}

/**
 * Starts serving. The HTTP port opens before the models load, so liveness answers at once and readiness says
 * when loading is done (what Kubernetes probes expect); inference on a model still loading gets 503.
 */
export async function startServer(options: StartOptions): Promise<RunningServer> {
  const { logger, loader, clusterWorker, ...rest } = options;
  const settings = resolveSettings(rest);
  const log = logger ?? createLogger(settings.logLevel);
  const found = await scanRepository(settings.modelRepository, settings.modelName);
  const metrics = new Metrics();
  const registry = new ModelRegistry(loader ?? loadRuntime, log, metrics);
  const dataplane = new DataPlane(registry, {
    serverName: SERVER_NAME,
    serverVersion: SERVER_VERSION,
    extensions: ['binary_tensor_data'],
    strictReadiness: settings.strictReadiness,
  });
  const restFront = new RestFront(dataplane, { maxBodyBytes: settings.maxBodyBytes, metrics: clusterWorker ? clusterMetricsSource(metrics.registry) : () => metrics.text() }, log);
  const http = createServer({ keepAliveTimeout: 65_000 }, restFront.handle);
  const httpPort = await listen(http, settings.httpPort, settings.host);
  log.info({ host: settings.host, port: httpPort }, `HTTP (V2 REST) listening on ${settings.host}:${httpPort}`);
  const grpcFront = new GrpcFront(dataplane, { maxMessageBytes: settings.maxBodyBytes }, log);
  let grpcPort: number;
  try {
    grpcPort = await grpcFront.listen(settings.host, settings.grpcPort);
  } catch (e) {
    await new Promise((resolve) => http.close(resolve));
    throw new Error(`cannot listen for gRPC on ${settings.host}:${settings.grpcPort}: ${(e as Error).message}`);
  }
  log.info({ host: settings.host, grpcPort }, `gRPC (V2) listening on ${settings.host}:${grpcPort}`);

  const started = performance.now();
  let afterReady: NodeJS.Timeout | undefined;
  let stopping: Promise<void> | undefined;
  const loaded = registry.loadAll(found).then(() => {
    dataplane.markStarted();
    grpcFront.syncHealth();
    const { versions, ready } = registry.versionCounts();
    log.info({ ms: Math.round(performance.now() - started) }, `loaded ${ready} of ${versions} model versions; server is ${dataplane.ready() ? 'ready' : 'not ready'}`);
    if (stopping) return;
    afterReady = setTimeout(() => {
      metrics.startDefaultMetrics();
      grpcFront.prepare().catch((e: unknown) => log.error(`cannot load the gRPC message codecs: ${messageOf(e)}; V2 gRPC calls will fail`));
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
      await Promise.all([closeHttp(http, settings.shutdownTimeoutMs, log), grpcFront.stop(settings.shutdownTimeoutMs)]);
      await registry.unloadAll();
      log.info('stopped');
    })();
    return stopping;
  };
  return { settings, httpPort, grpcPort, dataplane, metrics, log, loaded, stop };
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
