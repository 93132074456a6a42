/**
 * SageMaker's container contract on the real server (src/protocol/sagemaker): /ping, /invocations in the V2 form,
 * as instances and as CSV, answered in the request's format or the one Accept asks for; the target model header of
 * multi-model endpoints; clear errors for bad rows; and a bare `serve` (what SageMaker runs) serving its model folder
 * with the contract on. Answers are checked against the example's reference outputs (scikit-learn's).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXAMPLES, postJson, request, startTestServer, type TestServer } from '../helpers/server.js';
import { ROOT, startServed } from '../helpers/served-process.js';

const reference = JSON.parse(readFileSync(join(EXAMPLES, 'breast_cancer/reference.json'), 'utf8'));
const input = reference.cases[0].inputs[0];
const ROWS: number[][] = Array.from({ length: input.shape[0] }, (_, r) => input.data.slice(r * 30, (r + 1) * 30));
const LABELS: number[] = reference.cases[0].outputs[0].data;
const PROBABILITIES: number[] = reference.cases[0].outputs[1].data;
const { rtol, atol } = reference.tolerance;

function close(got: number, want: number, what: string): void {
  assert.ok(Math.abs(got - want) <= atol + rtol * Math.abs(want), `${what}: ${got} vs ${want}`);
}

const invoke = (s: TestServer, body: string, headers: Record<string, string>) => request(`${s.url}/invocations`, { method: 'POST', body, headers });

describe('SageMaker container contract', () => {
  let repo: string;
  let single: TestServer;
  let multi: TestServer;

  before(async () => {
    repo = mkdtempSync(join(tmpdir(), 'ferry-sagemaker-'));
    cpSync(join(EXAMPLES, 'breast_cancer/1'), join(repo, 'breast_cancer/1'), { recursive: true });
    single = await startTestServer({ modelRepository: repo, sagemaker: true });
    multi = await startTestServer({ sagemaker: true });
  });
  after(async () => {
    await single?.stop();
    await multi?.stop();
    rmSync(repo, { recursive: true, force: true });
  });

  it('answers /ping once ready', async () => {
    assert.equal((await request(`${single.url}/ping`)).status, 200);
    assert.equal((await request(`${single.url}/ping`, { method: 'POST' })).status, 405);
  });

  it('takes JSON instances and answers predictions, one per row', async () => {
    const r = await invoke(single, JSON.stringify({ instances: ROWS }), { 'content-type': 'application/json' });
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get('content-type') ?? '', /application\/json/);
    assert.equal(r.body.predictions.length, ROWS.length);
    r.body.predictions.forEach((p: { output_label: number; output_probability: number[] }, i: number) => {
      assert.equal(p.output_label, LABELS[i]);
      close(p.output_probability[0]!, PROBABILITIES[2 * i]!, `row ${i} p0`);
      close(p.output_probability[1]!, PROBABILITIES[2 * i + 1]!, `row ${i} p1`);
    });
  });

  it('takes CSV rows and answers CSV: the label, then the probabilities', async () => {
    const csv = ROWS.map((row) => row.join(',')).join('\n') + '\n';
    const r = await invoke(single, csv, { 'content-type': 'text/csv' });
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get('content-type') ?? '', /text\/csv/);
    const lines = r.text.trim().split('\n');
    assert.equal(lines.length, ROWS.length);
    lines.forEach((line, i) => {
      const [label, p0, p1] = line.split(',').map(Number);
      assert.equal(label, LABELS[i]);
      close(p0!, PROBABILITIES[2 * i]!, `row ${i} p0`);
      close(p1!, PROBABILITIES[2 * i + 1]!, `row ${i} p1`);
    });
  });

  it('answers in the format Accept asks for', async () => {
    const csv = `${ROWS[0]!.join(',')}\r\n\r\n${ROWS[1]!.join(',')}`; // CRLF, a blank line, no final newline
    const json = await invoke(single, csv, { 'content-type': 'text/csv', accept: 'application/json' });
    assert.equal(json.status, 200, json.text);
    assert.deepEqual(json.body.predictions.map((p: { output_label: number }) => p.output_label), LABELS.slice(0, 2));
    const back = await invoke(single, JSON.stringify({ instances: [ROWS[3]] }), { 'content-type': 'application/json', accept: 'text/csv' });
    assert.equal(back.status, 200, back.text);
    assert.equal(Number(back.text.split(',')[0]), LABELS[3]);
    const none = await invoke(single, JSON.stringify({ instances: [ROWS[0]] }), { 'content-type': 'application/json', accept: 'application/xml' });
    assert.equal(none.status, 406);
    assert.match(none.body.error, /Accept 'application\/xml'/);
  });

  it('takes the V2 form and answers in it', async () => {
    const r = await invoke(single, JSON.stringify({ inputs: [input] }), { 'content-type': 'application/json' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.model_name, 'breast_cancer');
    assert.deepEqual(r.body.outputs[0].data, LABELS);
  });

  it('serves the model the target model header names, and says which ones there are when none is named', async () => {
    const named = await invoke(multi, JSON.stringify({ instances: [ROWS[0]] }), { 'content-type': 'application/json', 'x-amzn-sagemaker-target-model': 'breast_cancer.tar.gz' });
    assert.equal(named.status, 200, named.text);
    assert.equal(named.body.predictions[0].output_label, LABELS[0]);
    const unnamed = await invoke(multi, JSON.stringify({ instances: [ROWS[0]] }), { 'content-type': 'application/json' });
    assert.equal(unnamed.status, 400);
    assert.match(unnamed.body.error, /X-Amzn-SageMaker-Target-Model/);
    const unknown = await invoke(multi, JSON.stringify({ instances: [ROWS[0]] }), { 'content-type': 'application/json', 'x-amzn-sagemaker-target-model': 'nope.tar.gz' });
    assert.equal(unknown.status, 404);
    assert.match(unknown.body.error, /nope/);
  });

  it('refuses bad rows with the row and field named, and other content types with 415', async () => {
    const short = await invoke(single, `${ROWS[0]!.join(',')}\n1,2,3\n`, { 'content-type': 'text/csv' });
    assert.equal(short.status, 400);
    assert.match(short.body.error, /CSV row 2 has 3 fields, expected 30/);
    const word = await invoke(single, ROWS[0]!.map((v, i) => (i === 4 ? 'abc' : v)).join(','), { 'content-type': 'text/csv' });
    assert.equal(word.status, 400);
    assert.match(word.body.error, /CSV row 1, field 5: 'abc' is not a number/);
    const ragged = await invoke(single, JSON.stringify({ instances: [ROWS[0], [1, 2]] }), { 'content-type': 'application/json' });
    assert.equal(ragged.status, 400);
    assert.match(ragged.body.error, /instances/);
    const empty = await invoke(single, '\n\n', { 'content-type': 'text/csv' });
    assert.equal(empty.status, 400);
    assert.match(empty.body.error, /no rows/);
    const xml = await invoke(single, '<x/>', { 'content-type': 'application/xml' });
    assert.equal(xml.status, 415);
    const broken = await invoke(single, '{"instances": [', { 'content-type': 'application/json' });
    assert.equal(broken.status, 400);
    assert.match(broken.body.error, /malformed JSON/);
  });

  it('leaves the routes off without --sagemaker', async () => {
    const plain = await startTestServer({ modelRepository: repo });
    try {
      assert.equal((await request(`${plain.url}/ping`)).status, 404);
      assert.equal((await postJson(`${plain.url}/invocations`, { instances: [ROWS[0]] })).status, 404);
    } finally {
      await plain.stop();
    }
  });

  it('a bare `serve` runs the contract on the model folder SageMaker mounts (one model.onnx at its top)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-opt-ml-model-'));
    cpSync(join(EXAMPLES, 'breast_cancer/1/model.onnx'), join(dir, 'model.onnx'));
    const served = await startServed(join(ROOT, 'bin/ferry'), ['serve', '--host', '127.0.0.1', '--http-port', '0', '--grpc-port', '0', '--management-port', '0', '--log-format', 'json'], {
      FERRY_SAGEMAKER_MODEL_DIR: dir,
      FERRY_MODEL_REPOSITORY: '',
    });
    try {
      assert.equal((await request(`${served.url()}/ping`)).status, 200);
      const r = await request(`${served.url()}/invocations`, { method: 'POST', body: ROWS[0]!.join(','), headers: { 'content-type': 'text/csv' } });
      assert.equal(r.status, 200, r.text);
      assert.equal(Number(r.text.split(',')[0]), LABELS[0]);
    } finally {
      served.child.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
