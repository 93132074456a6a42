/**
 * A V2 gRPC client on @grpc/grpc-js, built from the project's .proto: metadata and inference with tensors, plus
 * `inferEncoded`, which sends an already serialized ModelInferRequest and hands back the undecoded reply, so a load
 * generator pays for protobuf encoding once, not on every call.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';
import { V2ClientError } from './client-error.js';
import { fromGrpcInferResponse, toGrpcInferRequest, type GrpcContents, type GrpcInferRequest, type GrpcInferResponse } from './grpc-codec.js';
import type { InferRequest, InferResult, ModelMetadata } from './types.js';

// src/client and dist/client both sit two levels below the package root, where proto/ is.
const V2_PROTO = fileURLToPath(new URL('../../proto/grpc_predict_v2.proto', import.meta.url));
const LOADER_OPTIONS: protoLoader.Options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };
const SERVICE = 'inference.GRPCInferenceService';
const MODEL_INFER_PATH = `/${SERVICE}/ModelInfer`;

let definition: protoLoader.PackageDefinition | undefined;
/** Parsed once per process: loading the .proto takes milliseconds, and every channel shares it. */
function v2Definition(): protoLoader.PackageDefinition {
  return (definition ??= protoLoader.loadSync(V2_PROTO, LOADER_OPTIONS));
}

function method(name: string): grpc.MethodDefinition<object, object> {
  return (v2Definition()[SERVICE] as grpc.ServiceDefinition)[name] as grpc.MethodDefinition<object, object>;
}

/** A ModelInferRequest serialized once, to send many times. */
export function encodeGrpcInferRequest(request: GrpcInferRequest): Buffer {
  return method('ModelInfer').requestSerialize(request);
}

export function decodeGrpcInferResponse(bytes: Buffer): InferResult {
  return fromGrpcInferResponse(method('ModelInfer').responseDeserialize(bytes) as GrpcInferResponse);
}

export interface GrpcClientOptions {
  /** Milliseconds a call may take (its deadline); 0 for none. Default 30 s. */
  readonly timeoutMs?: number;
  /**
   * Give this client its own connection. grpc-js otherwise shares one connection per address among all clients
   * in the process, so N clients would still be one TCP connection.
   */
  readonly ownConnection?: boolean;
}

export interface GrpcInferOptions {
  readonly version?: string;
  /** Default 'raw'. */
  readonly contents?: GrpcContents;
}

const identity = (b: Buffer): Buffer => b;
type ServiceClient = grpc.Client & Record<string, (req: object, md: grpc.Metadata, opts: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r: any) => void) => void>;

export class V2GrpcClient {
  readonly address: string;
  private readonly client: ServiceClient;
  private readonly timeoutMs: number;

  constructor(address: string, options: GrpcClientOptions = {}) {
    this.address = address.replace(/^grpc:\/\//, '');
    this.timeoutMs = options.timeoutMs ?? 30_000;
    const Service = grpc.makeClientConstructor(v2Definition()[SERVICE] as grpc.ServiceDefinition, SERVICE);
    this.client = new Service(this.address, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': -1,
      'grpc.max_send_message_length': -1,
      ...(options.ownConnection ? { 'grpc.use_local_subchannel_pool': 1 } : {}),
    }) as unknown as ServiceClient;
  }

  async serverLive(): Promise<boolean> {
    return (await this.call<{ live: boolean }>('ServerLive', {})).live;
  }

  async serverReady(): Promise<boolean> {
    return (await this.call<{ ready: boolean }>('ServerReady', {})).ready;
  }

  async modelReady(model: string, version?: string): Promise<boolean> {
    return (await this.call<{ ready: boolean }>('ModelReady', { name: model, version: version ?? '' })).ready;
  }

  async modelMetadata(model: string, version?: string): Promise<ModelMetadata> {
    const m = await this.call<{ name: string; versions: string[]; platform: string; inputs: Tm[]; outputs: Tm[] }>('ModelMetadata', { name: model, version: version ?? '' });
    const tensors = (ts: Tm[]) => ts.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape.map(Number) }));
    return { name: m.name, versions: m.versions, platform: m.platform, inputs: tensors(m.inputs), outputs: tensors(m.outputs) };
  }

  async infer(model: string, request: InferRequest, options: GrpcInferOptions = {}): Promise<InferResult> {
    const message = toGrpcInferRequest(model, options.version, request, options.contents ?? 'raw');
    return fromGrpcInferResponse(await this.call<GrpcInferResponse>('ModelInfer', message));
  }

  /**
   * Sends a serialized ModelInferRequest (see encodeGrpcInferRequest); the callback gets the serialized reply, or
   * the error status. It is called once the call's status has arrived, so a completed call is really complete.
   */
  inferEncoded(request: Buffer, deadline: grpc.Deadline | undefined, callback: (error: grpc.ServiceError | null, reply?: Buffer) => void): void {
    this.client.makeUnaryRequest(MODEL_INFER_PATH, identity, identity, request, deadline === undefined ? {} : { deadline }, callback);
  }

  /** Resolves once the connection is up (grpc-js connects lazily, on the first call, otherwise). */
  waitForReady(deadline: grpc.Deadline): Promise<void> {
    return new Promise((resolve, reject) => {
      this.client.waitForReady(deadline, (error) => {
        if (error) reject(new V2ClientError('network', `cannot reach ${this.address}: ${error.message}`));
        else resolve();
      });
    });
  }

  close(): void {
    this.client.close();
  }

  private call<T>(name: string, request: object): Promise<T> {
    const options = this.timeoutMs ? { deadline: Date.now() + this.timeoutMs } : {};
    return new Promise((resolve, reject) => {
      this.client[name]!(request, new grpc.Metadata(), options, (error, response: T) => {
        if (!error) return resolve(response);
        const code = grpc.status[error.code] ?? String(error.code);
        // grpc-js also says UNAVAILABLE when nothing listens; a server's own UNAVAILABLE (not ready) comes over a
        // connection that is up, so the channel's state tells the two apart.
        const connected = this.client.getChannel().getConnectivityState(false) === grpc.connectivityState.READY;
        if (error.code === grpc.status.UNAVAILABLE && !connected) {
          return reject(new V2ClientError('network', `cannot reach ${this.address}: ${error.details.replace(/\.?\s*Resolution note:\s*$/, '')}`));
        }
        reject(new V2ClientError('status', `gRPC ${code}: ${error.details}`, code, error.details));
      });
    });
  }
}

interface Tm {
  name: string;
  datatype: string;
  shape: (string | number)[];
}
