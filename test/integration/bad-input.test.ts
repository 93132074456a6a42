/**
 * Bad input gets a clear error (status and a message naming what is wrong), never a crash; after every bad
 * request the server still answers a good one.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { postJson, request, startTestServer, type TestServer } from '../helpers/server.js';
import { V2GrpcClient } from '../helpers/grpc-client.js';

const row = Array.from({ length: 30 }, (_, i) => i / 10);
const good = { inputs: [{ name: 'float_input', datatype: 'FP32', shape: [1, 30], data: row }] };
const withInput = (input: object) => ({ inputs: [{ name: 'float_input', datatype: 'FP32', shape: [1, 30], data: row, ...input }] });

/** [what, body, status, message pattern] against breast_cancer (one FP32 input [-1,30]). */
const CASES: [string, unknown, number, RegExp][] = [
  ['malformed JSON', '{"inputs": [', 400, /malformed JSON in request body/],
  ['body not an object', '[1,2]', 400, /request body must be a JSON object/],
  ['no inputs', { inputs: [] }, 400, /"inputs" must be a non-empty array/],
  ['id not a string', { ...good, id: 5 }, 400, /"id" must be a string/],
  ['unknown input name', withInput({ name: 'features' }), 400, /unknown input 'features' for model 'breast_cancer' \(its inputs: 'float_input'\)/],
  ['missing data', { inputs: [{ name: 'float_input', datatype: 'FP32', shape: [1, 30] }] }, 400, /input 'float_input': data must be an array.*got nothing/],
  ['wrong shape', withInput({ shape: [1, 29], data: row.slice(1) }), 400, /input 'float_input': expected shape \[-1,30\], got \[1,29\]/],
  ['wrong rank', withInput({ shape: [30] }), 400, /expected shape \[-1,30\], got \[30\]/],
  ['bad shape', withInput({ shape: [1, -30] }), 400, /shape must be an array of non-negative integers/],
  ['wrong datatype', withInput({ datatype: 'FP64' }), 400, /input 'float_input': expected datatype FP32, got FP64/],
  ['not a datatype', withInput({ datatype: 'FLOAT' }), 400, /datatype "FLOAT" is not a V2 datatype \(expected one of BOOL/],
  ['too few elements', withInput({ shape: [2, 30] }), 400, /input 'float_input': shape \[2,30\] holds 60 elements, but the data has 30/],
  ['too many elements', withInput({ data: [...row, 1] }), 400, /shape \[1,30\] holds 30 elements, but the data has 31/],
  ['a string in a numeric tensor', withInput({ data: [...row.slice(0, 29), 'abc'] }), 400, /input 'float_input': element 29 is "abc", expected a number for FP32/],
  ['null in a numeric tensor', withInput({ data: [null, ...row.slice(1)] }), 400, /element 0 is null, expected a number for FP32/],
  ['an object in a numeric tensor', withInput({ data: [{}, ...row.slice(1)] }), 400, /element 0 is an object, expected a number/],
  ['unknown output', { ...good, outputs: [{ name: 'probabilities' }] }, 400, /unknown output 'probabilities' requested from model 'breast_cancer' \(its outputs: 'output_label', 'output_probability'\)/],
  ['input twice', { inputs: [good.inputs[0], good.inputs[0]] }, 400, /input 'float_input' is given more than once/],
  ['a value past FP32\'s range', withInput({ data: [...row.slice(0, 7), 1e60, ...row.slice(8)] }), 400, /input 'float_input': element 7 is 1e\+60, expected a number within FP32's range \(\+\/-3.4028234663852886e\+38\)/],
  ['ragged nested data', withInput({ shape: [2, 15], data: [row.slice(0, 13), row.slice(13)] }), 400, /input 'float_input': data\[0\] holds 13 values, but the shape \[2,15\] says 15 \(nested data must match the shape, or be flat\)/],
  ['nested data of another shape', withInput({ data: [row.slice(0, 29), [1]] }), 400, /input 'float_input': data holds 2 values, but the shape \[1,30\] says 1/],
];

describe('bad input', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ maxBodyBytes: 64 * 1024 });
  });
  after(() => server.stop());

  async function assertStillServing(): Promise<void> {
    const reply = await postJson(`${server.url}/v2/models/breast_cancer/infer`, good);
    assert.equal(reply.status, 200, reply.text);
  }

  for (const [what, body, status, message] of CASES) {
    it(`${what}: ${status}`, async () => {
      const reply = await postJson(`${server.url}/v2/models/breast_cancer/infer`, body);
      assert.equal(reply.status, status, reply.text);
      assert.equal(reply.headers.get('content-type'), 'application/json');
      assert.match(reply.body.error, message);
      await assertStillServing();
    });
  }

  it('missing input: 400 naming it', async () => {
    const reply = await postJson(`${server.url}/v2/models/two_inputs/infer`, {
      inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 8], data: [1, 2, 3, 4, 5, 6, 7, 8] }],
    });
    assert.equal(reply.status, 400);
    assert.match(reply.body.error, /missing input 'category' for model 'two_inputs' \(its inputs: 'features', 'category'\)/);
  });

  it('integers out of range, fractions and unsafe 64-bit values are refused by datatype', async () => {
    const cases: [string, string, unknown, RegExp][] = [
      ['in_int8', 'INT8', 128, /element 1 is 128, expected an integer from -128 to 127 for INT8/],
      ['in_uint8', 'UINT8', -1, /expected an integer from 0 to 255 for UINT8/],
      ['in_int32', 'INT32', 1.5, /element 1 is 1.5, expected an integer/],
      ['in_int64', 'INT64', 2 ** 60, /within \+\/-2\^53 for INT64/],
      ['in_bool', 'BOOL', 'yes', /element 1 is "yes", expected true or false for BOOL/],
      ['in_bytes', 'BYTES', 7, /element 1 is 7, expected a string for BYTES/],
      ['in_fp16', 'FP16', 'x', /expected a number for FP16/],
    ];
    for (const [name, datatype, bad, message] of cases) {
      const reply = await postJson(`${server.url}/v2/models/datatypes/infer`, {
        inputs: [{ name, datatype, shape: [1, 2], data: [datatype === 'BYTES' ? 'a' : datatype === 'BOOL' ? true : 0, bad] }],
      });
      assert.equal(reply.status, 400, `${name}: ${reply.text}`);
      assert.match(reply.body.error, message, name);
    }
  });

  it('a BYTES element with a NUL byte bound for an ONNX string input is refused, not truncated', async () => {
    const reply = await postJson(`${server.url}/v2/models/text_category/infer`, {
      inputs: [{ name: 'input', datatype: 'BYTES', shape: [1, 1], data: ['red\u0000small'] }],
    });
    assert.equal(reply.status, 400);
    assert.match(reply.body.error, /input 'input': element 0 contains a NUL byte/);
    await assertStillServing();
  });

  it('a body over the limit is 413, by Content-Length or while streaming', async () => {
    const big = JSON.stringify({ inputs: [{ name: 'float_input', datatype: 'FP32', shape: [3000, 30], data: new Array(90000).fill(0.5) }] });
    const reply = await postJson(`${server.url}/v2/models/breast_cancer/infer`, big);
    assert.equal(reply.status, 413);
    assert.match(reply.body.error, /larger than the limit of 65536 bytes/);
    // Chunked, so no Content-Length: the limit is enforced as the bytes arrive.
    const streamed = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(`${server.url}/v2/models/breast_cancer/infer`, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      for (let i = 0; i < 10; i++) req.write(big.slice(i * 10_000, (i + 1) * 10_000));
      req.end();
    });
    assert.equal(streamed.status, 413);
    assert.match(streamed.body, /larger than the limit/);
    await assertStillServing();
  });

  it('nested data that matches the shape is accepted', async () => {
    const reply = await postJson(`${server.url}/v2/models/breast_cancer/infer`, withInput({ shape: [2, 30], data: [row, row] }));
    assert.equal(reply.status, 200, reply.text);
    const inner = await postJson(`${server.url}/v2/models/breast_cancer/infer`, withInput({ shape: [2, 30], data: [row, [...row.slice(0, 29), [1]]] }));
    assert.equal(inner.status, 400);
    assert.match(inner.body.error, /data\[1\]\[29\] is an array, but the shape \[2,30\] has no more dimensions/);
  });

  it('an unknown model answers 404 whatever its body, REST and gRPC alike', async () => {
    for (const body of ['', '{"inputs": [', JSON.stringify(good)]) {
      const reply = await postJson(`${server.url}/v2/models/nope/infer`, body);
      assert.equal(reply.status, 404, `${JSON.stringify(body)}: ${reply.text}`);
      assert.match(reply.body.error, /unknown model 'nope'/);
    }
    const version = await postJson(`${server.url}/v2/models/breast_cancer/versions/9/infer`, '');
    assert.equal(version.status, 404);
    const client = new V2GrpcClient(server.grpcAddress);
    try {
      const empty = await client.call('ModelInfer', { model_name: 'nope' });
      assert.equal(empty.error?.code, grpc.status.NOT_FOUND);
      assert.match(empty.error!.details, /unknown model 'nope'/);
    } finally {
      client.close();
    }
    await assertStillServing();
  });

  it('a malformed percent-encoding in the path is 400', async () => {
    const reply = await request(`${server.url}/v2/models/%E0%A4%A/ready`);
    assert.equal(reply.status, 400);
    assert.match(reply.body.error, /malformed percent-encoding/);
  });
});
