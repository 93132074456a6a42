/**
 * Dynamic batching, limits, deadlines, where inference runs, and metrics, against the real server over HTTP.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { postJson, startTestServer, type TestServer } from '../helpers/server.js';
import { TempRepository } from '../helpers/repository.js';
import { asRequestInputs, assertClose, referenceModels, values, type Reference } from '../helpers/reference.js';
import { binaryRequest, rawPost } from '../helpers/binary.js';
import { sample, scrape, waitForMetric } from '../helpers/metrics.js';

const refs = new Map<string, Reference>(referenceModels().map((r) => [r.model, r]));
const ref = (name: string) => refs.get(name)!;

/** A binary-extension request for `n` zero images of the example CNN: big enough to keep the model busy. */
function images(n: number) {
  return binaryRequest({ inputs: [{ name: 'image', datatype: 'FP32', shape: [n, 3, 128, 128], parameters: { binary_data_size: n * 3 * 128 * 128 * 4 } }] }, [Buffer.alloc(n * 3 * 128 * 128 * 4)]);
}

function oneImage(): object {
  return { inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 3, 128, 128], data: new Array(3 * 128 * 128).fill(0) }] };
}

/** Resolves once the model has started `runs` runs (a run is counted in the queue-time histogram when it starts). */
function runsStarted(url: string, model: string, runs: number): Promise<void> {
  return waitForMetric(url, (t) => (sample(t, 'ferry_queue_duration_seconds_count', { model }) ?? 0) >= runs);
}

describe('dynamic batching over HTTP', () => {
  let server: TestServer;
  const repo = new TempRepository();
  before(async () => {
    for (const name of ['breast_cancer', 'sequence_pool']) repo.copyModel(name, name);
    repo.copyModel('sequence_pool', 'sequence_padded').write('sequence_padded/config.yaml', [
      'input:',
      '  - {name: tokens, pad_value: 0}',
      '  - {name: lengths, lengths_of: tokens}',
    ].join('\n'));
    server = await startTestServer({ modelRepository: repo.root });
  });
  after(async () => {
    await server.stop();
    repo.remove();
  });

  it('concurrent single-row requests share runs, and each caller gets its own row back', async () => {
    const r = ref('breast_cancer');
    const input = r.cases[0]!.inputs[0]!;
    const rows = values(input) as number[];
    const probs = values(r.cases[0]!.outputs[1]!) as number[];
    const n = input.shape[0]!;
    const requests = Array.from({ length: 60 }, (_, i) => i % n);
    const replies = await Promise.all(requests.map((row) => postJson(`${server.url}/v2/models/breast_cancer/infer`, {
      id: `row-${row}`,
      inputs: [{ name: 'float_input', datatype: 'FP32', shape: [1, 30], data: rows.slice(row * 30, row * 30 + 30) }],
    })));
    replies.forEach((reply, i) => {
      const row = requests[i]!;
      assert.equal(reply.status, 200, reply.text);
      assert.equal(reply.body.id, `row-${row}`);
      assertClose(reply.body.outputs[1], { name: 'output_probability', datatype: 'FP32', shape: [1, 2], data: probs.slice(row * 2, row * 2 + 2) }, r.tolerance, `row ${row}`);
    });
    const text = await scrape(server.url);
    const runs = sample(text, 'ferry_batch_size_count', { model: 'breast_cancer' })!;
    assert.equal(sample(text, 'ferry_batch_size_sum', { model: 'breast_cancer' }), 60, 'every row ran once');
    assert.ok(runs < 60, `60 concurrent requests took ${runs} runs: they should share runs`);
  });

  it('requests of different sequence lengths are grouped by shape and never mixed', async () => {
    const r = ref('sequence_pool');
    const replies = await Promise.all(r.cases.flatMap((c) => [c, c]).map((c) => postJson(`${server.url}/v2/models/sequence_pool/infer`, { inputs: asRequestInputs(c.inputs) })));
    replies.forEach((reply, i) => {
      assert.equal(reply.status, 200, reply.text);
      assertClose(reply.body.outputs[0], r.cases[Math.floor(i / 2)]!.outputs[0]!, r.tolerance, `case ${Math.floor(i / 2)}`);
    });
  });

  it('with a pad value, different lengths share a run, padded, and the server passes the true lengths', async () => {
    const r = ref('sequence_pool');
    const meta = await (await fetch(`${server.url}/v2/models/sequence_padded`)).json() as { inputs: { name: string }[] };
    assert.deepEqual(meta.inputs.map((i) => i.name), ['tokens'], 'clients do not send the lengths the server fills in');
    const before = await scrape(server.url);
    const replies = await Promise.all(r.cases.map((c) => postJson(`${server.url}/v2/models/sequence_padded/infer`, { inputs: asRequestInputs(c.inputs.filter((t) => t.name === 'tokens')) })));
    replies.forEach((reply, i) => {
      assert.equal(reply.status, 200, reply.text);
      assertClose(reply.body.outputs[0], r.cases[i]!.outputs[0]!, r.tolerance, `case ${i}`);
    });
    const after = await scrape(server.url);
    const runs = (sample(after, 'ferry_batch_size_count', { model: 'sequence_padded' }) ?? 0) - (sample(before, 'ferry_batch_size_count', { model: 'sequence_padded' }) ?? 0);
    assert.ok(runs < r.cases.length, `${r.cases.length} requests of different lengths took ${runs} runs`);
  });
});

describe('queue limits and deadlines', () => {
  let server: TestServer;
  const repo = new TempRepository();
  before(async () => {
    repo.copyModel('image_cnn', 'cnn').write('cnn/config.yaml', 'execution: thread\ndynamic_batching:\n  max_queue_size: 1\n');
    server = await startTestServer({ modelRepository: repo.root });
  });
  after(async () => {
    await server.stop();
    repo.remove();
  });

  it('a full queue refuses at once with 429; a request past its deadline is dropped with 504, never run', async () => {
    const big = images(96);
    const busy = rawPost(`${server.url}/v2/models/cnn/infer`, big.body, big.headers);
    await runsStarted(server.url, 'cnn', 1);
    // The model is busy with the big batch: one request fits the queue, the next are refused.
    // 40 ms (in µs, as Triton's clients send it): long enough to still hold the queue's one place below.
    const late = postJson(`${server.url}/v2/models/cnn/infer`, { ...oneImage(), parameters: { timeout: 40_000 } });
    const [refused, alsoRefused] = await Promise.all([
      postJson(`${server.url}/v2/models/cnn/infer`, oneImage()),
      postJson(`${server.url}/v2/models/cnn/infer`, oneImage()),
    ]);
    for (const r of [refused, alsoRefused]) {
      assert.equal(r.status, 429, r.text);
      assert.match(r.body.error, /model 'cnn' version 1 is overloaded: its queue is full \(1 requests waiting\)/);
    }
    const expired = await late;
    assert.equal(expired.status, 504, expired.text);
    assert.match(expired.body.error, /deadline passed after \d+ ms in the queue; it was not run/);
    assert.equal((await busy).status, 200);
    const text = await scrape(server.url);
    assert.equal(sample(text, 'ferry_requests_total', { model: 'cnn', outcome: 'rejected' }), 2);
    assert.equal(sample(text, 'ferry_requests_total', { model: 'cnn', outcome: 'timeout' }), 1);
    assert.equal(sample(text, 'ferry_batch_size_sum', { model: 'cnn' }), 96, 'only the big batch ran: the expired request never did');
  });

  it('the X-Request-Timeout-Ms header sets a deadline too, and a bad value is 400', async () => {
    const big = images(96);
    const busy = rawPost(`${server.url}/v2/models/cnn/infer`, big.body, big.headers);
    await runsStarted(server.url, 'cnn', 2);
    const late = await rawPost(`${server.url}/v2/models/cnn/infer`, JSON.stringify(oneImage()), { 'x-request-timeout-ms': '1' });
    assert.equal(late.status, 504, late.body.toString());
    assert.equal((await busy).status, 200);
    const bad = await rawPost(`${server.url}/v2/models/cnn/infer`, JSON.stringify(oneImage()), { 'x-request-timeout-ms': 'soon' });
    assert.equal(bad.status, 400);
    assert.match(bad.body.toString(), /X-Request-Timeout-Ms must be a non-negative number of milliseconds, got 'soon'/);
  });
});
