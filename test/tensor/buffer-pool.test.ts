/**
 * The body pool: a buffer given back is handed out again at the same size; only buffers it lent (or, from a worker
 * thread, of a size it lent) are kept; a detached one is forgotten; per-size and byte bounds hold.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BufferPool } from '../../src/tensor/buffer-pool.js';

describe('buffer pool', () => {
  it('hands a buffer given back out again, at its size only', () => {
    const pool = new BufferPool();
    const a = pool.take(1000);
    assert.equal(a.byteLength, 1000);
    pool.give(a);
    assert.equal(pool.heldBytes, 1000);
    assert.notEqual(pool.take(999), a, 'another size gets a new buffer');
    assert.equal(pool.take(1000), a);
    assert.equal(pool.heldBytes, 0);
    pool.give(a);
    pool.give(a);
    assert.equal(pool.heldBytes, 1000, 'given back twice, kept once');
  });

  it('keeps only what it lent, and from a worker only a size it lent; forgets a detached buffer', () => {
    const pool = new BufferPool();
    pool.give(new ArrayBuffer(1000));
    assert.equal(pool.heldBytes, 0, 'not lent by the pool: never kept');
    pool.adopt(new ArrayBuffer(1000));
    assert.equal(pool.heldBytes, 0, 'no body of that size was lent');
    pool.take(1000);
    pool.adopt(new ArrayBuffer(1000));
    assert.equal(pool.heldBytes, 1000, 'a body of that size came back from a worker thread');
    const moved = pool.take(2000);
    structuredClone(moved, { transfer: [moved] }); // as postMessage to a worker thread does
    pool.give(moved);
    assert.equal(pool.heldBytes, 1000, 'a buffer moved away is not kept');
  });

  it('keeps at most a few per size and at most its byte bound', () => {
    const pool = new BufferPool(2, 2500);
    const lent = [pool.take(1000), pool.take(1000), pool.take(1000)];
    for (const b of lent) pool.give(b);
    assert.equal(pool.heldBytes, 2000, 'two per size');
    const big = pool.take(1000 + 500);
    pool.give(big);
    assert.equal(pool.heldBytes, 2000, 'over the byte bound: not kept');
  });
});
