/**
 * One gRPC call on one HTTP/2 stream: reads the length-prefixed request messages, hands them to the method's
 * handler, writes the response messages, and ends with the grpc-status trailer. It exposes the call surface that
 * handlers written for @grpc/grpc-js use (request, write, end, 'data'/'end'/'cancelled' events, getDeadline,
 * metadata), so grpc-health-check and @grpc/reflection run on it unchanged.
 */
import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type * as Zlib from 'node:zlib';
import { lazyBuiltin } from '../../lazy-builtin.js';
import { GrpcCode, type GrpcStatusError } from './codes.js';
import { encodeGrpcMessage, frameMessage, MessageReader, MessageTooLarge, type ReceivedMessage } from './framing.js';

export interface MethodDefinition {
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
  readonly requestDeserialize: (bytes: Buffer) => unknown;
  readonly responseSerialize: (value: unknown) => Uint8Array;
  readonly originalName?: string;
}

export type Callback = (error: GrpcStatusError | null | undefined, value?: unknown) => void;
export type Handler = (call: ServerCall, callback: Callback) => void;

/** Encodings a request message may arrive in; the answer always goes out uncompressed (grpc-js's default too). */
export const ACCEPT_ENCODING = 'identity,deflate,gzip';
const zlib = lazyBuiltin<typeof Zlib>('node:zlib');
const DECOMPRESSORS: Readonly<Record<string, () => typeof Zlib.gunzip>> = { gzip: () => zlib().gunzip, deflate: () => zlib().inflate };
export const supportedEncoding = (encoding: string | string[] | undefined): boolean => encoding === undefined || encoding === 'identity' || (typeof encoding === 'string' && Object.hasOwn(DECOMPRESSORS, encoding));

const NO_ERROR = 0; // HTTP/2 RST_STREAM NO_ERROR: "the answer is complete, stop sending"

export class ServerCall extends EventEmitter {
  request: unknown;
  cancelled = false;
  private done = false;
  private headersSent = false;
  private readonly reader: MessageReader;
  private readonly deadline: number;
  private timer: NodeJS.Timeout | undefined;
  private trailers: Record<string, string> = { 'grpc-status': '0' };
  private extraTrailers: Record<string, string> | undefined;
  /** Decoding of the messages received so far (decompression is asynchronous; order is kept by chaining). */
  private inbox: Promise<void> = Promise.resolve();
  /** Steps waiting in `inbox` (a message being decompressed, what came after it): while any do, the next waits too. */
  private queued = 0;

  constructor(
    private readonly stream: ServerHttp2Stream,
    private readonly headers: IncomingHttpHeaders,
    private readonly method: MethodDefinition,
    private readonly maxMessageBytes: number,
    timeoutMs: number | undefined,
    private readonly onFinish: (call: ServerCall) => void,
  ) {
    super();
    this.reader = new MessageReader(maxMessageBytes);
    this.deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
    if (timeoutMs !== undefined) this.timer = setTimeout(() => this.finish(GrpcCode.DEADLINE_EXCEEDED, 'Deadline exceeded'), timeoutMs);
    stream.on('close', () => {
      if (this.done) return;
      this.done = true;
      this.cancelled = true;
      clearTimeout(this.timer);
      this.onFinish(this);
      this.emit('cancelled', 'cancelled');
    });
  }

  /** Starts reading: a unary or server-streaming call gets its one message as `request`; streaming requests emit 'data'. */
  start(handler: Handler): void {
    const single = !this.method.requestStream;
    const received: unknown[] = [];
    this.stream.on('data', (chunk: Buffer) => {
      if (this.done) return;
      let messages: ReceivedMessage[];
      try {
        messages = this.reader.push(chunk);
      } catch (e) {
        if (e instanceof MessageTooLarge) this.finish(GrpcCode.RESOURCE_EXHAUSTED, `Received message larger than max (${e.size} vs. ${e.limit})`);
        // Not thrown from an event handler, which would end the process: the only other failure is memory.
        else this.finish(GrpcCode.RESOURCE_EXHAUSTED, `could not hold the request message: ${e instanceof Error ? e.message : String(e)}`);
        return;
      }
      for (const message of messages) this.receive(message, single ? (v) => received.push(v) : (v) => this.emit('data', v));
    });
    this.stream.on('end', () => {
      this.inOrder(() => {
        if (this.done) return;
        if (this.reader.incomplete) return this.finish(GrpcCode.INTERNAL, 'the request ended inside a message');
        if (!single) return void this.emit('end');
        if (received.length !== 1) return this.finish(GrpcCode.UNIMPLEMENTED, `expected one request message for ${this.method.path}, got ${received.length}`);
        this.request = received[0];
        this.invoke(handler);
      });
    });
    if (!single) this.invoke(handler);
  }

  /** Sends one response message. */
  write(value: unknown): boolean {
    if (this.done) return false;
    let bytes: Uint8Array;
    try {
      bytes = this.method.responseSerialize(value);
    } catch (e) {
      this.finish(GrpcCode.INTERNAL, `cannot serialize the response: ${(e as Error).message}`);
      return false;
    }
    this.sendHeaders();
    return this.stream.write(frameMessage(bytes));
  }

  /** A unary call's answer: its one message and the OK status, in one write (the stream's end carries the message). */
  private answer(value: unknown): void {
    if (this.done) return;
    let bytes: Uint8Array;
    try {
      bytes = this.method.responseSerialize(value);
    } catch (e) {
      return this.finish(GrpcCode.INTERNAL, `cannot serialize the response: ${(e as Error).message}`);
    }
    this.finish(GrpcCode.OK, '', bytes);
  }

  /** Ends a streaming response with OK. */
  end(): void {
    this.finish(GrpcCode.OK, '');
  }

  /** Ends the call with an error status (grpc-js's way for streaming handlers). */
  destroy(error?: GrpcStatusError): this {
    this.finish(error?.code ?? GrpcCode.UNKNOWN, error?.details ?? error?.message ?? '');
    return this;
  }

  getDeadline(): number {
    return this.deadline;
  }

  /** The client's IP address, as its socket says it (undefined once the socket is gone). */
  peerAddress(): string | undefined {
    return this.stream.session?.socket?.remoteAddress;
  }

  getPeer(): string {
    const socket = this.stream.session?.socket;
    return socket ? `${socket.remoteAddress}:${socket.remotePort}` : 'unknown';
  }

  /** The request's headers as node:http2 gives them (lower-case names, pseudo-headers included). */
  get requestHeaders(): IncomingHttpHeaders {
    return this.headers;
  }

  /** Adds a trailing metadata entry to an OK answer (sent with grpc-status; ignored once the call has ended). */
  setTrailer(name: string, value: string): void {
    (this.extraTrailers ??= {})[name] = value;
  }

  /** The request's custom metadata (headers), read the way grpc-js's Metadata is: get(key) -> values. */
  get metadata(): { get(key: string): string[]; getMap(): Record<string, string> } {
    const headers = this.headers;
    return {
      get: (key) => {
        const v = headers[key.toLowerCase()];
        return v === undefined ? [] : Array.isArray(v) ? v : [String(v)];
      },
      getMap: () => Object.fromEntries(Object.entries(headers).filter(([k]) => !k.startsWith(':')).map(([k, v]) => [k, String(v)])),
    };
  }

  /**
   * Ends the call with a status: trailers after the messages, or a trailers-only answer when nothing was sent.
   * `last`, a message that goes out with the end of the stream (a unary answer: one write for it and its status).
   */
  finish(code: number, message: string, last?: Uint8Array): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    this.onFinish(this);
    const stream = this.stream;
    if (stream.destroyed || stream.closed) return;
    const status: Record<string, string> = code === GrpcCode.OK && this.extraTrailers ? { ...this.extraTrailers, 'grpc-status': '0' } : { 'grpc-status': String(code) };
    if (message) status['grpc-message'] = encodeGrpcMessage(message);
    if (last) {
      this.sendHeaders();
      this.trailers = status;
      stream.end(frameMessage(last));
    } else if (this.headersSent) {
      this.trailers = status;
      stream.end();
    } else {
      this.headersSent = true;
      stream.respond({ ':status': 200, 'content-type': 'application/grpc+proto', 'grpc-accept-encoding': ACCEPT_ENCODING, ...status }, { endStream: true });
    }
    // A client still sending (an oversized message, an early error) is told to stop; the answer is complete.
    if (!stream.readableEnded) {
      stream.resume();
      stream.close(NO_ERROR);
    }
  }

  private sendHeaders(): void {
    if (this.headersSent) return;
    this.headersSent = true;
    this.stream.respond({ ':status': 200, 'content-type': 'application/grpc+proto', 'grpc-accept-encoding': ACCEPT_ENCODING }, { waitForTrailers: true });
    this.stream.once('wantTrailers', () => this.stream.sendTrailers(this.trailers));
  }

  private invoke(handler: Handler): void {
    try {
      handler(this, (error, value) => {
        if (error) return this.finish(error.code ?? GrpcCode.UNKNOWN, error.details ?? error.message ?? '');
        if (!this.method.responseStream) return this.answer(value);
        if (this.write(value)) this.end();
        else if (!this.done) this.stream.once('drain', () => this.end());
      });
    } catch (e) {
      this.finish(GrpcCode.UNKNOWN, `the handler failed: ${(e as Error).message}`);
    }
  }

  /** Decompresses (when flagged) and deserializes one message, in arrival order. */
  private receive(message: ReceivedMessage, deliver: (value: unknown) => void): void {
    const decode = (bytes: Buffer): void => {
      if (this.done) return;
      let value: unknown;
      try {
        value = this.method.requestDeserialize(bytes);
      } catch (e) {
        return this.finish(GrpcCode.INTERNAL, `Error deserializing request: ${(e as Error).message}`);
      }
      deliver(value);
    };
    if (!message.compressed) {
      this.inOrder(() => decode(message.bytes));
      return;
    }
    const encoding = this.headers['grpc-encoding'];
    const decompress = typeof encoding === 'string' && Object.hasOwn(DECOMPRESSORS, encoding) ? DECOMPRESSORS[encoding]!() : undefined;
    if (!decompress) return this.finish(GrpcCode.INTERNAL, `a compressed message arrived with grpc-encoding '${String(encoding ?? 'identity')}'`);
    this.queued++;
    this.inbox = this.inbox.then(() => new Promise<void>((resolve) => {
      decompress(message.bytes, { maxOutputLength: this.maxMessageBytes }, (error, bytes) => {
        this.queued--;
        if (!error) decode(bytes);
        else if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') this.finish(GrpcCode.RESOURCE_EXHAUSTED, `Received message larger than max (decompressed, over ${this.maxMessageBytes})`);
        else this.finish(GrpcCode.INTERNAL, `cannot decompress the request: ${error.message}`);
        resolve();
      });
    }));
  }

  /**
   * Runs `step` after every message received before it: at once when nothing is waiting (the usual uncompressed
   * call, which then costs no promise), else after what waits.
   */
  private inOrder(step: () => void): void {
    if (this.queued === 0) return step();
    this.queued++;
    this.inbox = this.inbox.then(() => {
      this.queued--;
      step();
    });
  }
}
