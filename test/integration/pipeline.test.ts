/**
 * A pipeline (config.yaml `pipeline`, Triton's ensemble) of three steps run server-side in one request: a JavaScript
 * step that cleans the text, the support_tickets example (features + ONNX), and a JavaScript step that routes the
 * ticket. Each step is a call of that model, batched and counted as its own; a step's failure names the step; a
 * pipeline that does not fit its steps is refused at load with the field named.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { EXAMPLES, postJson, request, startTestServer, type TestServer } from '../helpers/server.js';
import { TempRepository } from '../helpers/repository.js';
import { sample, scrape } from '../helpers/metrics.js';
import { V2GrpcClient, rawStrings } from '../helpers/grpc-client.js';

const NORMALIZE = `
export const load = () => ({
  inputs: [{ name: 'text', datatype: 'BYTES', shape: [-1] }],
  outputs: [{ name: 'text', datatype: 'BYTES', shape: [-1] }],
  predictRecords: (records) => records.map(({ text }) => {
    if (text.trim() === '') throw Object.assign(new Error('the ticket is empty'), { code: 'INVALID_ARGUMENT' });
    return { text: text.replace(/\\bpw\\b/gi, 'password').replace(/[^a-z0-9 ]/gi, ' ') };
  }),
});
`;

const ROUTE = `
const QUEUES = { account: 'identity-team', billing: 'finance-team', technical: 'platform-team' };
export const load = () => ({
  inputs: [{ name: 'label', datatype: 'BYTES', shape: [-1] }, { name: 'probability', datatype: 'FP32', shape: [-1] }],
  outputs: [{ name: 'queue', datatype: 'BYTES', shape: [-1] }, { name: 'escalate', datatype: 'BOOL', shape: [-1] }],
  predictRecords: (records) => records.map(({ label, probability }) => ({ queue: QUEUES[label], escalate: probability < 0.6 })),
});
`;

const PIPELINE = `
pipeline:
  steps:
    - model: normalize
      outputs: {text: clean_text}
    - model: support_tickets
      inputs: {text: clean_text}
    - model: route
  outputs: [queue, escalate, label]
`;

describe('pipelines', () => {
  let repo: TempRepository;
  let server: TestServer;
  before(async () => {
    repo = new TempRepository();
    cpSync(join(EXAMPLES, 'support_tickets'), join(repo.root, 'support_tickets'), { recursive: true });
    repo.write('normalize/1/model.mjs', NORMALIZE).write('route/1/model.mjs', ROUTE);
    // Listed before its steps on purpose: a pipeline waits for the models it calls.
    repo.write('a_router/config.yaml', PIPELINE);
    mkdirSync(join(repo.root, 'a_router/1'));
    repo.write('bad_output/config.yaml', 'pipeline:\n  steps: [{model: normalize, outputs: {text: clean}}]\n  outputs: [nope]\n');
    mkdirSync(join(repo.root, 'bad_output/1'));
    repo.write('bad_input/config.yaml', 'pipeline:\n  steps: [{model: route, inputs: {labels: x}}]\n');
    mkdirSync(join(repo.root, 'bad_input/1'));
    repo.write('missing_step/config.yaml', 'pipeline:\n  steps: [{model: normalize}, {model: not_here}]\n');
    mkdirSync(join(repo.root, 'missing_step/1'));
    server = await startTestServer({ modelRepository: repo.root });
  });
  after(async () => {
    await server.stop();
    repo.remove();
  });

  it('describes itself from its steps', async () => {
    const meta = await request(`${server.url}/v2/models/a_router`);
    assert.equal(meta.status, 200, meta.text);
    assert.equal(meta.body.platform, 'pipeline');
    assert.deepEqual(meta.body.inputs, [{ name: 'text', datatype: 'BYTES', shape: [-1] }]);
    assert.deepEqual(meta.body.outputs.map((o: { name: string; datatype: string }) => `${o.name}:${o.datatype}`), ['queue:BYTES', 'escalate:BOOL', 'label:BYTES']);
  });

  it('runs its three steps in one request, each a request of its own model', async () => {
    const tickets = ['My invoice shows a double charge, I want a refund', 'I forgot my pw and cannot sign in!!', 'The app crashes with error 500 when I upload'];
    const before = await scrape(server.url);
    const count = (text: string, model: string) => sample(text, 'ferry_requests_total', { model, version: '1', outcome: 'success' }) ?? 0;
    const replies = await Promise.all(tickets.map((text) => postJson(`${server.url}/v2/models/a_router/infer`, { inputs: [{ name: 'text', datatype: 'BYTES', shape: [1], data: [text] }] })));
    const direct = await Promise.all(tickets.map((text) => postJson(`${server.url}/v1/models/support_tickets:predict`, { instances: [{ text: text.replace(/\bpw\b/gi, 'password').replace(/[^a-z0-9 ]/gi, ' ') }] })));
    const queues = { account: 'identity-team', billing: 'finance-team', technical: 'platform-team' } as Record<string, string>;
    replies.forEach((reply, i) => {
      assert.equal(reply.status, 200, reply.text);
      const [queue, escalate, label] = reply.body.outputs;
      const want = direct[i]!.body.predictions[0];
      assert.deepEqual(label.data, [want.label]);
      assert.deepEqual(queue.data, [queues[want.label]]);
      assert.deepEqual(escalate.data, [want.probability < 0.6]);
    });
    assert.deepEqual(replies.map((r) => r.body.outputs[2].data[0]), ['billing', 'account', 'technical']);
    const after = await scrape(server.url);
    for (const model of ['normalize', 'route']) assert.equal(count(after, model) - count(before, model), 3, `${model} ran once per request`);
    assert.equal(count(after, 'support_tickets') - count(before, 'support_tickets'), 6, 'three from the pipeline, three direct');
  });

  it('answers over gRPC and the records API too', async () => {
    const v1 = await postJson(`${server.url}/v1/models/a_router:predict`, { instances: [{ text: 'refund my payment please' }] });
    assert.equal(v1.status, 200, v1.text);
    assert.deepEqual(Object.keys(v1.body.predictions[0]), ['queue', 'escalate', 'label']);
    const client = new V2GrpcClient(server.grpcAddress);
    try {
      const reply = await client.call('ModelInfer', { model_name: 'a_router', inputs: [{ name: 'text', datatype: 'BYTES', shape: [1], contents: { bytes_contents: [Buffer.from('server error 500 on upload')] } }] });
      assert.equal(reply.error, null, reply.error?.details);
      assert.deepEqual(rawStrings(reply.response.raw_output_contents[0]), ['platform-team']);
    } finally {
      client.close();
    }
  });

  it("says which step failed, keeping a client's mistake a 400", async () => {
    const reply = await postJson(`${server.url}/v2/models/a_router/infer`, { inputs: [{ name: 'text', datatype: 'BYTES', shape: [1], data: ['   '] }] });
    assert.equal(reply.status, 400, reply.text);
    assert.equal(reply.body.error, "pipeline.steps[0] (model 'normalize'): the ticket is empty");
  });

  it('refuses a pipeline that does not fit its steps, naming the field', async () => {
    const index = (await postJson(`${server.url}/v2/repository/index`, {})).body as { name: string; reason?: string }[];
    const reason = (name: string) => index.find((e) => e.name === name)?.reason ?? '';
    assert.match(reason('bad_output'), /pipeline\.outputs: no step makes tensor 'nope' \(made: 'clean'\)/);
    assert.match(reason('bad_input'), /pipeline\.steps\[0\] \(model 'route'\)\.inputs: 'labels' is not an input of the model \(its inputs: 'label', 'probability'\)/);
    assert.match(reason('missing_step'), /pipeline\.steps\[1\] \(model 'not_here'\)/);
  });
});
