/**
 * Triton's model configuration extension (GET /v2/models/NAME[/versions/V]/config, gRPC ModelConfig) on the real
 * server: the effective configuration of a model with batching, instance groups, a version policy and parameters
 * written in its config.yaml, of one with none (ferry's defaults said out loud), and of one that does not batch,
 * each checked field by field against what the config and the ONNX file say.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { postJson, request, startTestServer, type TestServer } from '../helpers/server.js';
import { TempRepository } from '../helpers/repository.js';
import { V2GrpcClient } from '../helpers/grpc-client.js';

const CONFIGURED = `
max_batch_size: 16
dynamic_batching:
  max_queue_delay_microseconds: 500
  preferred_batch_size: [4, 8]
  max_queue_size: 100
execution: thread
instance_group: [{count: 2}]
version_policy: {all: {}}
parameters: {owner: risk-team}
`;

describe('model configuration extension', () => {
  let repo: TempRepository;
  let server: TestServer;
  before(async () => {
    repo = new TempRepository().copyModel('breast_cancer', 'configured').copyModel('breast_cancer', 'configured', 2).write('configured/config.yaml', CONFIGURED);
    repo.copyModel('mlp', 'plain').copyModel('diabetes_forest', 'unbatched').write('unbatched/config.yaml', 'max_batch_size: 0\n');
    server = await startTestServer({ modelRepository: repo.root });
  });
  after(async () => {
    await server.stop();
    repo.remove();
  });

  it('says a configured model as its config and its ONNX file do', async () => {
    const reply = await request(`${server.url}/v2/models/configured/versions/2/config`);
    assert.equal(reply.status, 200, reply.text);
    assert.deepEqual(reply.body, {
      name: 'configured',
      platform: 'onnxruntime_onnx',
      backend: 'onnxruntime',
      version_policy: { all: {} },
      max_batch_size: 16,
      input: [{ name: 'float_input', data_type: 'TYPE_FP32', dims: [30] }],
      output: [{ name: 'output_label', data_type: 'TYPE_INT64', dims: [] }, { name: 'output_probability', data_type: 'TYPE_FP32', dims: [2] }],
      instance_group: [{ name: 'configured_0', kind: 'KIND_CPU', count: 2 }],
      default_model_filename: 'model.onnx',
      dynamic_batching: { preferred_batch_size: [4, 8], max_queue_delay_microseconds: 500, default_queue_policy: { max_queue_size: 100 } },
      parameters: { owner: { string_value: 'risk-team' } },
    });
  });

  it("says ferry's defaults out loud, and a model that does not batch with its whole shape", async () => {
    const plain = (await request(`${server.url}/v2/models/plain/config`)).body;
    assert.equal(plain.max_batch_size, 64);
    assert.deepEqual(plain.input, [{ name: 'input', data_type: 'TYPE_FP32', dims: [30] }]);
    assert.deepEqual(plain.version_policy, { latest: { num_versions: 1 } });
    assert.deepEqual(plain.dynamic_batching, { preferred_batch_size: [], max_queue_delay_microseconds: 0, default_queue_policy: { max_queue_size: 1024 } });
    assert.deepEqual(plain.instance_group, [{ name: 'plain_0', kind: 'KIND_CPU', count: 1 }]);
    const unbatched = (await request(`${server.url}/v2/models/unbatched/config`)).body;
    assert.equal(unbatched.max_batch_size, 0);
    assert.deepEqual(unbatched.input, [{ name: 'float_input', data_type: 'TYPE_FP32', dims: [-1, 10] }]);
    assert.equal(unbatched.dynamic_batching, undefined);
    assert.equal((await request(`${server.url}/v2/models/nope/config`)).status, 404);
    assert.equal((await postJson(`${server.url}/v2/models/plain/config`, {})).status, 405);
  });

  it("answers the same over gRPC ModelConfig, in Triton's messages", async () => {
    const client = new V2GrpcClient(server.grpcAddress);
    try {
      const { error, response } = await client.call('ModelConfig', { name: 'configured', version: '2' });
      assert.equal(error, null, error?.details);
      const c = response.config;
      assert.deepEqual([c.name, c.platform, c.backend, c.max_batch_size, c.default_model_filename], ['configured', 'onnxruntime_onnx', 'onnxruntime', 16, 'model.onnx']);
      assert.equal(c.version_policy.policy_choice, 'all');
      assert.deepEqual(c.input.map((i: { name: string; data_type: string; dims: string[] }) => [i.name, i.data_type, i.dims.map(Number)]), [['float_input', 'TYPE_FP32', [30]]]);
      assert.deepEqual(c.instance_group.map((g: { kind: string; count: number }) => [g.kind, g.count]), [['KIND_CPU', 2]]);
      assert.deepEqual(c.dynamic_batching.preferred_batch_size, [4, 8]);
      assert.equal(Number(c.dynamic_batching.max_queue_delay_microseconds), 500);
      assert.equal(c.dynamic_batching.default_queue_policy.max_queue_size, 100);
      assert.deepEqual(c.parameters, { owner: { string_value: 'risk-team' } });
      const unknown = await client.call('ModelConfig', { name: 'nope' });
      assert.equal(unknown.error?.code, 5, 'NOT_FOUND');
    } finally {
      client.close();
    }
  });
});
