/**
 * MessageReader: gRPC's length-prefixed messages cut out of HTTP/2 DATA chunks, whatever the chunk boundaries.
 * (The server around it is tested with a real client in grpc-http2-server.test.ts.)
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { frameMessage, MessageReader, MessageTooLarge } from '../../src/protocol/grpc-http2/framing.js';
import { forPosting } from '../../src/tensor/transferable.js';

/** `count` distinct bytes, so a misplaced byte shows. */
function pattern(count: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(count);
  for (let i = 0; i < count; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

function chunked(stream: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = [];
  // Copies, as the socket hands over fresh buffers: a test must not pass by aliasing its input.
  for (let at = 0; at < stream.length; at += size) chunks.push(Buffer.from(stream.subarray(at, at + size)));
  return chunks;
}

/** Owned by the request alone: what a worker thread would get moved rather than copied. */
function owned(bytes: Buffer): boolean {
  return forPosting([{ name: 'x', datatype: 'UINT8', shape: [bytes.length], data: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length) }]).transfer.length === 1;
}

describe('gRPC MessageReader', () => {
  const messages = [pattern(0, 1), pattern(3, 2), pattern(70_000, 3), pattern(5, 4), pattern(40_000, 5), pattern(1, 6)];
  const stream = Buffer.concat(messages.map((m) => frameMessage(m)));

  for (const size of [1, 2, 3, 4, 5, 6, 7, 13, 4096, 16_384, 65_536, stream.length]) {
    it(`reads every message whole and in order from ${size}-byte chunks`, () => {
      const reader = new MessageReader(1 << 20);
      const got: Buffer[] = [];
      for (const chunk of chunked(stream, size)) {
        for (const m of reader.push(chunk)) {
          assert.equal(m.compressed, false);
          got.push(Buffer.from(m.bytes));
        }
      }
      assert.equal(reader.incomplete, false);
      assert.deepEqual(got, messages);
    });
  }

  it('puts a message that spans chunks in a buffer of its own (movable to a worker), and leaves one inside a chunk a view', () => {
    const reader = new MessageReader(1 << 20);
    const big = pattern(50_000, 9);
    const [first, ...rest] = chunked(frameMessage(big), 16_384);
    assert.deepEqual(reader.push(first!), []);
    assert.equal(reader.incomplete, true);
    const done = rest.flatMap((c) => reader.push(c));
    assert.equal(done.length, 1);
    assert.deepEqual(Buffer.from(done[0]!.bytes), big);
    assert.equal(done[0]!.bytes.buffer.byteLength, big.length);
    assert.equal(owned(done[0]!.bytes), true);

    const small = new MessageReader(1 << 20).push(Buffer.concat([frameMessage(pattern(8000, 1)), frameMessage(pattern(10, 2))]));
    assert.equal(small.length, 2);
    assert.equal(owned(small[0]!.bytes), false);

    // A small message over two chunks is joined into a slice of Node's shared buffer pool, which must never move.
    const split = new MessageReader(1 << 20);
    const frame = frameMessage(pattern(3000, 4));
    assert.deepEqual(split.push(Buffer.from(frame.subarray(0, 1000))), []);
    const [joined] = split.push(Buffer.from(frame.subarray(1000)));
    assert.deepEqual(Buffer.from(joined!.bytes), pattern(3000, 4));
    assert.equal(forPosting([{ name: 'x', datatype: 'UINT8', shape: [3000], data: new Uint8Array(joined!.bytes.buffer, joined!.bytes.byteOffset, 3000) }]).transfer.length, 0);
  });

  it('joins a large message (9 MiB in 64 KiB chunks) into a buffer of its own', () => {
    const size = 9 * 1024 * 1024;
    const big = pattern(size, 7);
    const reader = new MessageReader(16 * 1024 * 1024);
    const got = chunked(frameMessage(big), 65_536).flatMap((c) => reader.push(c));
    assert.equal(got.length, 1);
    assert.equal(Buffer.compare(got[0]!.bytes, big), 0);
    assert.equal(owned(got[0]!.bytes), true);
  });

  it('keeps the compressed flag, and says a stream that ends inside a prefix is incomplete', () => {
    const frame = frameMessage(pattern(20, 3));
    frame[0] = 1;
    const reader = new MessageReader(1 << 20);
    assert.deepEqual(reader.push(frame.subarray(0, 3)), []);
    assert.equal(reader.incomplete, true);
    const [m] = reader.push(frame.subarray(3));
    assert.equal(m!.compressed, true);
    assert.deepEqual(Buffer.from(m!.bytes), pattern(20, 3));
    assert.equal(reader.incomplete, false);
  });

  it('refuses a message declared over the limit as soon as its prefix is in, before its bytes', () => {
    const reader = new MessageReader(1000);
    const prefix = Buffer.from([0, 0, 0, 0x03, 0xe9]); // 1001 bytes
    assert.throws(() => reader.push(prefix), (e: unknown) => e instanceof MessageTooLarge && e.size === 1001 && e.limit === 1000);
  });
});
