/**
 * Sends one pre-encoded V2 REST inference request per call over node:http keep-alive connections. The generator
 * shares the machine with the server it measures, so the hot path does the least it can: one request with a
 * ready Buffer and header object, the 200 body discarded unread (only error bodies are read, for their message).
 */
import http from 'node:http';
import https from 'node:https';
import { restErrorMessage, type EncodedRestRequest } from '../client/index.js';
import type { Done, RequestSender } from './sender.js';

export interface HttpSenderOptions {
  readonly url: URL;
  readonly path: string;
  readonly encoded: EncodedRestRequest;
  /** Connections at most; requests beyond wait in the agent's queue (and that wait counts in their latency). */
  readonly maxSockets: number;
  readonly timeoutMs: number;
}

export function httpSender(options: HttpSenderOptions): RequestSender {
  const secure = options.url.protocol === 'https:';
  const agent = new (secure ? https.Agent : http.Agent)({ keepAlive: true, maxSockets: options.maxSockets, maxFreeSockets: options.maxSockets, scheduling: 'fifo' });
  const request = secure ? https.request : http.request;
  const base = new URL(options.path.replace(/^\//, ''), `${options.url.href.replace(/\/+$/, '')}/`);
  const requestOptions: http.RequestOptions = {
    agent,
    protocol: base.protocol,
    hostname: base.hostname.replace(/^\[|\]$/g, ''),
    port: base.port,
    path: base.pathname + base.search,
    method: 'POST',
    headers: options.encoded.headers,
    ...(options.timeoutMs > 0 ? { timeout: options.timeoutMs } : {}),
  };
  const body = options.encoded.body;
  const timeoutMessage = `no response within ${options.timeoutMs} ms`;

  return {
    send(done: Done): void {
      let finished = false;
      const finish: Done = (failure) => {
        if (finished) return;
        finished = true;
        done(failure);
      };
      const req = request(requestOptions, (res) => {
        const status = res.statusCode ?? 0;
        res.on('error', (e) => finish({ kind: errorKind(e), message: e.message }));
        if (status === 200) {
          res.on('end', () => finish(undefined));
          res.resume();
          return;
        }
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => finish({ kind: `HTTP ${status}`, message: restErrorMessage(Buffer.concat(chunks).toString('utf8')) }));
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error(timeoutMessage), { code: 'timeout' })));
      req.on('error', (e) => finish({ kind: errorKind(e), message: e.message }));
      req.end(body);
    },
    async connect(): Promise<void> {
      // node:http opens connections on demand; the warm-up period absorbs that.
    },
    close(): void {
      agent.destroy();
    },
  };
}

function errorKind(e: Error): string {
  return (e as NodeJS.ErrnoException).code ?? 'network error';
}
