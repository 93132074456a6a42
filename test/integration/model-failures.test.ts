/**
 * A model that fails to load (corrupt file, unsupported operator, bad config, missing file) never stops the
 * server: the others serve, and its metadata and ready endpoints say it is unavailable and why.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { postJson, request, startTestServer, EXAMPLES, type TestServer } from '../helpers/server.js';
import { TempRepository, unsupportedOperatorModel } from '../helpers/repository.js';
import { asRequestInputs, referenceModels } from '../helpers/reference.js';

const mlpCase = referenceModels().find((r) => r.model === 'mlp')!.cases[0]!;

describe('models that fail to load', () => {
  const repo = new TempRepository();
  let server: TestServer;
  before(async () => {
    const real = readFileSync(join(EXAMPLES, 'mlp', '1', 'model.onnx'));
    repo
      .copyModel('mlp', 'good')
      .write('corrupt/1/model.onnx', 'this is not an onnx model')
      .write('truncated/1/model.onnx', real.subarray(0, real.length / 2))
      .write('unsupported_op/1/model.onnx', unsupportedOperatorModel())
      .copyModel('mlp', 'bad_config')
      .write('bad_config/config.yaml', 'version_polcy:\n  all: {}\n')
      .copyModel('mlp', 'wrong_name')
      .write('wrong_name/config.json', '{"name": "other"}')
      .write('no_file/1/weights.bin', 'x')
      .write('no_versions/README.md', 'nothing here');
    server = await startTestServer({ modelRepository: repo.root });
  });
  after(async () => {
    await server.stop();
    repo.remove();
  });

  it('the good model serves and the server is ready (not strict)', async () => {
    const reply = await postJson(`${server.url}/v2/models/good/infer`, { inputs: asRequestInputs(mlpCase.inputs) });
    assert.equal(reply.status, 200, reply.text);
    assert.equal((await request(`${server.url}/v2/health/ready`)).status, 200);
  });

  const cases: [string, RegExp][] = [
    ['corrupt', /model 'corrupt' version 1 is unavailable: failed to load: onnxruntime could not load .*corrupt\/1\/model.onnx: .*(protobuf|parsing)/i],
    ['truncated', /model 'truncated' version 1 is unavailable: failed to load: onnxruntime could not load/],
    ['unsupported_op', /model 'unsupported_op' version 1 is unavailable: failed to load: .*NoSuchOperator/],
    ['bad_config', /model 'bad_config' is unavailable: invalid model config .*config.yaml: unknown key 'version_polcy'/],
    ['wrong_name', /model 'wrong_name' is unavailable: config.json names the model 'other' but its folder is 'wrong_name'/],
    ['no_file', /model 'no_file' version 1 is unavailable: failed to load: model file .*no_file\/1\/model.onnx does not exist/],
    ['no_versions', /model 'no_versions' is unavailable: no version folders in .*no_versions/],
  ];
  for (const [name, message] of cases) {
    it(`${name}: metadata, ready and infer answer 503 with the reason`, async () => {
      for (const path of [`/v2/models/${name}`, `/v2/models/${name}/ready`]) {
        const reply = await request(server.url + path);
        assert.equal(reply.status, 503, path);
        assert.match(reply.body.error, message, path);
      }
      const infer = await postJson(`${server.url}/v2/models/${name}/infer`, { inputs: asRequestInputs(mlpCase.inputs) });
      assert.equal(infer.status, 503);
      assert.match(infer.body.error, message);
    });
  }

  it('the repository index shows each state and reason', async () => {
    const reply = await request(`${server.url}/v2/repository/index`, { method: 'POST' });
    const byName = new Map(reply.body.map((e: { name: string }) => [e.name, e]));
    assert.deepEqual(byName.get('good'), { name: 'good', version: '1', state: 'READY' });
    assert.equal((byName.get('corrupt') as { state: string }).state, 'UNAVAILABLE');
    assert.match((byName.get('unsupported_op') as { reason: string }).reason, /NoSuchOperator/);
  });
});

describe('strict readiness', () => {
  it('with --strict-readiness one unavailable model keeps the server not ready, saying which', async () => {
    const repo = new TempRepository().copyModel('mlp', 'good').write('corrupt/1/model.onnx', 'junk');
    const server = await startTestServer({ modelRepository: repo.root, strictReadiness: true });
    try {
      const reply = await request(`${server.url}/v2/health/ready`);
      assert.equal(reply.status, 503);
      assert.match(reply.body.error, /strict readiness.*corrupt version 1 is UNAVAILABLE/);
      assert.equal((await request(`${server.url}/v2/health/live`)).status, 200);
      assert.equal((await request(`${server.url}/v2/models/good/ready`)).status, 200);
    } finally {
      await server.stop();
      repo.remove();
    }
  });
});
