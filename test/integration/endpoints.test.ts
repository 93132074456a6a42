/** Every V2 REST endpoint over real HTTP against the example repository. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request, startTestServer, type TestServer } from '../helpers/server.js';

describe('V2 REST endpoints', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.stop());

  it('GET /v2/health/live and /v2/health/ready answer 200 with an empty body', async () => {
    for (const path of ['/v2/health/live', '/v2/health/ready']) {
      const reply = await request(server.url + path);
      assert.equal(reply.status, 200, path);
      assert.equal(reply.text, '');
    }
  });

  it('GET /v2 gives the server metadata', async () => {
    const reply = await request(`${server.url}/v2`);
    assert.equal(reply.status, 200);
    assert.equal(reply.headers.get('content-type'), 'application/json');
    assert.equal(reply.body.name, 'ferry');
    assert.match(reply.body.version, /^\d+\.\d+\.\d+/);
    assert.ok(Array.isArray(reply.body.extensions));
  });

  it('GET /v2/models/NAME gives inputs and outputs with V2 datatypes and -1 for dynamic dimensions', async () => {
    const reply = await request(`${server.url}/v2/models/image_cnn`);
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.body, {
      name: 'image_cnn',
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'image', datatype: 'FP32', shape: [-1, 3, 128, 128] }],
      outputs: [{ name: 'logits', datatype: 'FP32', shape: [-1, 10] }],
    });
  });

  it('GET /v2/models/NAME/versions/V gives that version', async () => {
    const reply = await request(`${server.url}/v2/models/two_inputs/versions/1`);
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.body.versions, ['1']);
    assert.deepEqual(reply.body.inputs.map((i: { name: string; datatype: string }) => `${i.name}:${i.datatype}`), ['features:FP32', 'category:INT64']);
    assert.deepEqual(reply.body.outputs.map((i: { name: string; datatype: string }) => `${i.name}:${i.datatype}`), ['score:FP32', 'class_id:INT64']);
  });

  it('GET /v2/models/NAME[/versions/V]/ready answers 200 for a ready model', async () => {
    assert.equal((await request(`${server.url}/v2/models/mlp/ready`)).status, 200);
    assert.equal((await request(`${server.url}/v2/models/mlp/versions/1/ready`)).status, 200);
  });

  it('unknown models and versions are 404 with a message naming them', async () => {
    const cases: [string, RegExp][] = [
      ['/v2/models/nope', /unknown model 'nope'/],
      ['/v2/models/nope/ready', /unknown model 'nope'/],
      ['/v2/models/mlp/versions/7', /model 'mlp' has no version '7' \(served versions: 1\)/],
      ['/v2/models/mlp/versions/7/ready', /no version '7'/],
      ['/v2/models/mlp/versions/latest', /no version 'latest'/],
    ];
    for (const [path, message] of cases) {
      const reply = await request(server.url + path);
      assert.equal(reply.status, 404, path);
      assert.match(reply.body.error, message, path);
    }
    const infer = await request(`${server.url}/v2/models/nope/infer`, { method: 'POST', body: '{"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1]}]}' });
    assert.equal(infer.status, 404);
    assert.match(infer.body.error, /unknown model 'nope'/);
  });

  it('an unknown path is 404 and a wrong method is 405 with Allow', async () => {
    const missing = await request(`${server.url}/v3/models/mlp`); // not /v1: that is the records API now
    assert.equal(missing.status, 404);
    assert.match(missing.body.error, /no route for GET \/v3\/models\/mlp/);
    const wrong = await request(`${server.url}/v2/models/mlp/infer`);
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.get('allow'), 'POST');
    assert.match(wrong.body.error, /method GET is not allowed/);
  });

  it('the repository index lists every model version with its state', async () => {
    const reply = await request(`${server.url}/v2/repository/index`, { method: 'POST' });
    assert.equal(reply.status, 200);
    const mlp = reply.body.find((e: { name: string }) => e.name === 'mlp');
    assert.deepEqual(mlp, { name: 'mlp', version: '1', state: 'READY' });
  });
});
