/**
 * readBody against a real node:http server: bodies come back byte for byte whether chunked or with a length; a
 * large one with a length is its own buffer (movable to a worker) with the raw data offset placed 8-byte aligned;
 * a chunked body is refused once it passes the limit (a declared length over it is refused before reading, in
 * test/integration/bad-input.test.ts).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody } from '../../src/protocol/v2-rest/body.js';
import { forPosting } from '../../src/tensor/transferable.js';

interface Seen { bytes: Buffer; error?: string }

describe('reading a request body', () => {
  let server: Server;
  let url: string;
  let seen: Seen | undefined;

  before(async () => {
    server = http.createServer((req, res) => {
      const offset = req.headers['x-raw-offset'];
      readBody(req, Number(req.headers['x-limit'] ?? 1_000_000), offset === undefined ? undefined : Number(offset)).then(
        (bytes) => {
          seen = { bytes };
          res.end('ok');
        },
        (e: Error) => {
          seen = { bytes: Buffer.alloc(0), error: e.message };
          res.statusCode = 413;
          res.end();
        },
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const body = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7) % 256));

  async function send(bytes: Buffer, headers: Record<string, string>, chunked = false, limit?: number): Promise<Seen> {
    seen = undefined;
    if (limit !== undefined) headers = { ...headers, 'x-limit': String(limit) };
    await new Promise<void>((resolve, reject) => {
      const req = http.request(url, { method: 'POST', headers: chunked ? headers : { ...headers, 'content-length': String(bytes.length) } }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      // In pieces, so the server gets several chunks.
      for (let at = 0; at < bytes.length; at += 10_000) req.write(bytes.subarray(at, at + 10_000));
      req.end();
    });
    return seen!;
  }

  for (const offset of [0, 1, 13, 110, 112]) {
    it(`puts raw data at offset ${offset} on an 8-byte boundary of its own buffer`, async () => {
      const sent = body(200_000);
      const got = await send(sent, { 'x-raw-offset': String(offset) });
      assert.ok(got.bytes.equals(sent));
      assert.equal((got.bytes.byteOffset + offset) % 8, 0);
      const raw = new Float32Array(got.bytes.buffer, got.bytes.byteOffset + offset, 1000);
      assert.deepEqual(forPosting([{ name: 'x', datatype: 'FP32', shape: [1000], data: raw }]).transfer, [got.bytes.buffer]);
    });
  }

  it('reads chunked bodies, small ones and ones too large to allocate ahead as they are', async () => {
    const sent = body(150_000);
    assert.ok((await send(sent, { 'transfer-encoding': 'chunked' }, true)).bytes.equals(sent));
    const small = body(300);
    assert.ok((await send(small, {})).bytes.equals(small));
    const large = body(9 * 1024 * 1024);
    assert.ok((await send(large, { 'x-raw-offset': '13' }, false, 10_000_000)).bytes.equals(large));
  });

  it('refuses a chunked body once it passes the limit', async () => {
    assert.match((await send(body(1_000_001), { 'transfer-encoding': 'chunked' }, true)).error ?? '', /larger than the limit of 1000000 bytes/);
  });
});
