/**
 * Sends one pre-serialized ModelInferRequest per call over N HTTP/2 connections, round-robin, speaking gRPC's wire
 * format on node:http2 directly rather than through grpc-js's client: the generator shares the CPU with the server
 * it measures, and with grpc-js's client `ferry bench` measured ferry's gRPC throughput at 0.72x of what a
 * node:http2 generator measured on the same server (BENCHMARKS.md at 87593bc: 7,218 vs 10,094 req/s). A call counts as done only once its grpc-status is read (trailers, or
 * the header of a trailers-only answer), because HTTP/2 load generators that stop at the response headers count
 * gRPC errors as successes. A non-OK status is a failure named by its code. The reply is not decoded.
 */
import http2, { type ClientHttp2Session } from 'node:http2';
import { frameMessage } from '../protocol/grpc-http2/framing.js';
import { GrpcCode } from '../protocol/grpc-http2/codes.js';
import type { Done, RequestSender } from './sender.js';

export interface GrpcSenderOptions {
  readonly address: string;
  readonly encoded: Buffer;
  readonly connections: number;
  readonly timeoutMs: number;
}

const CODE_NAMES = new Map<string, string>(Object.entries(GrpcCode).map(([name, code]) => [String(code), name]));

export function grpcSender(options: GrpcSenderOptions): RequestSender {
  const frame = frameMessage(options.encoded);
  const headers: http2.OutgoingHttpHeaders = {
    ':method': 'POST',
    ':path': '/inference.GRPCInferenceService/ModelInfer',
    'content-type': 'application/grpc',
    te: 'trailers',
    ...(options.timeoutMs > 0 ? { 'grpc-timeout': `${Math.ceil(options.timeoutMs)}m` } : {}),
  };
  const sessions: ClientHttp2Session[] = [];
  let closed = false;
  let next = 0;

  const open = (i: number): ClientHttp2Session => {
    const session = http2.connect(`http://${options.address}`);
    session.on('error', () => {}); // each call on it reports the failure
    session.once('close', () => {
      if (!closed && sessions[i] === session) sessions[i] = open(i); // a connection lost mid-run is reopened
    });
    sessions[i] = session;
    return session;
  };

  return {
    send(done: Done): void {
      const session = sessions[next++ % sessions.length]!;
      let req: http2.ClientHttp2Stream;
      try {
        req = session.request(headers);
      } catch (e) {
        done({ kind: 'connection', message: (e as Error).message });
        return;
      }
      let httpStatus = 0;
      let grpcStatus: string | undefined;
      let grpcMessage = '';
      let failure: string | undefined;
      const readStatus = (h: http2.IncomingHttpHeaders): void => {
        if (h['grpc-status'] !== undefined) grpcStatus = String(h['grpc-status']);
        if (h['grpc-message'] !== undefined) grpcMessage = decodeGrpcMessage(String(h['grpc-message']));
      };
      req.on('response', (h) => {
        httpStatus = Number(h[':status']);
        readStatus(h);
      });
      req.on('trailers', readStatus);
      req.on('data', () => {});
      req.on('error', (e) => (failure = e.message));
      req.on('close', () => {
        if (grpcStatus === '0') return done(undefined);
        if (grpcStatus !== undefined) return done({ kind: `gRPC ${CODE_NAMES.get(grpcStatus) ?? grpcStatus}`, message: grpcMessage });
        if (httpStatus !== 0 && httpStatus !== 200) return done({ kind: `HTTP ${httpStatus}`, message: 'not a gRPC answer' });
        done({ kind: 'no grpc-status', message: failure ?? 'the stream closed without a gRPC status' });
      });
      req.end(frame);
    },
    async connect(): Promise<void> {
      await Promise.all(Array.from({ length: options.connections }, (_, i) => new Promise<void>((resolve, reject) => {
        const session = open(i);
        session.once('connect', () => resolve());
        session.once('error', (e) => reject(new Error(`cannot connect to ${options.address}: ${e.message}`)));
      })));
    },
    close(): void {
      closed = true;
      for (const s of sessions) s.close();
    },
  };
}

/** grpc-message is percent-encoded; a malformed one is shown as sent. */
function decodeGrpcMessage(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
