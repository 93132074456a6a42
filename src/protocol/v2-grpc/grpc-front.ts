/**
 * The V2 gRPC front (inference.GRPCInferenceService), with server reflection (grpcurl) and the standard
 * grpc.health.v1 service (Kubernetes gRPC probes), both loaded on their first call (lazy-services.ts), on ferry's
 * node:http2 gRPC server (../grpc-http2/server.ts says why not grpc-js's). Each method only converts and calls the
 * data plane.
 */
import type * as grpc from '@grpc/grpc-js';
import { FerryError, invalid, isFerryError } from '../../errors.js';
import type { DataPlane } from '../../dataplane/dataplane.js';
import type { Logger } from '../../observe/logger.js';
import { inferRequestFromGrpc, inferResponseToGrpc } from './converters.js';
import { logSettingsToGrpc, traceSettingsFromGrpc, traceSettingsToGrpc, type LogSettingsMessage, type TraceSettingMessage } from './settings-messages.js';
import { applyTraceSettings, logSettings } from '../../observe/triton-settings.js';
import type { ModelInferRequest, ModelRequest, RepositoryIndexRequest } from './messages.js';
import { indexToGrpc } from './repository-messages.js';
import { managementOnlyMessage } from '../management-notice.js';
import { unary } from './unary.js';
import { addLazyReflection, LazyHealth } from './lazy-services.js';
import { EXPERIMENT_SERVICE, v2Service, V2_SERVICE, type LazyServiceDefinition } from './proto.js';
import { experimentMethods } from './experiment-methods.js';
import { sharedMemoryMethods } from './shared-memory-methods.js';
import { Http2GrpcServer, type ServiceDefinition, type ServiceImplementation } from '../grpc-http2/server.js';
import type { ServerCall } from '../grpc-http2/server-call.js';

export interface GrpcFrontOptions {
  /** Largest request message accepted (after decompression); larger ones are RESOURCE_EXHAUSTED. */
  readonly maxMessageBytes: number;
  /** Where model load and unload are served ('host:port'), named in the PERMISSION_DENIED this port answers them. */
  readonly managementAddress?: () => string | undefined;
}

export class GrpcFront {
  private readonly server: Http2GrpcServer;
  private readonly health = new LazyHealth({ '': 'NOT_SERVING', [V2_SERVICE]: 'NOT_SERVING' });
  private readonly v2: LazyServiceDefinition = v2Service();
  private readonly experiments: LazyServiceDefinition = v2Service(EXPERIMENT_SERVICE);

  constructor(
    private readonly dataplane: DataPlane,
    private readonly options: GrpcFrontOptions,
    private readonly log: Logger,
  ) {
    this.server = new Http2GrpcServer({ maxMessageBytes: options.maxMessageBytes });
    this.server.addService(this.v2.definition as unknown as ServiceDefinition, this.methods(), this.v2.prepare);
    this.server.addService(this.experiments.definition as unknown as ServiceDefinition, experimentMethods(dataplane, log), this.experiments.prepare);
    // Reflection and health only call addService(definition, implementation), which this server provides as grpc-js does.
    const asGrpcServer = this.server as unknown as grpc.Server;
    addLazyReflection(asGrpcServer);
    this.health.addToServer(asGrpcServer);
  }

  /** Mirrors the data plane's readiness into grpc.health.v1 (for '' and for the V2 service). */
  syncHealth(): void {
    const status = this.dataplane.ready() ? 'SERVING' : 'NOT_SERVING';
    this.health.setStatus('', status);
    this.health.setStatus(V2_SERVICE, status);
  }

  /**
   * Loads the V2 messages' (de)serializers now rather than on the first call: the server calls this a moment after
   * it is ready, so that neither readiness nor, usually, the first call waits for them.
   */
  prepare(): Promise<void> {
    return this.v2.prepare() ?? Promise.resolve();
  }

  listen(host: string, port: number): Promise<number> {
    return this.server.listen(host, port);
  }

  /** Lets calls in flight finish, then closes; forces the rest after the timeout. */
  stop(timeoutMs: number): Promise<void> {
    this.syncHealth();
    return this.server.stop(timeoutMs, () => this.log.warn(`gRPC calls still open after ${timeoutMs} ms; closing them`));
  }

  private methods(): ServiceImplementation {
    const dp = this.dataplane;
    const log = this.log;
    const managementOnly = (): never => {
      throw new FerryError('PERMISSION_DENIED', managementOnlyMessage(this.options.managementAddress?.()));
    };
    return {
      ServerLive: unary(log, () => ({ live: true })),
      ServerReady: unary(log, () => ({ ready: dp.ready() })),
      ModelReady: unary(log, (req: ModelRequest) => ({ ready: modelReady(dp, req) })),
      ServerMetadata: unary(log, () => dp.serverMetadata()),
      ModelMetadata: unary(log, (req: ModelRequest) => dp.modelMetadata(req.name, req.version || undefined)),
      ModelInfer: unary(log, async (req: ModelInferRequest, call) => {
        let request;
        try {
          request = inferRequestFromGrpc(req, deadlineOf(call), call.requestHeaders);
        } catch (e) {
          throw dp.unknownModelOr(e, req.model_name, req.model_version || undefined);
        }
        if (request.sharedMemory === true) dp.sharedMemory.checkPeer(call.peerAddress());
        const response = await dp.infer(request);
        if (response.variant !== undefined) call.setTrailer('ferry-variant', response.variant);
        return inferResponseToGrpc(response);
      }),
      RepositoryIndex: unary(log, async (req: RepositoryIndexRequest) => indexToGrpc(await dp.repositoryIndex(req.ready))),
      ModelStatistics: unary(log, (req: ModelRequest) => dp.modelStatistics(req.name || undefined, req.version || undefined)),
      ModelConfig: unary(log, (req: ModelRequest) => dp.modelConfig(req.name, req.version || undefined)),
      TraceSetting: unary(log, (req: TraceSettingMessage) => {
        if (req.model_name) dp.registry.model(req.model_name); // an unknown model is NOT_FOUND
        return traceSettingsToGrpc(applyTraceSettings(traceSettingsFromGrpc(req)));
      }),
      // Reading here; a change is the management port's (it changes the server).
      LogSettings: unary(log, (req: LogSettingsMessage) => {
        if (Object.keys(req.settings ?? {}).length > 0) managementOnly();
        return logSettingsToGrpc(logSettings(log));
      }),
      RepositoryModelLoad: unary(log, managementOnly),
      RepositoryModelUnload: unary(log, managementOnly),
      ...sharedMemoryMethods(dp, log),
    };
  }
}

/** The call's gRPC deadline (grpc-timeout) as a performance.now() time; undefined when it has none. */
function deadlineOf(call: ServerCall): number | undefined {
  const ms = call.getDeadline();
  if (!Number.isFinite(ms)) return undefined;
  return performance.now() + (ms - Date.now());
}

/** Unknown model: NOT_FOUND; known but loading or unavailable: ready false. */
function modelReady(dp: DataPlane, req: ModelRequest): boolean {
  if (!req.name) throw invalid('name is required');
  try {
    dp.modelReady(req.name, req.version || undefined);
    return true;
  } catch (e) {
    if (isFerryError(e) && e.code === 'UNAVAILABLE') return false;
    throw e;
  }
}
