/**
 * The management port (`--management-port`, default 8082, on 127.0.0.1 unless `--management-host` says otherwise):
 * model load and unload, which the public ports refuse. One port for both of Triton's client kinds: a connection
 * that opens with the HTTP/2 preface is gRPC, any other is HTTP/1.1 REST, so `tritonclient.http` and
 * `tritonclient.grpc` both point at it. Beyond loopback it requires the bearer token (server-config.ts refuses to
 * start without one).
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { ModelManagement } from '../../core/model-control.js';
import type { Logger } from '../../observe/logger.js';
import type { Http2GrpcServer } from '../grpc-http2/server.js';
import { BearerToken } from './bearer-token.js';
import { managementGrpcServer } from './management-grpc.js';
import { ManagementRest } from './management-rest.js';

/** What an HTTP/2 connection sends first (RFC 9113, 3.4); no HTTP/1.1 request line starts with it. */
const PREFACE_START = Buffer.from('PRI ', 'latin1');

export interface ManagementServerOptions {
  readonly host: string;
  readonly port: number;
  /** The bearer token every request but liveness must carry; undefined: none (loopback only). */
  readonly token: string | undefined;
}

export class ManagementServer {
  private readonly tcp: Server;
  private readonly http: HttpServer;
  /** Built on the first gRPC connection: most servers never get one, and it is not free at start-up. */
  private grpc: Http2GrpcServer | undefined;
  private readonly token: BearerToken;

  constructor(
    private readonly management: ModelManagement,
    private readonly options: ManagementServerOptions,
    private readonly log: Logger,
  ) {
    this.token = new BearerToken(options.token);
    this.http = createHttpServer({ keepAliveTimeout: 5_000 }, new ManagementRest(management, this.token, log).handle);
    this.tcp = createNetServer((socket) => this.sniff(socket));
  }

  /** Listens; resolves with the port (0 picks a free one). */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.tcp.once('error', reject);
      this.tcp.listen(this.options.port, this.options.host, () => {
        this.tcp.off('error', reject);
        resolve((this.tcp.address() as AddressInfo).port);
      });
    });
  }

  /** Stops accepting; lets requests in flight (a load can take seconds) finish, up to `timeoutMs`. */
  async stop(timeoutMs: number): Promise<void> {
    const closed = new Promise<void>((resolve) => this.tcp.close(() => resolve()));
    this.http.closeIdleConnections();
    const httpDone = new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.http.closeAllConnections(), timeoutMs);
      timer.unref();
      this.http.close(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    await Promise.all([closed, httpDone, this.grpc?.stop(timeoutMs, () => this.log.warn(`management gRPC calls still open after ${timeoutMs} ms; closing them`))]);
  }

  /** Reads the first bytes and hands the connection, bytes unread, to HTTP/1.1 or to gRPC. */
  private sniff(socket: Socket): void {
    let seen = Buffer.alloc(0);
    socket.on('error', () => {}); // a client resetting before it said anything
    const onData = (chunk: Buffer): void => {
      seen = Buffer.concat([seen, chunk]);
      const head = seen.subarray(0, PREFACE_START.length);
      if (seen.length < PREFACE_START.length && PREFACE_START.subarray(0, seen.length).equals(head)) return; // wait for more
      socket.off('data', onData);
      socket.pause();
      socket.unshift(seen);
      if (head.equals(PREFACE_START)) {
        this.grpc ??= managementGrpcServer(this.management, this.token, this.log);
        this.grpc.acceptConnection(socket); // node:http2 reads the unshifted bytes itself
      } else {
        this.http.emit('connection', socket);
        socket.resume();
      }
    };
    socket.on('data', onData);
  }
}
