/**
 * ferry's gRPC server on node:http2, against a real @grpc/grpc-js client (and raw HTTP/2 where a client library
 * would not send what is being tested): every call kind, statuses, deadlines, cancellation, compression, limits,
 * non-gRPC requests and a graceful stop. The V2 front's own behaviour is covered in test/integration/grpc.test.ts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { Http2GrpcServer, type ServiceDefinition } from '../../src/protocol/grpc-http2/server.js';
import type { Callback, ServerCall } from '../../src/protocol/grpc-http2/server-call.js';

const PROTO = `syntax = "proto3";
package t;
message Msg { string text = 1; int32 delay_ms = 2; bytes blob = 3; }
service Echo {
  rpc Unary(Msg) returns (Msg);
  rpc ServerStream(Msg) returns (stream Msg);
  rpc ClientStream(stream Msg) returns (Msg);
  rpc Bidi(stream Msg) returns (stream Msg);
}`;

interface Msg { text: string; delay_ms: number; blob?: Buffer }

const dir = mkdtempSync(join(tmpdir(), 'ferry-grpc-h2-'));
writeFileSync(join(dir, 'echo.proto'), PROTO);
const definition = protoLoader.loadSync(join(dir, 'echo.proto'), { keepCase: true, defaults: true });
rmSync(dir, { recursive: true, force: true }); // the definition is loaded: the file is not needed any more
const EchoClient = grpc.makeGenericClientConstructor(definition['t.Echo'] as grpc.ServiceDefinition, 'Echo');

const events: string[] = [];
const implementation = {
  Unary(call: ServerCall, callback: Callback) {
    const req = call.request as Msg;
    if (req.text === 'fail') return callback({ code: grpc.status.NOT_FOUND, details: 'nothing here: 100% é' });
    if (req.text === 'throw') throw new Error('boom');
    call.on('cancelled', () => events.push(`cancelled ${req.text}`));
    const deadline = call.getDeadline();
    setTimeout(() => callback(null, { text: `echo ${req.text} deadline=${Number.isFinite(deadline) ? 'set' : 'none'}` }), req.delay_ms);
  },
  ServerStream(call: ServerCall) {
    const req = call.request as Msg;
    if (req.text === 'forever') return void call.write({ text: 'first' });
    for (let i = 0; i < 3; i++) call.write({ text: `${req.text} ${i}` });
    call.end();
  },
  ClientStream(call: ServerCall, callback: Callback) {
    const texts: string[] = [];
    call.on('data', (m: Msg) => texts.push(m.text));
    call.on('end', () => callback(null, { text: texts.join('+') }));
  },
  Bidi(call: ServerCall) {
    call.on('data', (m: Msg) => call.write({ text: m.text.toUpperCase() }));
    call.on('end', () => call.end());
  },
};

function unary(client: grpc.Client, request: Partial<Msg>, options: grpc.CallOptions = {}): Promise<{ error: grpc.ServiceError | null; response?: Msg }> {
  return new Promise((resolve) => {
    (client as any).Unary(request, options, (error: grpc.ServiceError | null, response?: Msg) => resolve({ error, response }));
  });
}

function rawRequest(address: string, headers: http2.OutgoingHttpHeaders, body: Buffer): Promise<{ headers: http2.IncomingHttpHeaders; trailers: http2.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://${address}`);
    session.on('error', reject);
    const req = session.request(headers);
    let responseHeaders: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    req.on('response', (h) => (responseHeaders = h));
    req.on('trailers', (t) => (trailers = t));
    req.on('data', () => {});
    req.on('close', () => {
      session.close();
      resolve({ headers: responseHeaders, trailers });
    });
    if (body.length > 0) req.end(body);
    else if (!req.writableEnded) req.end();
  });
}

const GRPC_HEADERS = { ':method': 'POST', ':path': '/t.Echo/Unary', 'content-type': 'application/grpc', te: 'trailers' };

describe('gRPC server on node:http2', () => {
  let server: Http2GrpcServer;
  let address: string;
  let client: grpc.Client;

  before(async () => {
    server = new Http2GrpcServer({ maxMessageBytes: 1024 });
    server.addService(definition['t.Echo'] as unknown as ServiceDefinition, implementation);
    address = `127.0.0.1:${await server.listen('127.0.0.1', 0)}`;
    client = new EchoClient(address, grpc.credentials.createInsecure());
  });
  after(async () => {
    client.close();
    await server.stop(1000);
  });

  it('answers a unary call, and passes the deadline the client set', async () => {
    assert.deepEqual(await unary(client, { text: 'hi' }), { error: null, response: { text: 'echo hi deadline=none', delay_ms: 0, blob: Buffer.alloc(0) } });
    const timed = await unary(client, { text: 'hi' }, { deadline: Date.now() + 5000 });
    assert.equal(timed.response?.text, 'echo hi deadline=set');
  });

  it('sends an error status with its message (percent-encoded on the wire, decoded by the client)', async () => {
    const { error } = await unary(client, { text: 'fail' });
    assert.equal(error?.code, grpc.status.NOT_FOUND);
    assert.equal(error?.details, 'nothing here: 100% é');
  });

  it('a handler that throws is UNKNOWN with the reason, and the server keeps serving', async () => {
    const { error } = await unary(client, { text: 'throw' });
    assert.equal(error?.code, grpc.status.UNKNOWN);
    assert.match(error!.details, /boom/);
    assert.equal((await unary(client, { text: 'after' })).error, null);
  });

  it('a call past its deadline is DEADLINE_EXCEEDED', async () => {
    const started = Date.now();
    const { error } = await unary(client, { text: 'slow', delay_ms: 400 }, { deadline: Date.now() + 50 });
    assert.equal(error?.code, grpc.status.DEADLINE_EXCEEDED);
    assert.ok(Date.now() - started < 350, 'answered at the deadline, not when the handler finished');
  });

  it('a call the client cancels is reported to the handler', async () => {
    const call = (client as any).Unary({ text: 'abandoned', delay_ms: 300 }, () => {});
    await new Promise((r) => setTimeout(r, 50));
    call.cancel();
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(events.includes('cancelled abandoned'), events.join(', '));
  });

  it('server-streaming, client-streaming and bidirectional calls', async () => {
    const streamed: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const s = (client as any).ServerStream({ text: 'n' });
      s.on('data', (m: Msg) => streamed.push(m.text));
      s.on('error', reject);
      s.on('end', resolve);
    });
    assert.deepEqual(streamed, ['n 0', 'n 1', 'n 2']);

    const joined = await new Promise<string>((resolve, reject) => {
      const s = (client as any).ClientStream((e: Error | null, m: Msg) => (e ? reject(e) : resolve(m.text)));
      for (const t of ['a', 'b', 'c']) s.write({ text: t });
      s.end();
    });
    assert.equal(joined, 'a+b+c');

    const upper: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const s = (client as any).Bidi();
      s.on('data', (m: Msg) => upper.push(m.text));
      s.on('error', reject);
      s.on('end', resolve);
      s.write({ text: 'x' });
      s.write({ text: 'y' });
      s.end();
    });
    assert.deepEqual(upper, ['X', 'Y']);
  });

  it('a message over the limit is RESOURCE_EXHAUSTED, and the next call on the connection succeeds', async () => {
    const { error } = await unary(client, { text: 'big', blob: Buffer.alloc(4096, 1) });
    assert.equal(error?.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.match(error!.details, /larger than max \(\d+ vs\. 1024\)/);
    assert.equal((await unary(client, { text: 'small' })).error, null);
  });

  it('gzip- and deflate-compressed requests are read; a compressed bomb is RESOURCE_EXHAUSTED', async () => {
    for (const algorithm of [1, 2]) {
      const c = new EchoClient(address, grpc.credentials.createInsecure(), { 'grpc.default_compression_algorithm': algorithm });
      try {
        assert.equal((await unary(c, { text: `z${algorithm}`, blob: Buffer.alloc(500) })).response?.text, `echo z${algorithm} deadline=none`);
        // 100 KB of zeros compresses far under the 1 KiB limit, and decompresses far over it.
        const bomb = await unary(c, { text: 'bomb', blob: Buffer.alloc(100_000) });
        assert.equal(bomb.error?.code, grpc.status.RESOURCE_EXHAUSTED);
      } finally {
        c.close();
      }
    }
  });

  it('an unknown grpc-encoding is UNIMPLEMENTED, names on Object.prototype included', async () => {
    // A compressed-flag frame of 1 byte: never decoded, the encoding is refused first.
    const frame = Buffer.from([1, 0, 0, 0, 1, 0]);
    for (const encoding of ['br', 'toString', 'constructor']) {
      const { headers, trailers } = await rawRequest(address, { ...GRPC_HEADERS, 'grpc-encoding': encoding }, frame);
      const status = headers['grpc-status'] ?? trailers['grpc-status'];
      assert.equal(status, String(grpc.status.UNIMPLEMENTED), `${encoding}: ${JSON.stringify({ headers, trailers })}`);
    }
  });

  it('an unknown method is UNIMPLEMENTED', async () => {
    const { error } = await new Promise<{ error: grpc.ServiceError | null }>((resolve) => {
      client.makeUnaryRequest('/t.Echo/Nope', (x: Buffer) => x, (x: Buffer) => x, Buffer.alloc(0), (error) => resolve({ error }));
    });
    assert.equal(error?.code, grpc.status.UNIMPLEMENTED);
    assert.match(error!.details, /\/t\.Echo\/Nope/);
  });

  it('bytes that are not the message, or a message cut short, are INTERNAL', async () => {
    const garbage = Buffer.from([0, 0, 0, 0, 3, 0xff, 0xff, 0xff]);
    const bad = await rawRequest(address, GRPC_HEADERS, garbage);
    assert.equal(bad.headers['grpc-status'] ?? bad.trailers['grpc-status'], String(grpc.status.INTERNAL));
    const cut = Buffer.from([0, 0, 0, 0, 10, 1, 2]);
    const short = await rawRequest(address, GRPC_HEADERS, cut);
    assert.equal(short.headers['grpc-status'] ?? short.trailers['grpc-status'], String(grpc.status.INTERNAL));
  });

  it('requests that are not gRPC get HTTP 405 or 415', async () => {
    assert.equal((await rawRequest(address, { ':method': 'GET', ':path': '/t.Echo/Unary' }, Buffer.alloc(0))).headers[':status'], 405);
    assert.equal((await rawRequest(address, { ...GRPC_HEADERS, 'content-type': 'application/json' }, Buffer.from('{}'))).headers[':status'], 415);
  });

  it("a service's prepare() holds its calls until it settles; a failed one makes them INTERNAL with the reason", async () => {
    let release!: () => void;
    let preparing: Promise<void> | undefined = new Promise<void>((r) => (release = r));
    let fail: Promise<void> | undefined;
    const other = new Http2GrpcServer({ maxMessageBytes: 1024 });
    other.addService(definition['t.Echo'] as unknown as ServiceDefinition, implementation, () => fail ?? preparing);
    const otherAddress = `127.0.0.1:${await other.listen('127.0.0.1', 0)}`;
    const c = new EchoClient(otherAddress, grpc.credentials.createInsecure());
    try {
      let answered = false;
      const held = unary(c, { text: 'early' }).then((r) => ((answered = true), r));
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(answered, false, 'the call waits for prepare()');
      preparing.then(() => (preparing = undefined));
      release();
      assert.deepEqual((await held).response?.text, 'echo early deadline=none');
      assert.equal((await unary(c, { text: 'later' })).response?.text, 'echo later deadline=none');

      fail = Promise.reject(new Error('codecs missing'));
      fail.catch(() => {});
      const { error } = await unary(c, { text: 'x' });
      assert.equal(error?.code, grpc.status.INTERNAL);
      assert.match(error!.details, /could not load the message codecs of \/t\.Echo\/Unary: codecs missing/);
    } finally {
      c.close();
      await other.stop(1000);
    }
  });

  it('stop() lets a call in flight finish, ends open streams with UNAVAILABLE, and refuses new connections', async () => {
    const other = new Http2GrpcServer({ maxMessageBytes: 1024 });
    other.addService(definition['t.Echo'] as unknown as ServiceDefinition, implementation);
    const otherAddress = `127.0.0.1:${await other.listen('127.0.0.1', 0)}`;
    const c = new EchoClient(otherAddress, grpc.credentials.createInsecure());
    try {
      const stream = (c as any).ServerStream({ text: 'forever' });
      const streamEnd = new Promise<grpc.ServiceError>((resolve) => stream.on('error', resolve));
      stream.on('data', () => {});
      const inFlight = unary(c, { text: 'last', delay_ms: 200 });
      await new Promise((r) => setTimeout(r, 50));
      const stopped = other.stop(5000);
      assert.equal((await inFlight).response?.text, 'echo last deadline=none');
      assert.equal((await streamEnd).code, grpc.status.UNAVAILABLE);
      await stopped;
      const fresh = new EchoClient(otherAddress, grpc.credentials.createInsecure());
      const refused = await unary(fresh, { text: 'late' }, { deadline: Date.now() + 1000 });
      fresh.close();
      assert.equal(refused.error?.code, grpc.status.UNAVAILABLE);
    } finally {
      c.close();
    }
  });
});
