/**
 * Sends one pre-serialized ModelInferRequest per call over N gRPC connections, round-robin (grpc-js multiplexes
 * the streams of each). A call counts as done when grpc-js delivers its status; a non-OK status is a failure named
 * by its code. The reply is not decoded.
 */
import * as grpc from '@grpc/grpc-js';
import { V2GrpcClient } from '../client/index.js';
import type { Done, RequestSender } from './sender.js';

export interface GrpcSenderOptions {
  readonly address: string;
  readonly encoded: Buffer;
  readonly connections: number;
  readonly timeoutMs: number;
}

export function grpcSender(options: GrpcSenderOptions): RequestSender {
  const clients = Array.from({ length: options.connections }, () => new V2GrpcClient(options.address, { ownConnection: true, timeoutMs: options.timeoutMs }));
  const { encoded, timeoutMs } = options;
  let next = 0;
  return {
    send(done: Done): void {
      const client = clients[next++ % clients.length]!;
      client.inferEncoded(encoded, timeoutMs > 0 ? Date.now() + timeoutMs : undefined, (error) => {
        if (!error) done(undefined);
        else done({ kind: `gRPC ${grpc.status[error.code] ?? error.code}`, message: error.details || error.message });
      });
    },
    async connect(): Promise<void> {
      await Promise.all(clients.map((c) => c.waitForReady(Date.now() + (timeoutMs || 30_000))));
    },
    close(): void {
      for (const c of clients) c.close();
    },
  };
}
