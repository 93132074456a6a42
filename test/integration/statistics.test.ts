/**
 * Triton's statistics extension (GET /v2/models[/NAME[/versions/V]]/stats, gRPC ModelStatistics) on the real server,
 * against counts computed by hand from a known sequence of requests: three of two rows one after another (three runs
 * of two rows), one refused; the durations only have to be consistent (a request lasts at least its run).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXAMPLES, postJson, request, startTestServer, type TestServer } from '../helpers/server.js';
import { TempRepository } from '../helpers/repository.js';
import { V2GrpcClient } from '../helpers/grpc-client.js';

const input = JSON.parse(readFileSync(join(EXAMPLES, 'breast_cancer/reference.json'), 'utf8')).cases[0].inputs[0];
const twoRows = { inputs: [{ name: input.name, datatype: 'FP32', shape: [2, 30], data: input.data.slice(0, 60) }] };

describe('statistics extension', () => {
  let repo: TempRepository;
  let server: TestServer;
  let started: number;
  before(async () => {
    repo = new TempRepository().copyModel('breast_cancer', 'breast_cancer').copyModel('mlp', 'mlp');
    server = await startTestServer({ modelRepository: repo.root });
  });
  after(async () => {
    await server.stop();
    repo.remove();
  });

  it('starts at zero for a model never called', async () => {
    const reply = await request(`${server.url}/v2/models/breast_cancer/stats`);
    assert.equal(reply.status, 200, reply.text);
    const s = reply.body.model_stats[0];
    assert.deepEqual([s.name, s.version, s.inference_count, s.execution_count, s.last_inference, s.batch_stats], ['breast_cancer', '1', 0, 0, 0, []]);
    assert.deepEqual(s.inference_stats.success, { count: 0, ns: 0 });
  });

  it('counts requests, rows, runs and batch sizes as they happened', async () => {
    started = Date.now();
    for (let i = 0; i < 3; i++) assert.equal((await postJson(`${server.url}/v2/models/breast_cancer/infer`, twoRows)).status, 200);
    const refused = await postJson(`${server.url}/v2/models/breast_cancer/infer`, { inputs: [{ ...twoRows.inputs[0], datatype: 'FP64' }] });
    assert.equal(refused.status, 400);
    const s = (await request(`${server.url}/v2/models/breast_cancer/versions/1/stats`)).body.model_stats[0];
    assert.equal(s.inference_count, 6, 'rows inferred');
    assert.equal(s.execution_count, 3, 'runs');
    const i = s.inference_stats;
    assert.deepEqual([i.success.count, i.fail.count, i.queue.count, i.compute_infer.count, i.compute_input.count, i.compute_output.count], [3, 1, 3, 3, 3, 3]);
    assert.ok(i.success.ns > 0 && i.fail.ns > 0 && i.compute_infer.ns > 0);
    assert.ok(i.success.ns >= i.compute_infer.ns, 'a request lasts at least its run');
    assert.deepEqual([i.compute_input.ns, i.compute_output.ns], [0, 0]);
    assert.equal(s.batch_stats.length, 1);
    assert.deepEqual([s.batch_stats[0].batch_size, s.batch_stats[0].compute_infer.count], [2, 3]);
    assert.equal(s.batch_stats[0].compute_infer.ns, i.compute_infer.ns);
    assert.ok(s.last_inference >= started && s.last_inference <= Date.now(), `last_inference ${s.last_inference}`);
  });

  it('answers every model at /v2/models/stats, and 404 for what is not there', async () => {
    const all = (await request(`${server.url}/v2/models/stats`)).body.model_stats as { name: string; inference_count: number }[];
    assert.deepEqual(all.map((s) => s.name), ['breast_cancer', 'mlp']);
    assert.equal(all.find((s) => s.name === 'mlp')!.inference_count, 0);
    assert.equal((await request(`${server.url}/v2/models/nope/stats`)).status, 404);
    const missing = await request(`${server.url}/v2/models/breast_cancer/versions/9/stats`);
    assert.equal(missing.status, 404);
    assert.match(missing.body.error, /model 'breast_cancer' has no version 9 loaded/);
  });

  it('says the same over gRPC ModelStatistics (Triton\'s messages)', async () => {
    const client = new V2GrpcClient(server.grpcAddress);
    try {
      const one = await client.call('ModelStatistics', { name: 'breast_cancer', version: '' });
      assert.equal(one.error, null, one.error?.details);
      const rest = (await request(`${server.url}/v2/models/breast_cancer/stats`)).body.model_stats[0];
      const s = one.response.model_stats[0];
      assert.deepEqual([s.name, s.version, Number(s.inference_count), Number(s.execution_count), Number(s.last_inference)], ['breast_cancer', '1', 6, 3, rest.last_inference]);
      assert.equal(Number(s.inference_stats.success.ns), rest.inference_stats.success.ns);
      assert.equal(Number(s.inference_stats.fail.count), 1);
      assert.deepEqual(s.batch_stats.map((b: { batch_size: string }) => Number(b.batch_size)), [2]);
      const all = await client.call('ModelStatistics', {});
      assert.deepEqual(all.response.model_stats.map((m: { name: string }) => m.name), ['breast_cancer', 'mlp']);
      const unknown = await client.call('ModelStatistics', { name: 'nope' });
      assert.equal(unknown.error?.code, 5, 'NOT_FOUND');
    } finally {
      client.close();
    }
  });
});
