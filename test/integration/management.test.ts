/**
 * The management port: Triton's model repository extension over REST and gRPC on one port, the bearer token, the
 * public ports refusing load and unload, and every bad request answered with a clear 4xx while the server and its
 * other models go on.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import { postJson, request, startTestServer, type TestServer } from '../helpers/server.js';
import { TempRepository } from '../helpers/repository.js';
import { asRequestInputs, referenceModels } from '../helpers/reference.js';
import { V2GrpcClient } from '../helpers/grpc-client.js';
import { startServer } from '../../src/server.js';
import { loadRuntime, type RuntimeLoader } from '../../src/runtime/load.js';

const mlpInputs = asRequestInputs(referenceModels().find((r) => r.model === 'mlp')!.cases[0]!.inputs);
const TOKEN = 'a-management-token-for-tests-0123456789';

function managementUrl(server: TestServer): string {
  return `http://127.0.0.1:${server.managementPort}`;
}

function post(url: string, body: unknown = {}, headers: Record<string, string> = {}) {
  return request(url, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });
}

describe('management port (explicit model control, no token, loopback)', () => {
  let repo: TempRepository;
  let server: TestServer;
  let mgmt: string;

  before(async () => {
    repo = new TempRepository().copyModel('mlp', 'm', 1).copyModel('mlp', 'm', 2).copyModel('mlp', 'other', 1);
    server = await startTestServer({ modelRepository: repo.root, modelControlMode: 'explicit', loadModels: ['other'] });
    mgmt = managementUrl(server);
  });

  after(async () => {
    await server.stop();
    repo.remove();
  });

  it('lists models not loaded, loads one (REST), and answers what changed', async () => {
    const index = await post(`${mgmt}/v2/repository/index`);
    assert.equal(index.status, 200);
    assert.deepEqual(index.body.find((r: { name: string }) => r.name === 'm'), {
      name: 'm',
      state: 'UNAVAILABLE',
      reason: 'not loaded: the model control mode is explicit (load it with POST /v2/repository/models/NAME/load on the management port, or --load-model at start)',
    });
    const notLoaded = await postJson(`${server.url}/v2/models/m/infer`, { inputs: mlpInputs });
    assert.equal(notLoaded.status, 404);
    assert.match(notLoaded.body.error, /model 'm' is not loaded/);
    const load = await post(`${mgmt}/v2/repository/models/m/load`);
    assert.equal(load.status, 200, load.text);
    assert.deepEqual(load.body, { model: 'm', loaded: [2], unloaded: [], serving: [2] });
    assert.equal((await postJson(`${server.url}/v2/models/m/infer`, { inputs: mlpInputs })).body.model_version, '2');
    const ready = await post(`${mgmt}/v2/repository/index`, { ready: true });
    assert.deepEqual(ready.body.map((r: { name: string; version: string }) => `${r.name}:${r.version}`), ['m:2', 'other:1']);
  });

  it('loads with a config from the request (Triton\'s parameters.config, as JSON text) instead of the file', async () => {
    const load = await post(`${mgmt}/v2/repository/models/m/load`, { parameters: { config: JSON.stringify({ version_policy: { all: {} } }) } });
    assert.equal(load.status, 200, load.text);
    assert.deepEqual(load.body.serving, [1, 2]);
    assert.deepEqual((await request(`${server.url}/v2/models/m`)).body.versions, ['1', '2']);
    const back = await post(`${mgmt}/v2/repository/models/m/load`); // a load without one goes back to the file's
    assert.deepEqual(back.body.serving, [2]);
    assert.deepEqual(back.body.unloaded, [1]);
  });

  it('unloads (drained), after which the model is not loaded until loaded again', async () => {
    const unload = await post(`${mgmt}/v2/repository/models/m/unload`);
    assert.equal(unload.status, 200, unload.text);
    assert.deepEqual(unload.body, { model: 'm', loaded: [], unloaded: [2], serving: [] });
    const infer = await postJson(`${server.url}/v2/models/m/infer`, { inputs: mlpInputs });
    assert.equal(infer.status, 404);
    assert.match(infer.body.error, /not loaded: unloaded by a management request/);
    const again = await post(`${mgmt}/v2/repository/models/m/unload`);
    assert.equal(again.status, 409);
    assert.match(again.body.error, /model 'm' is not loaded, so there is nothing to unload/);
  });

  it('serves the same over gRPC on the same port (Triton\'s RepositoryIndex, RepositoryModelLoad, RepositoryModelUnload)', async () => {
    const client = new V2GrpcClient(`127.0.0.1:${server.managementPort}`);
    try {
      const load = await client.call('RepositoryModelLoad', { model_name: 'm', parameters: { config: { string_param: '{"version_policy": {"specific": {"versions": [1]}}}' } } });
      assert.equal(load.error, null);
      assert.deepEqual((await request(`${server.url}/v2/models/m`)).body.versions, ['1']);
      const index = await client.call('RepositoryIndex', { ready: true });
      assert.deepEqual(index.response.models.map((m: { name: string; version: string; state: string }) => `${m.name}:${m.version}:${m.state}`), ['m:1:READY', 'other:1:READY']);
      const unload = await client.call('RepositoryModelUnload', { model_name: 'm' });
      assert.equal(unload.error, null);
      const bad = await client.call('RepositoryModelLoad', { model_name: 'nope' });
      assert.equal(bad.error?.code, grpc.status.NOT_FOUND);
      assert.match(bad.error!.details, /no model folder 'nope' in the repository/);
      const infer = await client.call('ModelInfer', { model_name: 'other', inputs: [] });
      assert.equal(infer.error?.code, grpc.status.UNIMPLEMENTED, 'inference is the public ports\'');
    } finally {
      client.close();
    }
  });

  it('refuses load and unload on the public ports, naming the management port; the index stays readable there', async () => {
    for (const action of ['load', 'unload']) {
      const reply = await post(`${server.url}/v2/repository/models/other/${action}`);
      assert.equal(reply.status, 403);
      assert.equal(reply.body.error, `model load and unload are served only on the management port (127.0.0.1:${server.managementPort}), never on a public port`);
    }
    const client = new V2GrpcClient(server.grpcAddress);
    try {
      const load = await client.call('RepositoryModelLoad', { model_name: 'other' });
      assert.equal(load.error?.code, grpc.status.PERMISSION_DENIED);
      assert.match(load.error!.details, /served only on the management port/);
      const index = await client.call('RepositoryIndex', {});
      assert.ok(index.response.models.some((m: { name: string; state: string }) => m.name === 'other' && m.state === 'READY'));
    } finally {
      client.close();
    }
    assert.equal((await request(`${server.url}/v2/repository/index`)).status, 200);
  });

  it('answers each bad request with a clear 4xx, and the other models go on', async () => {
    const cases: [string, string, unknown, number, RegExp][] = [
      ['unknown model', 'nope/load', {}, 404, /no model folder 'nope' in the repository .* \(models there: m, other\)/],
      ['a path for a name', '..%2F..%2Fetc/load', {}, 400, /'..\/..\/etc' is not a model name/],
      ['a hidden folder for a name', '.git/load', {}, 400, /is not a model name/],
      ['config not JSON', 'm/load', { parameters: { config: '{max_batch_size: 4' } }, 400, /parameters.config must be a JSON model config/],
      ['config with an unknown key', 'm/load', { parameters: { config: '{"max_batch_sise": 4}' } }, 400, /unknown key 'max_batch_sise'/],
      ['config with a wrong type', 'm/load', { parameters: { config: '{"max_batch_size": "four"}' } }, 400, /max_batch_size: .*number/],
      ['config not an object', 'm/load', { parameters: { config: 7 } }, 400, /parameter 'config' must be a JSON model config/],
      ['model files in the request', 'm/load', { parameters: { 'file:1/model.onnx': 'AAAA' } }, 400, /does not take model files in a load request/],
      ['an unknown parameter', 'm/load', { parameters: { url: 'http://example.com/model.onnx' } }, 400, /unknown load parameter 'url' \(accepted: config\)/],
      ['a body that is not JSON', 'm/load', '{"parameters":', 400, /request body is not valid JSON/],
      ['unload of an unknown model', 'nope/unload', {}, 404, /unknown model 'nope'/],
    ];
    for (const [what, path, body, status, message] of cases) {
      const reply = await post(`${mgmt}/v2/repository/models/${path}`, body);
      assert.equal(reply.status, status, `${what}: ${reply.text}`);
      assert.match(reply.body.error, message, what);
    }
    const get = await request(`${mgmt}/v2/repository/models/m/load`);
    assert.equal(get.status, 405);
    assert.equal((await request(`${mgmt}/v2/models/other/infer`)).status, 404);
    assert.equal((await postJson(`${server.url}/v2/models/other/infer`, { inputs: mlpInputs })).status, 200);
  });

  it('answers a load of a model whose new version cannot load with the reason, and keeps what serves', async () => {
    repo.write('other/2/model.onnx', 'not a model');
    const reply = await post(`${mgmt}/v2/repository/models/other/load`);
    assert.equal(reply.status, 400);
    assert.match(reply.body.error, /model 'other' did not load: version 2 failed to load: onnxruntime could not load .*; still serving version 1/);
    assert.equal((await postJson(`${server.url}/v2/models/other/infer`, { inputs: mlpInputs })).body.model_version, '1');
  });
});

describe('management port with a bearer token', () => {
  let repo: TempRepository;
  let server: TestServer;

  before(async () => {
    repo = new TempRepository().copyModel('mlp', 'm', 1);
    server = await startTestServer({ modelRepository: repo.root, managementToken: TOKEN });
  });

  after(async () => {
    await server.stop();
    repo.remove();
  });

  it('refuses REST without the token or with another, and accepts it; liveness needs none', async () => {
    const url = `${managementUrl(server)}/v2/repository/index`;
    const none = await request(url);
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer');
    assert.match(none.body.error, /needs a bearer token/);
    const wrong = await request(url, { headers: { authorization: 'Bearer not-the-token-at-all-nope' } });
    assert.equal(wrong.status, 401);
    assert.match(wrong.body.error, /not the management token/);
    const right = await request(url, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(right.status, 200);
    const unload = await post(`${managementUrl(server)}/v2/repository/models/m/unload`, {}, { authorization: 'Bearer wrong' });
    assert.equal(unload.status, 401);
    assert.equal((await postJson(`${server.url}/v2/models/m/infer`, { inputs: mlpInputs })).status, 200, 'nothing was unloaded');
    assert.equal((await request(`${managementUrl(server)}/v2/health/live`)).status, 200);
  });

  it('refuses gRPC without the token, and accepts it in the authorization metadata', async () => {
    const client = new V2GrpcClient(`127.0.0.1:${server.managementPort}`);
    try {
      const none = await client.call('RepositoryIndex', {});
      assert.equal(none.error?.code, grpc.status.UNAUTHENTICATED);
      const metadata = new grpc.Metadata();
      metadata.set('authorization', `Bearer ${TOKEN}`);
      const ok = await client.call('RepositoryIndex', {}, metadata);
      assert.equal(ok.error, null);
      assert.equal(ok.response.models[0].name, 'm');
    } finally {
      client.close();
    }
  });
});

describe('management port: secure by default', () => {
  it('refuses to start listening beyond loopback without a token, or with a short one', async () => {
    const repo = new TempRepository().copyModel('mlp', 'm', 1);
    const base = { modelRepository: repo.root, host: '127.0.0.1', httpPort: 0, grpcPort: 0, managementPort: 0, logger: pino({ level: 'silent' }) };
    try {
      await assert.rejects(startServer({ ...base, managementHost: '0.0.0.0' }), /management port would listen on 0.0.0.0, beyond this machine, without a token: set --management-token or FERRY_MANAGEMENT_TOKEN/);
      await assert.rejects(startServer({ ...base, managementHost: '0.0.0.0', managementToken: 'short' }), /at least 16 characters/);
      const server = await startServer({ ...base, managementHost: '0.0.0.0', managementToken: TOKEN });
      await server.loaded;
      assert.equal((await request(`http://127.0.0.1:${server.managementPort}/v2/repository/index`)).status, 401);
      await server.stop();
    } finally {
      repo.remove();
    }
  });

  it('answers a load while the same model is loading with 409, and the first load completes', async () => {
    const repo = new TempRepository().copyModel('mlp', 'm', 1);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let gated = false;
    const loader: RuntimeLoader = async (file, context) => {
      if (gated) await gate;
      return loadRuntime(file, context);
    };
    const server = await startTestServer({ modelRepository: repo.root, modelControlMode: 'explicit', loader });
    try {
      gated = true;
      const first = post(`${managementUrl(server)}/v2/repository/models/m/load`);
      await new Promise((r) => setTimeout(r, 100));
      const second = await post(`${managementUrl(server)}/v2/repository/models/m/load`);
      assert.equal(second.status, 409);
      assert.match(second.body.error, /model 'm' is already being loaded or unloaded; retry once that is over/);
      const unload = await post(`${managementUrl(server)}/v2/repository/models/m/unload`);
      assert.equal(unload.status, 409);
      release();
      assert.equal((await first).status, 200);
    } finally {
      release();
      await server.stop();
      repo.remove();
    }
  });
});
