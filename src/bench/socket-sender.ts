/**
 * The HTTP/1.1 sender for plain http:// targets, on bare sockets. The load generator shares the machine with the
 * server it measures, and node:http's client (agent, request objects, header parsing, a response stream per answer)
 * cost it a third of wrk's rate on the tabular model, so `ferry bench` measured itself as much as the server
 * (issue 15). Here each connection writes one pre-built request (request line, headers and body in one Buffer) and
 * reads its answer by Content-Length, as wrk does; a 200's body is not looked at, an error's is read for its message.
 * Answers without a Content-Length (chunked) are read to their last chunk. https:// keeps node:http (http-sender.ts).
 */
import { connect, type Socket } from 'node:net';
import { restErrorMessage, type EncodedRestRequest } from '../client/index.js';
import type { Done, RequestSender } from './sender.js';

export interface SocketSenderOptions {
  readonly url: URL;
  readonly path: string;
  readonly encoded: EncodedRestRequest;
  /** Connections at most; requests beyond wait for one (and that wait counts in their latency). */
  readonly maxSockets: number;
  readonly timeoutMs: number;
}

const HEADER_END = Buffer.from('\r\n\r\n');
const LAST_CHUNK = Buffer.from('0\r\n\r\n');
const CONTENT_LENGTH = Buffer.from('\r\nContent-Length:');
const CONTENT_LENGTH_LOWER = Buffer.from('\r\ncontent-length:');
/** "Connection: close" or "connection: close". */
const CONNECTION_CLOSE = Buffer.from('onnection: close');

/** The number after `name` in the header (bytes 0 to `end`), or undefined when the header is not there. */
function headerNumber(data: Buffer, end: number, name: Buffer): number | undefined {
  const at = data.indexOf(name);
  if (at < 0 || at > end) return undefined;
  let i = at + name.length;
  while (data[i] === 32) i++;
  let n = 0;
  for (let c = data[i]!; c >= 48 && c <= 57; c = data[++i]!) n = n * 10 + (c - 48);
  return n;
}

export function socketSender(options: SocketSenderOptions): RequestSender {
  const base = new URL(options.path.replace(/^\//, ''), `${options.url.href.replace(/\/+$/, '')}/`);
  const host = base.hostname.replace(/^\[|\]$/g, '');
  const port = Number(base.port || 80);
  const headers = Object.entries(options.encoded.headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  const request = Buffer.concat([Buffer.from(`POST ${base.pathname}${base.search} HTTP/1.1\r\nHost: ${base.host}\r\n${headers}\r\n`, 'latin1'), options.encoded.body]);
  const idle: Connection[] = [];
  const waiting: Done[] = [];
  let open = 0;

  const release = (c: Connection): void => {
    const next = waiting.shift();
    if (next) c.send(request, next);
    else idle.push(c);
  };
  const lost = (c: Connection): void => {
    open--;
    const at = idle.indexOf(c); // an idle one the server closed (its keep-alive timeout) is not handed out again
    if (at >= 0) idle.splice(at, 1);
    const next = waiting.shift(); // a connection gone: the next request waiting opens another
    if (next) dispatch(next);
  };
  const dispatch = (done: Done): void => {
    const c = idle.pop() ?? (open < options.maxSockets ? (open++, new Connection(host, port, options.timeoutMs, release, lost)) : undefined);
    if (c) c.send(request, done);
    else waiting.push(done);
  };

  return {
    send: dispatch,
    async connect(): Promise<void> {
      // Connections open on demand; the warm-up period absorbs that, as with node:http.
    },
    close(): void {
      for (const c of idle) c.close();
      idle.length = 0;
    },
  };
}

/** One keep-alive connection, one request at a time on it. */
class Connection {
  private readonly socket: Socket;
  private done: Done | undefined;
  private received: Buffer[] = [];
  private bytes = 0;
  /** The answer being read, once its header has arrived. */
  private head: { readonly end: number; readonly status: number; readonly total: number | undefined; readonly closing: boolean } | undefined;
  private closed = false;

  constructor(
    host: string,
    port: number,
    timeoutMs: number,
    private readonly onFree: (c: Connection) => void,
    private readonly onLost: (c: Connection) => void,
  ) {
    this.socket = connect({ host, port, noDelay: true });
    if (timeoutMs > 0) this.socket.setTimeout(timeoutMs, () => this.fail('timeout', `no response within ${timeoutMs} ms`));
    this.socket.on('data', (chunk: Buffer) => this.read(chunk));
    this.socket.on('error', (e: NodeJS.ErrnoException) => this.fail(e.code ?? 'network error', e.message));
    this.socket.on('close', () => this.fail('ECONNRESET', 'the server closed the connection'));
  }

  send(request: Buffer, done: Done): void {
    this.done = done;
    this.socket.write(request);
  }

  close(): void {
    this.closed = true;
    this.socket.destroy();
  }

  private read(chunk: Buffer): void {
    this.received.push(chunk);
    this.bytes += chunk.length;
    if (this.head === undefined) {
      const data = this.received.length === 1 ? chunk : Buffer.concat(this.received, this.bytes);
      this.received = [data];
      const end = data.indexOf(HEADER_END);
      if (end < 0) return;
      // Byte searches rather than the header as text: this runs once per answer, beside the server being measured.
      const length = headerNumber(data, end, CONTENT_LENGTH) ?? headerNumber(data, end, CONTENT_LENGTH_LOWER);
      const chunked = length === undefined && /\r\ntransfer-encoding:\s*chunked/i.test(data.toString('latin1', 0, end));
      if (length === undefined && !chunked) {
        return this.fail('bad response', `an answer without Content-Length or chunked encoding: ${data.toString('latin1', 0, data.indexOf('\r\n'))}`);
      }
      const closeAt = data.indexOf(CONNECTION_CLOSE);
      this.head = {
        end,
        status: (data[9]! - 48) * 100 + (data[10]! - 48) * 10 + (data[11]! - 48),
        total: length === undefined ? undefined : end + 4 + length,
        closing: closeAt >= 0 && closeAt < end,
      };
    }
    const head = this.head;
    let total = head.total;
    if (total === undefined) {
      // Chunked: done at the last chunk (a rare form for a V2 answer, so its chunks are simply joined to look).
      const data = Buffer.concat(this.received, this.bytes);
      this.received = [data];
      const last = data.indexOf(LAST_CHUNK, head.end + 4);
      if (last < 0) return;
      total = last + LAST_CHUNK.length;
    }
    if (this.bytes < total) return; // a large answer: its pieces are kept as they came, joined only if needed
    const received = this.received;
    this.received = [];
    this.bytes = 0;
    this.head = undefined;
    const done = this.done;
    this.done = undefined;
    if (head.status === 200) done?.(undefined);
    else done?.({ kind: `HTTP ${head.status}`, message: restErrorMessage(Buffer.concat(received).toString('utf8', head.end + 4, total)) });
    if (head.closing) {
      this.close();
      this.onLost(this);
    } else {
      this.onFree(this);
    }
  }

  private fail(kind: string, message: string): void {
    const done = this.done;
    this.done = undefined;
    done?.({ kind, message });
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.onLost(this);
  }
}
