/**
 * A gRPC server on node:http2, for unary and streaming methods described the way @grpc/proto-loader describes
 * them (path, serializers, stream flags), with grpc-js's addService() surface so the health and reflection
 * libraries register on it unchanged.
 *
 * Why not @grpc/grpc-js's own server: measured on this project's 2-core machine (BENCHMARKS.md), a grpc-js server
 * answering a fixed ModelInferResponse reaches only about 0.4x the node:http JSON ceiling, below the 0.5x target for
 * ferry's whole inference path; the per-call cost is grpc-js's server machinery (interceptor chain, call objects,
 * metadata parsing, per-call timers), not HTTP/2 or protobuf. This file keeps what a gRPC server owes its clients
 * (status trailers and trailers-only errors, grpc-timeout deadlines, gzip/deflate request messages, message size
 * limits, UNIMPLEMENTED for unknown methods, HTTP 405/415 for non-gRPC requests, graceful GOAWAY on stop) and
 * nothing else. The client side stays grpc-js.
 */
import http2, { type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { GrpcCode } from './codes.js';
import { encodeGrpcMessage, parseGrpcTimeout } from './framing.js';
import { ACCEPT_ENCODING, ServerCall, supportedEncoding, type Handler, type MethodDefinition } from './server-call.js';

export type ServiceDefinition = Readonly<Record<string, MethodDefinition>>;
/** Undefined when a service's calls can start; otherwise what they must wait for. */
export type Prepare = () => Promise<void> | undefined;
// `any`: handlers of any message type, as grpc-js types them.
export type ServiceImplementation = Readonly<Record<string, (...args: any[]) => void>>;

export interface Http2GrpcServerOptions {
  /** Largest request message accepted (after decompression); larger ones are RESOURCE_EXHAUSTED. */
  readonly maxMessageBytes: number;
  /** Asked before any call is routed: a status to refuse it with (say UNAUTHENTICATED), or undefined to go on. */
  readonly authorize?: (headers: IncomingHttpHeaders) => { code: number; message: string } | undefined;
}

export class Http2GrpcServer {
  private readonly handlers = new Map<string, { method: MethodDefinition; handler: Handler; prepare: Prepare | undefined }>();
  private readonly sessions = new Set<ServerHttp2Session>();
  /** Streaming-response calls stay open indefinitely (health Watch): stop() ends them. */
  private readonly streamingCalls = new Set<ServerCall>();
  private readonly server: http2.Http2Server;

  constructor(private readonly options: Http2GrpcServerOptions) {
    // Node's default session memory cap (10 MB) stalls large messages; grpc-js lifts it the same way.
    this.server = http2.createServer({ maxSessionMemory: Number.MAX_SAFE_INTEGER, maxSendHeaderBlockLength: Number.MAX_SAFE_INTEGER });
    this.server.on('session', (session) => {
      this.sessions.add(session);
      session.on('error', () => {}); // a client that resets its connection must not take the server down
      session.once('close', () => this.sessions.delete(session));
    });
    this.server.on('stream', (stream, headers) => this.dispatch(stream, headers));
  }

  /**
   * Registers a service's methods (grpc-js's signature: a method is found by its key or its originalName). `prepare`,
   * when given, is asked before each call: a promise it returns (its serializers still loading) holds the call until
   * it settles.
   */
  addService(service: ServiceDefinition, implementation: ServiceImplementation, prepare?: Prepare): void {
    for (const [name, method] of Object.entries(service)) {
      const fn = implementation[name] ?? (method.originalName ? implementation[method.originalName] : undefined);
      const handler: Handler = fn ? fn.bind(implementation) : (call) => call.finish(GrpcCode.UNIMPLEMENTED, `The server does not implement the method ${method.path}`);
      if (this.handlers.has(method.path)) throw new Error(`a handler for ${method.path} is already registered`);
      this.handlers.set(method.path, { method, handler, prepare });
    }
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  /**
   * Serves a connection accepted elsewhere (a port that also speaks HTTP/1.1 and hands over those that open with
   * the HTTP/2 preface). Bytes already read from it must have been unshifted back; node:http2 reads them first.
   */
  acceptConnection(socket: Socket): void {
    this.server.emit('connection', socket);
  }

  /** GOAWAY to every connection, lets calls in flight finish, then closes; destroys what is left after the timeout. */
  stop(timeoutMs: number, onTimeout?: () => void): Promise<void> {
    for (const call of this.streamingCalls) call.finish(GrpcCode.UNAVAILABLE, 'the server is shutting down');
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        onTimeout?.();
        for (const session of this.sessions) session.destroy();
      }, timeoutMs);
      timer.unref();
      this.server.close(() => {
        clearTimeout(timer);
        resolve();
      });
      for (const session of this.sessions) session.close();
    });
  }

  private dispatch(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    stream.on('error', () => {}); // resets by the client end the call ('close'); nothing to report
    if (headers[':method'] !== 'POST') return respondHttp(stream, 405, { allow: 'POST' });
    const contentType = headers['content-type'];
    if (typeof contentType !== 'string' || !contentType.startsWith('application/grpc')) return respondHttp(stream, 415, {});
    const refused = this.options.authorize?.(headers);
    if (refused) return trailersOnly(stream, refused.code, refused.message);
    const path = headers[':path'] ?? '';
    const entry = this.handlers.get(path);
    if (!entry) return trailersOnly(stream, GrpcCode.UNIMPLEMENTED, `The server does not implement the method ${path}`);
    const preparing = entry.prepare?.();
    if (preparing) {
      // The request's bytes wait in the stream (it is not read until the call starts), under HTTP/2 flow control.
      preparing.then(
        () => !stream.destroyed && this.dispatch(stream, headers),
        (e: unknown) => !stream.destroyed && trailersOnly(stream, GrpcCode.INTERNAL, `the server could not load the message codecs of ${path}: ${e instanceof Error ? e.message : String(e)}`),
      );
      return;
    }
    const encoding = headers['grpc-encoding'];
    if (!supportedEncoding(encoding)) return trailersOnly(stream, GrpcCode.UNIMPLEMENTED, `grpc-encoding '${String(encoding)}' is not supported: use ${ACCEPT_ENCODING}`);
    const streaming = entry.method.responseStream;
    const call = new ServerCall(stream, headers, entry.method, this.options.maxMessageBytes, parseGrpcTimeout(headers['grpc-timeout']), streaming ? (c) => this.streamingCalls.delete(c) : noop);
    if (streaming) this.streamingCalls.add(call);
    call.start(entry.handler);
  }
}

function noop(): void {}

function respondHttp(stream: ServerHttp2Stream, status: number, headers: Record<string, string>): void {
  stream.respond({ ':status': status, ...headers }, { endStream: true });
  stream.resume();
}

function trailersOnly(stream: ServerHttp2Stream, code: number, message: string): void {
  stream.respond({ ':status': 200, 'content-type': 'application/grpc+proto', 'grpc-accept-encoding': ACCEPT_ENCODING, 'grpc-status': String(code), 'grpc-message': encodeGrpcMessage(message) }, { endStream: true });
  stream.resume();
}
