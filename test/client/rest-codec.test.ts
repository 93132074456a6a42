/** The client's V2 REST bodies: JSON and binary requests byte for byte, and responses (JSON, binary, NaN tokens). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRestResponse, encodeRestRequest, parseV2Json } from '../../src/client/index.js';

const inputs = [
  { name: 'x', datatype: 'FP32' as const, shape: [1, 2], data: new Float32Array([0.5, 2]) },
  { name: 's', datatype: 'BYTES' as const, shape: [1], data: ['hé'] },
];

describe('client REST codec', () => {
  it('encodes JSON requests with id, parameters and outputs', () => {
    const { body, headers } = encodeRestRequest({ inputs, id: 'r1', parameters: { p: 1 }, outputs: [{ name: 'y' }] }, 'json');
    assert.deepEqual(JSON.parse(body.toString()), {
      id: 'r1', parameters: { p: 1 },
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [0.5, 2] }, { name: 's', datatype: 'BYTES', shape: [1], data: ['hé'] }],
      outputs: [{ name: 'y' }],
    });
    assert.equal(headers['Content-Length'], String(body.length));
    assert.equal(headers['Inference-Header-Content-Length'], undefined);
  });

  it('encodes binary requests: JSON header, then each input raw, little-endian, BYTES length-prefixed', () => {
    const { body, headers } = encodeRestRequest({ inputs }, 'binary');
    const jsonLength = Number(headers['Inference-Header-Content-Length']);
    assert.deepEqual(JSON.parse(body.toString('utf8', 0, jsonLength)), {
      parameters: { binary_data_output: true },
      inputs: [
        { name: 'x', datatype: 'FP32', shape: [1, 2], parameters: { binary_data_size: 8 } },
        { name: 's', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: 7 } },
      ],
    });
    const raw = body.subarray(jsonLength);
    assert.equal(raw.length, 15);
    assert.equal(raw.readFloatLE(0), 0.5);
    assert.equal(raw.readFloatLE(4), 2);
    assert.equal(raw.readUInt32LE(8), 3);
    assert.equal(raw.subarray(12).toString(), 'hé');
    assert.equal(headers['Content-Type'], 'application/octet-stream');
  });

  it('decodes binary and JSON outputs, and the NaN/Infinity tokens V2 servers write', () => {
    const json = Buffer.from('{"model_name":"m","model_version":"1","outputs":[{"name":"a","datatype":"INT64","shape":[2],"parameters":{"binary_data_size":16}},{"name":"b","datatype":"FP32","shape":[3],"data":[NaN,-Infinity,1.5]}]}');
    const raw = Buffer.alloc(16);
    raw.writeBigInt64LE(7n, 0);
    raw.writeBigInt64LE(-1n, 8);
    const result = decodeRestResponse(Buffer.concat([json, raw]), json.length);
    assert.equal(result.modelVersion, '1');
    assert.deepEqual(Array.from(result.outputs[0]!.data as BigInt64Array), [7n, -1n]);
    const b = Array.from(result.outputs[1]!.data as Float32Array);
    assert.ok(Number.isNaN(b[0]));
    assert.deepEqual(b.slice(1), [-Infinity, 1.5]);
    assert.deepEqual(parseV2Json('{"s":"NaN is a word","v":[Infinity]}'), { s: 'NaN is a word', v: ['Infinity'] });
    assert.throws(() => decodeRestResponse(Buffer.from('{"error":"x"}'), undefined), /no "outputs" array/);
  });
});
