/**
 * Several server processes on one port (`--processes N`), with node:cluster: the primary loads no model; it
 * forks N workers that each run the whole server (models, batchers, both fronts) and share the HTTP and gRPC
 * ports. JSON parsing, batching and main-thread inference are single-threaded per process, so on a machine with
 * cores to spare more processes serve more. Node 20 has no reusePort, so cluster is how processes share a port.
 *
 * The primary restarts a worker that dies, stops them all gracefully on SIGTERM/SIGINT, answers /metrics for the
 * workers by aggregating theirs (prom-client's AggregatorRegistry), so a scrape sees the whole server, and serves
 * the management port, carrying each load and unload out in every worker (cluster-management.ts).
 */
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { Logger } from './observe/logger.js';
import { ClusterManagement } from './cluster-management.js';
import { ManagementServer, type ManagementServerOptions } from './protocol/management/management-server.js';
import { messageOf } from './errors.js';

/** Tells the server processes where the primary's management port is, for the 403 their public ports answer. */
export const MANAGEMENT_ADDRESS_ENV = 'FERRY_CLUSTER_MANAGEMENT_ADDRESS';

type ClusterMessage =
  | { type: 'ferry:metrics-request'; id: number }
  | { type: 'ferry:metrics'; id: number; contentType: string; body: string; error?: string }
  | { type: 'ferry:stop' };

/**
 * Runs the primary: forks `processes` workers and keeps them running until a signal stops them all. `management`:
 * where the management port listens (undefined: none).
 */
export async function runPrimary(processes: number, log: Logger, management: ManagementServerOptions | undefined, shutdownTimeoutMs: number): Promise<void> {
  const aggregator = new AggregatorRegistry();
  const forwarder = new ClusterManagement();
  let managementServer: ManagementServer | undefined;
  const env: Record<string, string> = {};
  if (management) {
    managementServer = new ManagementServer(forwarder, management, log);
    try {
      const port = await managementServer.listen();
      env[MANAGEMENT_ADDRESS_ENV] = `${management.host}:${port}`;
      log.info({ host: management.host, managementPort: port }, `management (model load and unload, for every server process) listening on ${management.host}:${port}`);
    } catch (e) {
      throw new Error(`cannot listen for management on ${management.host}:${management.port}: ${messageOf(e)}`);
    }
  }
  let stopping = false;
  const fork = (): Worker => {
    const worker = cluster.fork(env);
    forwarder.watch(worker);
    worker.on('message', (m: ClusterMessage) => {
      if (m?.type !== 'ferry:metrics-request') return;
      aggregator.clusterMetrics().then(
        (body) => worker.send({ type: 'ferry:metrics', id: m.id, contentType: aggregator.contentType, body } satisfies ClusterMessage),
        (e: Error) => worker.send({ type: 'ferry:metrics', id: m.id, contentType: '', body: '', error: e.message } satisfies ClusterMessage),
      );
    });
    return worker;
  };
  for (let i = 0; i < processes; i++) fork();
  log.info({ processes }, `started ${processes} server processes`);
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) {
        log.info('all server processes stopped');
        process.exit(0);
      }
      return;
    }
    log.error({ pid: worker.process.pid, code, signal }, `server process ${worker.process.pid} exited (${signal ?? `code ${code}`}); starting another`);
    setTimeout(fork, 500).unref();
  });
  const stop = (signal: string): void => {
    if (stopping) {
      log.warn(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    log.info(`${signal} received: stopping ${Object.keys(cluster.workers ?? {}).length} server processes gracefully`);
    void managementServer?.stop(shutdownTimeoutMs);
    for (const w of Object.values(cluster.workers ?? {})) w?.send({ type: 'ferry:stop' } satisfies ClusterMessage);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // SIGHUP: every server process reads the repository again (serve-signals.ts).
  process.on('SIGHUP', () => {
    log.info('SIGHUP received: passing it to the server processes');
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGHUP');
  });
}

/** In a worker: calls `onStop` when the primary asks it to stop. */
export function onPrimaryStop(onStop: () => void): void {
  process.on('message', (m: ClusterMessage) => {
    if (m?.type === 'ferry:stop') onStop();
  });
}

let nextId = 0;
const waiting = new Map<number, (m: Extract<ClusterMessage, { type: 'ferry:metrics' }>) => void>();

/**
 * In a worker: makes `registry` the one the primary aggregates, and returns the /metrics source that asks the
 * primary for the whole server's metrics.
 */
export function clusterMetricsSource(registry: Registry): () => Promise<{ contentType: string; body: string }> {
  AggregatorRegistry.setRegistries([registry]);
  new AggregatorRegistry(); // its constructor installs the worker's reply to the primary's requests
  process.on('message', (m: ClusterMessage) => {
    if (m?.type !== 'ferry:metrics') return;
    waiting.get(m.id)?.(m);
    waiting.delete(m.id);
  });
  return () =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, (m) => (m.error ? reject(new Error(`metrics aggregation failed: ${m.error}`)) : resolve(m)));
      process.send!({ type: 'ferry:metrics-request', id } satisfies ClusterMessage);
    });
}
