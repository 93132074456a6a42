import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fromHalfBits, toHalfBits } from '../../src/tensor/fp16.js';
import { flatten, jsonToTensorData, tensorDataToJson } from '../../src/tensor/json-codec.js';

describe('fp16', () => {
  it('round-trips the values half precision holds exactly, and rounds the rest to nearest', () => {
    for (const v of [0, -0, 1, -2, 0.5, 65504, -65504, 2 ** -14, 2 ** -24, 1.5, 3.140625]) {
      assert.equal(fromHalfBits(toHalfBits(v)), v, String(v));
    }
    assert.equal(toHalfBits(1), 0x3c00);
    assert.equal(toHalfBits(65520), 0x7c00, 'overflow is infinity');
    assert.equal(fromHalfBits(toHalfBits(Infinity)), Infinity);
    assert.ok(Number.isNaN(fromHalfBits(toHalfBits(NaN))));
    assert.equal(fromHalfBits(toHalfBits(0.1)), 0.0999755859375);
    assert.equal(toHalfBits(2 ** -26), 0, 'below the smallest subnormal is zero');
  });
});

describe('JSON tensor codec', () => {
  it('flattens nested data in row-major order and leaves flat data alone', () => {
    const flat = [1, 2, 3];
    assert.equal(flatten(flat), flat);
    assert.deepEqual(flatten([[[1, 2], [3, 4]], [[5, 6], [7, 8]]]), [1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('decodes each datatype into its typed array', () => {
    assert.deepEqual(jsonToTensorData([true, false, 1, 0], 'BOOL', 'x'), new Uint8Array([1, 0, 1, 0]));
    assert.deepEqual(jsonToTensorData([-5, 7], 'INT64', 'x'), new BigInt64Array([-5n, 7n]));
    assert.deepEqual(jsonToTensorData([1.5], 'FP32', 'x'), new Float32Array([1.5]));
    assert.deepEqual(jsonToTensorData(['a', ''], 'BYTES', 'x'), ['a', '']);
  });

  it('writes JSON exactly, 64-bit integers included, and non-finite floats as Python reads them', () => {
    assert.equal(tensorDataToJson(new BigInt64Array([9223372036854775807n, -1n]), 'INT64'), '[9223372036854775807,-1]');
    assert.equal(tensorDataToJson(new Uint8Array([1, 0]), 'BOOL'), '[true,false]');
    assert.equal(tensorDataToJson(new Float64Array([0.25, NaN, -Infinity]), 'FP64'), '[0.25,NaN,-Infinity]');
    assert.equal(tensorDataToJson(new Uint16Array([0x3c00]), 'FP16'), '[1]');
    assert.equal(tensorDataToJson(['a"b'], 'BYTES'), '["a\\"b"]');
  });
});
