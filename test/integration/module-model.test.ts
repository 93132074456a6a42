/**
 * Models written in JavaScript or TypeScript (a version folder's model.mjs / model.ts, runtime/module): served through
 * the same doors, batching, placement and hot reload as ONNX models. A record model and a tensor model, the iris kNN
 * example placed in worker threads, a hook around an ONNX model through context.loadOnnx, a model that throws for one
 * request (only that request fails), modules that fail to load (reported as a bad ONNX file is), `ferry batch`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXAMPLES, postJson, request, startTestServer, type TestServer } from '../helpers/server.js';
import { TempRepository } from '../helpers/repository.js';
import { V2GrpcClient, rawStrings } from '../helpers/grpc-client.js';
import { ROOT } from '../helpers/served-process.js';
import { until } from '../helpers/wait.js';

const RULES = (limit: number) => `
export async function load({ parameters }) {
  const currency = parameters.currency ?? 'EUR';
  return {
    inputs: [{ name: 'amount', datatype: 'FP64', shape: [-1] }, { name: 'country', datatype: 'BYTES', shape: [-1] }],
    outputs: [{ name: 'decision', datatype: 'BYTES', shape: [-1] }, { name: 'score', datatype: 'FP64', shape: [-1] }],
    predictRecords(records) {
      return records.map(({ amount, country }) => {
        if (amount < 0) throw new Error('amount must not be negative');
        if (country === 'XX') throw Object.assign(new Error('country XX is not served'), { code: 'INVALID_ARGUMENT' });
        return { decision: amount > ${limit} ? 'review ' + currency : 'accept', score: amount / ${limit} };
      });
    },
  };
}
`;

const HOOK = `
export const load = async (context) => {
  const onnx = await context.loadOnnx();
  return {
    inputs: onnx.inputs,
    outputs: [{ name: 'benign', datatype: 'FP32', shape: [-1] }],
    async predict(inputs) {
      const { output_probability } = await onnx.run(inputs, ['output_probability']);
      const p = output_probability.data;
      return { benign: { data: p.filter((_, i) => i % 2 === 1) } };
    },
  };
};
`;

const knnReference = JSON.parse(readFileSync(join(EXAMPLES, 'iris_knn/reference.json'), 'utf8')).cases[0];
const cancerReference = JSON.parse(readFileSync(join(EXAMPLES, 'breast_cancer/reference.json'), 'utf8')).cases[0];

describe('models written in JavaScript and TypeScript', () => {
  let repo: TempRepository;
  let server: TestServer;
  before(async () => {
    repo = new TempRepository();
    repo.write('rules/1/model.mjs', RULES(1000)).write('rules/config.yaml', 'parameters: {currency: USD}\n');
    cpSync(join(EXAMPLES, 'iris_knn/1'), join(repo.root, 'knn_thread/1'), { recursive: true });
    repo.write('knn_thread/config.yaml', 'execution: thread\ninstance_group: [{count: 2}]\n');
    cpSync(join(EXAMPLES, 'iris_knn/1'), join(repo.root, 'knn_process/1'), { recursive: true });
    repo.write('knn_process/config.yaml', 'execution: process\n');
    repo.write('hooked/1/model.mjs', HOOK).write('hooked/1/model.onnx', undefined, join(EXAMPLES, 'breast_cancer/1/model.onnx'));
    repo.write('syntax_error/1/model.mjs', 'export function load( {');
    repo.write('no_load/1/model.js', 'export const model = 1;\n');
    repo.write('bad_declaration/1/model.mjs', "export const load = () => ({ inputs: [{ name: 'x', datatype: 'FLOAT', shape: [-1] }], outputs: [{ name: 'y', datatype: 'FP32', shape: [-1] }], predict: () => ({}) });\n");
    repo.write('load_throws/1/model.ts', "export async function load(): Promise<never> { throw new Error('no weights here'); }\n");
    server = await startTestServer({ modelRepository: repo.root, repositoryPollSecs: 0.2 });
  });
  after(async () => {
    await server.stop();
    repo.remove();
  });

  const rules = (amount: number, country: string) => ({
    inputs: [{ name: 'amount', datatype: 'FP64', shape: [1], data: [amount] }, { name: 'country', datatype: 'BYTES', shape: [1], data: [country] }],
  });

  it('serves a record model over REST with its config parameters, saying its platform', async () => {
    const meta = await request(`${server.url}/v2/models/rules`);
    assert.equal(meta.body.platform, 'ferry_module');
    const reply = await postJson(`${server.url}/v2/models/rules/infer`, rules(1500, 'FR'));
    assert.equal(reply.status, 200, reply.text);
    assert.deepEqual(reply.body.outputs, [
      { name: 'decision', datatype: 'BYTES', shape: [1], data: ['review USD'] },
      { name: 'score', datatype: 'FP64', shape: [1], data: [1.5] },
    ]);
    const v1 = await postJson(`${server.url}/v1/models/rules:predict`, { instances: [{ amount: 10, country: 'DE' }] });
    assert.deepEqual(v1.body, { predictions: [{ decision: 'accept', score: 0.01 }] });
  });

  it('serves it over gRPC', async () => {
    const client = new V2GrpcClient(server.grpcAddress);
    try {
      const reply = await client.call('ModelInfer', {
        model_name: 'rules',
        inputs: [
          { name: 'amount', datatype: 'FP64', shape: [2], contents: { fp64_contents: [5, 2000] } },
          { name: 'country', datatype: 'BYTES', shape: [2], contents: { bytes_contents: [Buffer.from('FR'), Buffer.from('IT')] } },
        ],
      });
      assert.equal(reply.error, null, reply.error?.details);
      const decision = reply.response.outputs.findIndex((o: { name: string }) => o.name === 'decision');
      assert.deepEqual(rawStrings(reply.response.raw_output_contents[decision]), ['accept', 'review USD']);
    } finally {
      client.close();
    }
  });

  it('fails only the request whose record the model throws on: a 500 with its message, or the 400 it asks for', async () => {
    const replies = await Promise.all([rules(1, 'FR'), rules(-5, 'FR'), rules(2, 'FR'), rules(3, 'XX'), rules(4, 'FR')].map((b) => postJson(`${server.url}/v2/models/rules/infer`, b)));
    assert.deepEqual(replies.map((r) => r.status), [200, 500, 200, 400, 200]);
    assert.match(replies[1]!.body.error, /the model failed: amount must not be negative/);
    assert.equal(replies[3]!.body.error, 'country XX is not served');
    assert.equal(replies[4]!.body.outputs[1].data[0], 0.004);
  });

  it('places a TypeScript model in worker threads and child processes, answering as scikit-learn did', async () => {
    assert.equal(server.dataplane.registry.resolve('knn_thread').runtime.placement, 'thread');
    assert.equal(server.dataplane.registry.resolve('knn_process').runtime.placement, 'process');
    const replies = await Promise.all(['knn_thread', 'knn_thread', 'knn_process'].map((m) => postJson(`${server.url}/v2/models/${m}/infer`, { inputs: knnReference.inputs })));
    for (const reply of replies) {
      assert.equal(reply.status, 200, reply.text);
      const probabilities = reply.body.outputs.find((o: { name: string }) => o.name === 'probabilities').data as number[];
      probabilities.forEach((p, i) => assert.ok(Math.abs(p - knnReference.outputs[0].data[i]) < 1e-6, `${i}: ${p}`));
      assert.deepEqual(reply.body.outputs.find((o: { name: string }) => o.name === 'label').data, knnReference.outputs[1].data);
    }
  });

  it('runs a hook around an ONNX model it loads itself (context.loadOnnx)', async () => {
    const reply = await postJson(`${server.url}/v2/models/hooked/infer`, { inputs: cancerReference.inputs });
    assert.equal(reply.status, 200, reply.text);
    const want = (cancerReference.outputs[1].data as number[]).filter((_, i) => i % 2 === 1);
    (reply.body.outputs[0].data as number[]).forEach((p, i) => assert.ok(Math.abs(p - want[i]!) < 1e-5, `${i}: ${p} vs ${want[i]}`));
  });

  it('reports a module that cannot load as it reports a bad ONNX file, serving the rest', async () => {
    const index = (await postJson(`${server.url}/v2/repository/index`, {})).body as { name: string; state: string; reason?: string }[];
    const reason = (name: string) => index.find((e) => e.name === name && e.state === 'UNAVAILABLE')?.reason ?? `not unavailable: ${JSON.stringify(index.filter((e) => e.name === name))}`;
    assert.match(reason('syntax_error'), /failed to load: cannot import .*model\.mjs: .*(Unexpected|SyntaxError)/);
    assert.match(reason('no_load'), /model\.js exports no load function/);
    assert.match(reason('bad_declaration'), /inputs\[0\] \('x'\)\.datatype must be a V2 datatype .* got "FLOAT"/);
    assert.match(reason('load_throws'), /model\.ts: load\(\) failed: no weights here/);
    const reply = await postJson(`${server.url}/v2/models/no_load/infer`, rules(1, 'FR'));
    assert.equal(reply.status, 503);
  });

  it('loads a new version of a module without a restart (hot reload)', async () => {
    repo.write('rules/2/model.mjs', RULES(10));
    await until('version 2 serves', async () => (await request(`${server.url}/v2/models/rules/versions/2/ready`)).status === 200);
    const reply = await postJson(`${server.url}/v2/models/rules/infer`, rules(50, 'FR'));
    assert.equal(reply.body.model_version, '2');
    assert.deepEqual(reply.body.outputs[0].data, ['review USD']);
    // The same version's file changed in place: its new code is imported, not the module cached before.
    repo.write('rules/2/model.mjs', RULES(100));
    await until('version 2 reloaded in place', async () => (await postJson(`${server.url}/v2/models/rules/infer`, rules(50, 'FR'))).body.outputs?.[0]?.data?.[0] === 'accept');
  });

  it('scores a file with ferry batch through the same model', async () => {
    const features = knnReference.inputs[0].data as number[];
    const rows = Array.from({ length: features.length / 4 }, (_, r) => features.slice(r * 4, r * 4 + 4));
    const input = join(repo.root, 'iris.csv');
    const output = join(repo.root, 'iris.jsonl');
    writeFileSync(input, `a,b,c,d\n${rows.map((r) => r.join(',')).join('\n')}\n`);
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'batch', 'knn_thread', '--models', repo.root, '--input', input, '--output', output, '--map', 'measurements=a,b,c,d'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    const [code] = await once(child, 'exit');
    assert.equal(code, 0, stderr);
    const labels = readFileSync(output, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { label: string }).label);
    assert.deepEqual(labels, knnReference.outputs[1].data);
  });
});
