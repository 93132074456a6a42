/**
 * The server under test, per protocol: its model metadata, the request encoded once for its wire, a first
 * request decoded in full (to prove the server answers V2 inference responses before measuring it), and a sender
 * per level. Client errors become BenchErrors that say what to fix.
 */
import * as grpc from '@grpc/grpc-js';
import {
  V2ClientError, V2GrpcClient, V2HttpClient, decodeGrpcInferResponse, decodeInferReply, encodeGrpcInferRequest, encodeRestRequest,
  inferPath, restErrorMessage, toGrpcInferRequest, type EncodedRestRequest, type InferResult, type ModelMetadata, type RestEncoding,
} from '../client/index.js';
import { BenchError } from './bench-error.js';
import { grpcSender } from './grpc-sender.js';
import { httpSender } from './http-sender.js';
import { socketSender } from './socket-sender.js';
import type { Load } from './load-loop.js';
import type { ResolvedOptions } from './options.js';
import type { RequestSender } from './sender.js';
import type { FileRequest } from './input-file.js';
import type { PreparedRequest } from './random-inputs.js';

/** A first request that came back with an error status: the run goes on (and reports it), with a warning. */
export class FirstRequestFailed extends Error {}

export interface Target {
  /** The HTTP base URL or gRPC host:port that inference goes to. */
  readonly address: string;
  metadata(): Promise<ModelMetadata>;
  /** Encodes the request once; returns its size in bytes. */
  prepare(prepared: PreparedRequest | FileRequest): number;
  /** One request decoded in full. Throws FirstRequestFailed for an error status, BenchError when not V2. */
  probe(): Promise<InferResult>;
  sender(load: Load): RequestSender;
  close(): void;
}

export function openTarget(o: ResolvedOptions): Target {
  return o.protocol === 'http' ? new HttpTarget(o) : new GrpcTarget(o);
}

function what(o: ResolvedOptions): string {
  return `model '${o.model}'${o.modelVersion ? ` version ${o.modelVersion}` : ''}`;
}

/** Unknown model, not ready, unreachable: each said in words. */
function metadataError(e: unknown, o: ResolvedOptions, where: string): unknown {
  if (!(e instanceof V2ClientError)) return e;
  if (e.kind === 'network') return new BenchError(e.message);
  if (e.notFound) return new BenchError(`${what(o)} not found at ${where}: ${e.serverMessage}`);
  if (e.unavailable) return new BenchError(`${what(o)} is not ready at ${where}: ${e.serverMessage}`);
  return new BenchError(`cannot read the metadata of ${what(o)} at ${where}: ${e.message}`);
}

function notV2(e: unknown, where: string): BenchError {
  return new BenchError(`the answer to the first inference request at ${where} is not a V2 inference response: ${(e as Error).message}`);
}

function checkOutputs(result: InferResult, where: string): InferResult {
  if (result.outputs.length === 0) throw new BenchError(`the answer to the first inference request at ${where} has no outputs`);
  return result;
}

class HttpTarget implements Target {
  readonly address: string;
  private readonly client: V2HttpClient;
  private readonly path: string;
  private encoded: EncodedRestRequest | undefined;

  constructor(private readonly o: ResolvedOptions) {
    this.client = new V2HttpClient(o.url.href, { timeoutMs: o.timeoutMs, maxSockets: 1 });
    this.address = this.client.url;
    this.path = inferPath(o.model, o.modelVersion);
  }

  async metadata(): Promise<ModelMetadata> {
    try {
      return await this.client.modelMetadata(this.o.model, this.o.modelVersion);
    } catch (e) {
      throw metadataError(e, this.o, this.address);
    }
  }

  prepare(prepared: PreparedRequest | FileRequest): number {
    const encoding = this.o.encoding as RestEncoding;
    if (encoding === 'json' && 'text' in prepared) {
      const body = Buffer.from(prepared.text, 'utf8'); // the user's file, byte for byte
      this.encoded = { body, headers: { 'Content-Type': 'application/json', 'Content-Length': String(body.length) } };
    } else {
      this.encoded = encodeRestRequest(prepared.request, encoding);
    }
    return this.encoded.body.length;
  }

  async probe(): Promise<InferResult> {
    const encoded = this.encoded!;
    let reply;
    try {
      reply = await this.client.request('POST', this.path, encoded.body, encoded.headers);
    } catch (e) {
      throw new BenchError((e as Error).message);
    }
    if (reply.status !== 200) throw new FirstRequestFailed(`HTTP ${reply.status}: ${restErrorMessage(reply.body.toString('utf8'))}`);
    let result: InferResult;
    try {
      result = decodeInferReply(reply);
    } catch (e) {
      throw notV2(e, this.address);
    }
    return checkOutputs(result, this.address);
  }

  sender(load: Load): RequestSender {
    return (this.o.url.protocol === 'http:' ? socketSender : httpSender)({
      url: this.o.url,
      path: this.path,
      encoded: this.encoded!,
      maxSockets: load.mode === 'concurrency' ? load.concurrency : load.maxInFlight,
      timeoutMs: this.o.timeoutMs,
    });
  }

  close(): void {
    this.client.close();
  }
}

class GrpcTarget implements Target {
  readonly address: string;
  private readonly client: V2GrpcClient;
  private encoded: Buffer | undefined;

  constructor(private readonly o: ResolvedOptions) {
    // Its own connection, so close() really closes it (a shared one lingers in grpc-js's pool after close).
    this.client = new V2GrpcClient(o.grpcAddress, { timeoutMs: o.timeoutMs || 30_000, ownConnection: true });
    this.address = this.client.address;
  }

  async metadata(): Promise<ModelMetadata> {
    try {
      return await this.client.modelMetadata(this.o.model, this.o.modelVersion);
    } catch (e) {
      throw metadataError(e, this.o, this.address);
    }
  }

  prepare(prepared: PreparedRequest | FileRequest): number {
    try {
      this.encoded = encodeGrpcInferRequest(toGrpcInferRequest(this.o.model, this.o.modelVersion, prepared.request, this.o.encoding === 'typed' ? 'typed' : 'raw'));
    } catch (e) {
      throw new BenchError((e as Error).message);
    }
    return this.encoded.length;
  }

  probe(): Promise<InferResult> {
    return new Promise((resolve, reject) => {
      const deadline = this.o.timeoutMs > 0 ? Date.now() + this.o.timeoutMs : undefined;
      this.client.inferEncoded(this.encoded!, deadline, (error, reply) => {
        if (error) return reject(new FirstRequestFailed(`gRPC ${error.code === undefined ? '' : codeName(error.code)}: ${error.details}`));
        try {
          resolve(checkOutputs(decodeGrpcInferResponse(reply!), this.address));
        } catch (e) {
          reject(e instanceof BenchError ? e : notV2(e, this.address));
        }
      });
    });
  }

  sender(): RequestSender {
    return grpcSender({ address: this.o.grpcAddress, encoded: this.encoded!, connections: this.o.connections, timeoutMs: this.o.timeoutMs });
  }

  close(): void {
    this.client.close();
  }
}

function codeName(code: number): string {
  return grpc.status[code] ?? String(code);
}
