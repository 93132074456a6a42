/**
 * Small typed arrays come from shared slabs (tensor/small-arrays.ts): each is zeroed, aligned for 8-byte elements,
 * and never shares a byte with another; large ones get their own buffer.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { newTypedArray, SMALL_ARRAY_BYTES } from '../../src/tensor/small-arrays.js';

describe('small typed arrays', () => {
  it('are zeroed, 8-byte aligned and disjoint, over many slabs', () => {
    const arrays: Float64Array[] = [];
    const sizes = [9, 30, 100, 255, 3, 17];
    for (let i = 0; i < 2000; i++) {
      const a = newTypedArray(Float64Array, sizes[i % sizes.length]!);
      assert.equal(a.length, sizes[i % sizes.length]);
      assert.equal(a.byteOffset % 8, 0);
      assert.ok(a.every((x) => x === 0), 'a new array is zeroed');
      a.fill(i + 1);
      arrays.push(a);
    }
    // Had two arrays overlapped, the later fill would show in the earlier one.
    arrays.forEach((a, i) => assert.ok(a.every((x) => x === i + 1), `array ${i} kept its values`));
    const buffers = new Set(arrays.map((a) => a.buffer));
    assert.ok(buffers.size > 1 && buffers.size < arrays.length, 'arrays share slabs, and more than one slab was used');
  });

  it('of every element size keep their alignment when mixed', () => {
    const a = newTypedArray(Uint8Array, 65);
    const b = newTypedArray(BigInt64Array, 9);
    const c = newTypedArray(Uint16Array, 33);
    const d = newTypedArray(Float32Array, 17);
    for (const x of [a, b, c, d]) assert.equal(x.byteOffset % 8, 0);
    b[8] = -1n;
    assert.equal(a[64], 0);
    assert.equal(c[0], 0);
  });

  it('larger than the bound get a buffer of their own, as do tiny ones', () => {
    const large = newTypedArray(Float32Array, SMALL_ARRAY_BYTES / 4 + 1);
    assert.equal(large.buffer.byteLength, large.byteLength);
    const tiny = newTypedArray(Float32Array, 4);
    assert.equal(tiny.buffer.byteLength, 16);
  });
});
