/**
 * ferry bench's plain-socket HTTP sender against a bare TCP server that answers as servers do: by Content-Length
 * (in pieces too), chunked, with Connection: close, closing idle connections, an error status with a V2 error
 * body, and not at all (the timeout). Each request is reported exactly once, and the next still goes through.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { socketSender } from '../../src/bench/socket-sender.js';
import type { Failure, RequestSender } from '../../src/bench/sender.js';

/** What the server answers next, per request it reads (one request per line of the body: the tests send "x"). */
let answer: (socket: Socket) => void = () => undefined;
let connections = 0;

const send = (sender: RequestSender): Promise<Failure | undefined> => new Promise((resolve) => sender.send(resolve));

describe('socket sender', () => {
  let server: Server;
  let url: URL;

  before(async () => {
    server = createServer((socket) => {
      connections++;
      let seen = '';
      socket.on('data', (c) => {
        seen += c.toString('latin1');
        if (seen.includes('\r\n\r\n') && seen.endsWith('x')) {
          seen = '';
          answer(socket);
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  after(() => server.close());

  const sender = (timeoutMs = 0) => socketSender({ url, path: '/v2/models/m/infer', encoded: { body: Buffer.from('x'), headers: { 'Content-Type': 'application/json', 'Content-Length': '1' } }, maxSockets: 2, timeoutMs });

  it('reads answers by Content-Length, also when they arrive in pieces, and by chunks', async () => {
    const s = sender();
    answer = (socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello');
    assert.equal(await send(s), undefined);
    answer = (socket) => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-len');
      setTimeout(() => socket.write('gth: 5\r\n\r\nhel'), 5);
      setTimeout(() => socket.write('lo'), 10);
    };
    assert.equal(await send(s), undefined);
    answer = (socket) => socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n');
    assert.equal(await send(s), undefined);
    // A large answer in many pieces, then a small one on the same connection: neither runs into the other.
    answer = (socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 4194304\r\n\r\n');
      for (let i = 0; i < 64; i++) socket.write(Buffer.alloc(65536, i));
    };
    assert.equal(await send(s), undefined);
    answer = (socket) => socket.write('HTTP/1.1 404 Not Found\r\nContent-Length: 17\r\n\r\n{"error":"gone!"}');
    assert.deepEqual(await send(s), { kind: 'HTTP 404', message: 'gone!' });
    s.close();
  });

  it('reports an error status with the V2 error message', async () => {
    const s = sender();
    const body = '{"error":"model \\u0027m\\u0027 is loading"}';
    answer = (socket) => socket.write(`HTTP/1.1 503 Service Unavailable\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    assert.deepEqual(await send(s), { kind: 'HTTP 503', message: "model 'm' is loading" });
    s.close();
  });

  it('opens a new connection after Connection: close, and after the server closed an idle one', async () => {
    const s = sender();
    answer = (socket) => socket.end('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    const before = connections;
    assert.equal(await send(s), undefined);
    answer = (socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
      setTimeout(() => socket.destroy(), 5); // the server's keep-alive timeout, while the connection is idle
    };
    assert.equal(await send(s), undefined);
    await new Promise((resolve) => setTimeout(resolve, 50));
    answer = (socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    assert.equal(await send(s), undefined);
    assert.equal(connections - before, 3, 'one connection per request here: each was closed after its answer');
    s.close();
  });

  it('fails a request with no answer within the timeout, once, and the next one goes through', async () => {
    const s = sender(100);
    answer = () => undefined;
    assert.deepEqual(await send(s), { kind: 'timeout', message: 'no response within 100 ms' });
    answer = (socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    assert.equal(await send(s), undefined);
    s.close();
  });
});
