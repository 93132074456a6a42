import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rawToTensorData, tensorDataToRaw } from '../../src/tensor/raw-codec.js';
import { FerryError } from '../../src/errors.js';
import type { Datatype } from '../../src/tensor/datatypes.js';

/** Little-endian bytes written by hand, so the codec is checked against the layout and not against itself. */
function le(size: number, values: readonly (number | bigint)[], set: (v: DataView, at: number, x: never) => void, offset = 0): Uint8Array {
  const buf = new ArrayBuffer(offset + size * values.length);
  const view = new DataView(buf, offset);
  values.forEach((x, i) => set(view, i * size, x as never));
  return new Uint8Array(buf, offset, size * values.length);
}
const f32Bytes = (xs: number[], offset = 0) => le(4, xs, (v, at, x: number) => v.setFloat32(at, x, true), offset);
const i64Bytes = (xs: bigint[], offset = 0) => le(8, xs, (v, at, x: bigint) => v.setBigInt64(at, x, true), offset);

function bytesElements(parts: (string | Uint8Array)[]): Uint8Array {
  const encoded = parts.map((p) => (typeof p === 'string' ? new TextEncoder().encode(p) : p));
  const out = new Uint8Array(encoded.reduce((n, e) => n + 4 + e.length, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const e of encoded) {
    view.setUint32(at, e.length, true);
    out.set(e, at + 4);
    at += 4 + e.length;
  }
  return out;
}

function assertInvalid(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof FerryError && e.code === 'INVALID_ARGUMENT' && message.test(e.message));
}

describe('raw tensor codec', () => {
  it('decodes aligned numeric data as a view on the same memory, without copying', () => {
    const bytes = f32Bytes([1.5, -2, 3.25], 8);
    const data = rawToTensorData(bytes, 'FP32', 3, "input 'x'") as Float32Array;
    assert.ok(data instanceof Float32Array);
    assert.deepEqual(Array.from(data), [1.5, -2, 3.25]);
    assert.equal(data.buffer, bytes.buffer, 'a view, not a copy');
    assert.equal(data.byteOffset, 8);
  });

  it('copies misaligned data before viewing it, for every element size', () => {
    for (const offset of [1, 2, 3, 5]) {
      const bytes = f32Bytes([0.5, 1e-7, -3.5e38], offset);
      const data = rawToTensorData(bytes, 'FP32', 3, 'x') as Float32Array;
      assert.deepEqual(Array.from(data), [0.5, Math.fround(1e-7), Math.fround(-3.5e38)], `FP32 at offset ${offset}`);
      assert.notEqual(data.buffer, bytes.buffer, `offset ${offset}: copied`);
    }
    const big = [-(2n ** 63n), 2n ** 63n - 1n, 2n ** 53n + 1n];
    for (const offset of [4, 12]) {
      const data = rawToTensorData(i64Bytes(big, offset), 'INT64', 3, 'x') as BigInt64Array;
      assert.deepEqual(Array.from(data), big, `INT64 at offset ${offset} (aligned to 4, not 8)`);
    }
    const halves = le(2, [0x3c00, 0xc000], (v, at, x: number) => v.setUint16(at, x, true), 1);
    assert.deepEqual(Array.from(rawToTensorData(halves, 'FP16', 2, 'x') as Uint16Array), [0x3c00, 0xc000]);
  });

  it('reads each numeric datatype little-endian, BOOL one byte per element', () => {
    const cases: [Datatype, Uint8Array, unknown[]][] = [
      ['BOOL', new Uint8Array([1, 0, 1]), [1, 0, 1]],
      ['INT8', new Uint8Array([0xff, 0x7f]), [-1, 127]],
      ['UINT8', new Uint8Array([0xff, 0x7f]), [255, 127]],
      ['INT16', new Uint8Array([0x00, 0x80, 0x01, 0x00]), [-32768, 1]],
      ['UINT16', new Uint8Array([0xff, 0xff]), [65535]],
      ['INT32', new Uint8Array([0xfe, 0xff, 0xff, 0xff]), [-2]],
      ['UINT32', new Uint8Array([0x00, 0x00, 0x00, 0x80]), [2147483648]],
      ['UINT64', new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), [2n ** 64n - 1n]],
      ['FP64', new Uint8Array([0, 0, 0, 0, 0, 0, 0xf0, 0x3f]), [1]],
    ];
    for (const [datatype, bytes, want] of cases) {
      assert.deepEqual(Array.from(rawToTensorData(bytes, datatype, want.length, 'x') as ArrayLike<unknown>), want, datatype);
    }
  });

  it('refuses numeric data whose size does not match the element count, naming the tensor', () => {
    assertInvalid(() => rawToTensorData(f32Bytes([1, 2, 3]), 'FP32', 4, "input 'x'"), /^input 'x': FP32 data for 4 elements is 16 bytes, got 12$/);
    assertInvalid(() => rawToTensorData(new Uint8Array(9), 'INT64', 1, "input 'y'"), /^input 'y': INT64 data for 1 elements is 8 bytes, got 9$/);
  });

  it('parses BYTES elements: a 4-byte little-endian length, then the bytes, UTF-8 decoded', () => {
    const bytes = bytesElements(['gold', '', 'héllo ✓', 'a\nb']);
    assert.deepEqual(rawToTensorData(bytes, 'BYTES', 4, 'x'), ['gold', '', 'héllo ✓', 'a\nb']);
    assert.deepEqual(rawToTensorData(new Uint8Array(0), 'BYTES', 0, 'x'), []);
  });

  it('reports BYTES data that is cut short, runs over, or has bytes left over', () => {
    const two = bytesElements(['ab', 'cd']);
    assertInvalid(() => rawToTensorData(two, 'BYTES', 3, "input 's'"), /^input 's': BYTES data ends after 2 of 3 elements/);
    assertInvalid(() => rawToTensorData(two.subarray(0, 2), 'BYTES', 1, "input 's'"), /BYTES data ends after 0 of 1 elements/);
    assertInvalid(() => rawToTensorData(two.subarray(0, 5), 'BYTES', 1, "input 's'"), /^input 's': BYTES element 0 says it is 2 bytes but only 1 remain$/);
    assertInvalid(() => rawToTensorData(two, 'BYTES', 1, "input 's'"), /^input 's': BYTES data holds more than the 1 elements its shape says \(6 bytes left over\)$/);
    const huge = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x61]);
    assertInvalid(() => rawToTensorData(huge, 'BYTES', 1, 'x'), /BYTES element 0 says it is 4294967295 bytes but only 1 remain/);
  });

  it('refuses BYTES elements that are not valid UTF-8, naming the element', () => {
    for (const bad of [[0xc3, 0x28], [0xff], [0xe2, 0x82], [0xed, 0xa0, 0x80]]) {
      const bytes = bytesElements(['fine', new Uint8Array(bad)]);
      assertInvalid(() => rawToTensorData(bytes, 'BYTES', 2, "input 't'"), /^input 't': BYTES element 1 is not valid UTF-8, which string tensors need$/);
    }
  });

  it('encodes numeric data as a view of its bytes and BYTES with length prefixes', () => {
    const data = new Float32Array([1, -1]);
    const raw = tensorDataToRaw(data, 'FP32');
    assert.equal(raw.buffer, data.buffer, 'no copy');
    assert.deepEqual(Array.from(raw), [0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x80, 0xbf]);
    const sub = new Int16Array([7, 8, 9]).subarray(1);
    assert.deepEqual(Array.from(tensorDataToRaw(sub, 'INT16')), [8, 0, 9, 0], 'a subarray encodes only its own elements');
    assert.deepEqual(Array.from(tensorDataToRaw(['ab', '', 'é'], 'BYTES')), [2, 0, 0, 0, 0x61, 0x62, 0, 0, 0, 0, 2, 0, 0, 0, 0xc3, 0xa9]);
  });

  it('round-trips every datatype', () => {
    const cases: [Datatype, ArrayLike<unknown> | string[]][] = [
      ['BOOL', new Uint8Array([1, 0])], ['INT8', new Int8Array([-128, 127])], ['INT16', new Int16Array([-1, 300])],
      ['INT32', new Int32Array([-5, 2 ** 31 - 1])], ['INT64', new BigInt64Array([-(2n ** 63n), 5n])],
      ['UINT8', new Uint8Array([0, 255])], ['UINT16', new Uint16Array([65535, 1])], ['UINT32', new Uint32Array([2 ** 32 - 1, 0])],
      ['UINT64', new BigUint64Array([2n ** 64n - 1n, 0n])], ['FP16', new Uint16Array([0x3c00, 0x7e00])],
      ['FP32', new Float32Array([NaN, -Infinity])], ['FP64', new Float64Array([5e-324, -0])], ['BYTES', ['x', 'ünï', '']],
    ];
    for (const [datatype, data] of cases) {
      const raw = tensorDataToRaw(data as never, datatype);
      assert.deepEqual(rawToTensorData(raw, datatype, data.length, 'x'), data, datatype);
    }
  });
});
