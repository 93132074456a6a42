/**
 * The V2 gRPC front (inference.GRPCInferenceService) on @grpc/grpc-js, with server reflection (grpcurl) and the
 * standard grpc.health.v1 service (Kubernetes gRPC probes), both loaded on their first call (lazy-services.ts). Each
 * method only converts and calls the data plane.
 */
import * as grpc from '@grpc/grpc-js';
import { invalid, isFerryError, messageOf } from '../../errors.js';
import type { DataPlane } from '../../dataplane/dataplane.js';
import type { Logger } from '../../observe/logger.js';
import { inferRequestFromGrpc, inferResponseToGrpc, usesRawInputs } from './converters.js';
import type { ModelInferRequest, ModelRequest } from './messages.js';
import { addLazyReflection, LazyHealth } from './lazy-services.js';
import { loadV2Service, V2_SERVICE } from './proto.js';
import { GRPC_STATUS } from './status.js';

export interface GrpcFrontOptions {
  /** Largest message accepted; larger ones get RESOURCE_EXHAUSTED from grpc-js itself. */
  readonly maxMessageBytes: number;
}

type Handler<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) => void;

export class GrpcFront {
  readonly server: grpc.Server;
  private readonly health = new LazyHealth({ '': 'NOT_SERVING', [V2_SERVICE]: 'NOT_SERVING' });

  constructor(
    private readonly dataplane: DataPlane,
    options: GrpcFrontOptions,
    private readonly log: Logger,
  ) {
    this.server = new grpc.Server({
      'grpc.max_receive_message_length': options.maxMessageBytes,
      'grpc.max_send_message_length': -1,
    });
    this.server.addService(loadV2Service(), this.methods());
    addLazyReflection(this.server);
    this.health.addToServer(this.server);
  }

  /** Mirrors the data plane's readiness into grpc.health.v1 (for '' and for the V2 service). */
  syncHealth(): void {
    const status = this.dataplane.ready() ? 'SERVING' : 'NOT_SERVING';
    this.health.setStatus('', status);
    this.health.setStatus(V2_SERVICE, status);
  }

  listen(host: string, port: number): Promise<number> {
    const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    return new Promise((resolve, reject) => {
      this.server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound)));
    });
  }

  /** Lets calls in flight finish, then closes; forces the rest after the timeout. */
  stop(timeoutMs: number): Promise<void> {
    this.syncHealth();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.log.warn(`gRPC calls still open after ${timeoutMs} ms; closing them`);
        this.server.forceShutdown();
        resolve();
      }, timeoutMs);
      timer.unref();
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private methods(): grpc.UntypedServiceImplementation {
    const dp = this.dataplane;
    return {
      ServerLive: this.unary(() => ({ live: true })),
      ServerReady: this.unary(() => ({ ready: dp.ready() })),
      ModelReady: this.unary((req: ModelRequest) => ({ ready: modelReady(dp, req) })),
      ServerMetadata: this.unary(() => dp.serverMetadata()),
      ModelMetadata: this.unary((req: ModelRequest) => dp.modelMetadata(req.name, req.version || undefined)),
      ModelInfer: this.unary(async (req: ModelInferRequest, call) => {
        const response = await dp.infer(inferRequestFromGrpc(req, deadlineOf(call)));
        return inferResponseToGrpc(response, usesRawInputs(req));
      }),
    };
  }

  /** Wraps a method: errors become gRPC statuses with the same messages as REST. */
  private unary<Req, Res>(fn: (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Res | Promise<Res>): Handler<Req, Res> {
    return (call, callback) => {
      let result: Res | Promise<Res>;
      try {
        result = fn(call.request, call);
      } catch (e) {
        callback(this.toStatus(e));
        return;
      }
      if (result instanceof Promise) result.then((r) => callback(null, r), (e: unknown) => callback(this.toStatus(e)));
      else callback(null, result);
    };
  }

  private toStatus(e: unknown): Partial<grpc.StatusObject> {
    if (isFerryError(e)) return { code: GRPC_STATUS[e.code], details: e.message };
    this.log.error({ err: e }, `gRPC call failed: ${messageOf(e)}`);
    return { code: grpc.status.INTERNAL, details: `internal error: ${messageOf(e)}` };
  }
}

/** The call's gRPC deadline (grpc-timeout) as a performance.now() time; undefined when it has none. */
function deadlineOf(call: grpc.ServerUnaryCall<unknown, unknown>): number | undefined {
  const d = call.getDeadline();
  const ms = d instanceof Date ? d.getTime() : d;
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
