/**
 * A/B experiments on the real server: every answer gets an id (its own, X-Request-Id, or a new one) and is recorded;
 * feedback joins outcomes with what each variant predicted; the results and the ferry_experiment_* metrics equal
 * values computed here by hand; shadows are recorded and never answer; the control's comparison runs give agreement
 * before any outcome; gRPC answers are recorded too; promote makes one variant the only one; Thompson allocation
 * moves the weights toward the variant the feedback favours; bad feedback is a 400 that names the field.
 *
 * The models are rule classifiers (test/helpers/repository.ts): a row's class is where the largest of three chosen
 * features is, so the test decides which variant is right on which row.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { postJson, request, startTestServer, type TestServer } from '../helpers/server.js';
import { TempRepository, ruleClassifierModel } from '../helpers/repository.js';
import * as grpc from '@grpc/grpc-js';
import { V2GrpcClient } from '../helpers/grpc-client.js';
import { until } from '../helpers/wait.js';

/** Control v1 reads features 0,1,2; candidate v2 reads 2,1,0: they agree when feature 1 is the largest. */
const V1 = ruleClassifierModel([0, 1, 2]);
const V2 = ruleClassifierModel([2, 1, 0]);

/** A row whose class under v1 is `cls` (and under v2 is 2 - cls). */
function row(cls: number): number[] {
  const x = new Array<number>(30).fill(0);
  x[cls] = 1;
  return x;
}

const body = (cls: number, extra: object = {}) => ({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 30], data: row(cls) }], ...extra });

interface Answer {
  id: string;
  variant: string;
  label: number;
  probabilities: number[];
}

async function infer(server: TestServer, model: string, cls: number, extra: object = {}, headers: Record<string, string> = {}): Promise<Answer> {
  const r = await request(`${server.url}/v2/models/${model}/infer`, { method: 'POST', body: JSON.stringify(body(cls, extra)), headers: { 'content-type': 'application/json', ...headers } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers.get('x-request-id'), r.body.id, 'X-Request-Id says the id the body says');
  const probabilities = r.body.outputs[0].data as number[];
  return { id: r.body.id, variant: r.headers.get('x-ferry-variant')!, label: probabilities.indexOf(Math.max(...probabilities)), probabilities };
}

const experiment = async (server: TestServer, model: string) => (await request(`${server.url}/v2/models/${model}/experiment`)).body;
const variantOf = (report: any, name: string) => report.variants.find((v: any) => v.name === name);

describe('experiments', () => {
  let repo: TempRepository;
  let server: TestServer;

  before(async () => {
    repo = new TempRepository()
      .write('ab/1/model.onnx', V1)
      .write('ab/2/model.onnx', V2)
      .write('ab/config.yaml', 'version_policy: {all: {}}\ntraffic:\n  variants:\n    - {version: 1, weight: 50}\n    - {version: 2, weight: 50}\n  outcome: {type: classification}\n')
      .write('shadowed/1/model.onnx', V1)
      .write('next/1/model.onnx', V2)
      .write('slow/1/model.onnx', ruleClassifierModel([2, 1, 0], 32))
      .write('loaded/1/model.onnx', V1)
      .write('loaded/config.yaml', 'traffic:\n  variants: [{version: 1, weight: 1}]\n  shadow: [{model: slow}]\n')
      .write('late/1/model.onnx', V1)
      .write('late/config.yaml', 'traffic:\n  variants: [{version: 1, weight: 1}]\n  shadow: [{model: slow}]\n  outcome: {type: classification}\n')
      .copyModel('diabetes_forest', 'wrong_inputs')
      .write('shadowed/config.yaml', 'traffic:\n  variants: [{version: 1, weight: 1}]\n  shadow: [{model: next}, {model: wrong_inputs}]\n  outcome: {type: classification}\n')
      .write('plain/1/model.onnx', V1);
    server = await startTestServer({ modelRepository: repo.root, repositoryPollSecs: 0.1 });
  });
  after(async () => {
    await server.stop();
    repo.remove();
  });

  it('gives every answer an id: its own, its X-Request-Id, or a new one', async () => {
    assert.equal((await infer(server, 'ab', 0, { id: 'mine-1' })).id, 'mine-1');
    assert.equal((await infer(server, 'ab', 0, {}, { 'x-request-id': 'from-header' })).id, 'from-header');
    const a = await infer(server, 'ab', 0);
    const b = await infer(server, 'ab', 0);
    assert.match(a.id, /^[0-9a-f-]{36}$/);
    assert.notEqual(a.id, b.id);
    // A model without an experiment answers as before: no id made up, no header.
    const plain = await postJson(`${server.url}/v2/models/plain/infer`, body(0));
    assert.equal(plain.body.id, undefined);
    assert.equal(plain.headers.get('x-request-id'), null);
  });

  it('joins feedback with what each variant predicted; results and metrics equal the hand-computed values', async () => {
    // Fresh model name for exact counts: the same config under another name.
    repo.write('ab2/1/model.onnx', V1).write('ab2/2/model.onnx', V2).write('ab2/config.yaml', 'version_policy: {all: {}}\ntraffic:\n  variants:\n    - {version: 1, weight: 50}\n    - {version: 2, weight: 50}\n  outcome: {type: classification}\n');
    await until('ab2 loaded', async () => (await request(`${server.url}/v2/models/ab2/ready`)).status === 200);
    const answers: (Answer & { cls: number })[] = [];
    for (let i = 0; i < 60; i++) {
      const cls = i % 3;
      answers.push({ ...(await infer(server, 'ab2', cls)), cls });
    }
    const byVariant = (v: string) => answers.filter((a) => a.variant === v);
    assert.ok(byVariant('v1').length > 5 && byVariant('v2').length > 5, 'both variants answered');
    for (const a of byVariant('v2')) assert.equal(a.label, 2 - a.cls, 'v2 follows its rule');
    // The control runs a copy of each candidate request (after the answer): agreement before any outcome.
    await until('comparison runs recorded', async () => variantOf(await experiment(server, 'ab2'), 'v2').agreement.rows === byVariant('v2').length);
    let report = await experiment(server, 'ab2');
    const v2 = byVariant('v2');
    const agreeing = v2.filter((a) => a.cls === 1).length; // both rules put class 1 where feature 1 is
    assert.ok(Math.abs(variantOf(report, 'v2').agreement.label_agreement.value - agreeing / v2.length) < 1e-12);

    // Truth: the v1 rule's class, except every fifth request, where it is the v2 rule's.
    const truth = (a: { cls: number }, i: number) => (i % 5 === 0 ? 2 - a.cls : a.cls);
    const feedback = answers.map((a, i) => ({ id: a.id, truth: truth(a, i) }));
    const first = await postJson(`${server.url}/v2/models/ab2/feedback`, { id: feedback[0]!.id, truth: feedback[0]!.truth });
    assert.deepEqual(first.body, { matched: 1, unmatched: 0, duplicate: 0, unmatched_ids: [] });
    const rest = await postJson(`${server.url}/v2/models/ab2/feedback`, { feedback: [...feedback.slice(1), { id: 'never-seen', truth: 1 }, feedback[0]] });
    assert.deepEqual(rest.body, { matched: 59, unmatched: 1, duplicate: 1, unmatched_ids: ['never-seen'] });

    // By hand: the control predicted every request (answers and comparison copies) with the v1 rule; v2 its own.
    const hand = (rule: (cls: number) => number, which: typeof answers) => {
      let correct = 0;
      let loss = 0;
      for (const a of which) {
        const t = truth(a, answers.indexOf(a));
        if (rule(a.cls) === t) correct++;
        loss += -Math.log(softmaxAt(rule(a.cls), t));
      }
      return { accuracy: correct / which.length, logLoss: loss / which.length, n: which.length };
    };
    const control = hand((c) => c, answers);
    const candidate = hand((c) => 2 - c, v2);
    report = await experiment(server, 'ab2');
    const rc = variantOf(report, 'v1');
    const rv = variantOf(report, 'v2');
    assert.equal(rc.metrics.accuracy.n, control.n);
    assert.ok(Math.abs(rc.metrics.accuracy.value - control.accuracy) < 1e-12);
    assert.ok(Math.abs(rc.metrics.log_loss.value - control.logLoss) < 1e-5, `${rc.metrics.log_loss.value} vs ${control.logLoss}`);
    assert.equal(rv.metrics.accuracy.n, candidate.n);
    assert.ok(Math.abs(rv.metrics.accuracy.value - candidate.accuracy) < 1e-12);
    assert.ok(Math.abs(rv.comparison.difference - (candidate.accuracy - control.accuracy)) < 1e-12);
    assert.ok(rv.comparison.interval[0] < rv.comparison.difference && rv.comparison.difference < rv.comparison.interval[1]);
    assert.ok(rv.comparison.p_value < 0.05, 'a 60-point difference is significant at a fixed horizon');
    assert.equal(rv.comparison.always_valid_p_value, 1, 'and the sequential test waits for 100 outcomes per arm');
    assert.equal(rv.comparison.verdict, 'no_difference_yet');
    assert.deepEqual(report.feedback, { matched: 60, unmatched: 1, duplicate: 1 });

    const metrics = (await request(`${server.url}/metrics`)).text;
    const gauge = (re: RegExp) => Number(re.exec(metrics)?.[1]);
    assert.equal(gauge(/ferry_experiment_metric\{model="ab2",variant="v2",metric="accuracy"\} (\S+)/), rv.metrics.accuracy.value);
    assert.equal(gauge(/ferry_experiment_outcomes\{model="ab2",variant="v1"\} (\S+)/), control.n);
    assert.equal(gauge(/ferry_experiment_p_value\{model="ab2",variant="v2",test="fixed_horizon"\} (\S+)/), rv.comparison.p_value);
    assert.equal(gauge(/ferry_experiment_verdict\{model="ab2",variant="v2",verdict="no_difference_yet"\} (\S+)/), 1);
    assert.equal(gauge(/ferry_experiment_feedback\{model="ab2",result="unmatched"\} (\S+)/), 1);
  });

  it('refuses bad feedback with 400s that name the field, and nothing of it is kept', async () => {
    const a = await infer(server, 'ab', 1);
    const cases: [unknown, RegExp][] = [
      [{ id: a.id }, /truth is missing/],
      [{ id: '', truth: 1 }, /id must be/],
      [{ id: a.id, reward: 1 }, /outcome type is classification/],
      [{ id: a.id, truth: [1, 2] }, /truth has 2 values but prediction .* had 1 row/],
      [{ id: a.id, truth: { x: 1 } }, /truth must be a label/],
      [{ feedback: [{ id: a.id, truth: 1 }, { id: a.id, truth: null }] }, /feedback\[1\]\.truth must be a label/],
      [{ feedback: [] }, /non-empty list/],
      [{ id: a.id, truth: 1, extra: true }, /unknown field 'extra'/],
    ];
    for (const [bad, message] of cases) {
      const r = await postJson(`${server.url}/v2/models/ab/feedback`, bad);
      assert.equal(r.status, 400, JSON.stringify(bad));
      assert.match(r.body.error, message);
    }
    const ok = await postJson(`${server.url}/v2/models/ab/feedback`, { id: a.id, truth: 1 });
    assert.equal(ok.body.matched, 1, 'the refused requests marked nothing');
    assert.equal((await postJson(`${server.url}/v2/models/nope/feedback`, { id: 'x', truth: 1 })).status, 404);
    const plain = await postJson(`${server.url}/v2/models/plain/feedback`, { id: 'x', truth: 1 });
    assert.equal(plain.status, 409, 'FAILED_PRECONDITION: the model is not in a state to take feedback');
    assert.match(plain.body.error, /runs no experiment/);
    assert.equal((await request(`${server.url}/v2/models/ab/feedback`)).status, 405);
  });

  it('records shadows, never answers with them, and counts the one that fails', async () => {
    const n = 40;
    for (let i = 0; i < n; i++) {
      const r = await postJson(`${server.url}/v2/models/shadowed/infer`, body(i % 3));
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.model_name, 'shadowed', 'the answer is always the served variant');
    }
    await until('shadows recorded', async () => variantOf(await experiment(server, 'shadowed'), 'next').requests + variantOf(await experiment(server, 'shadowed'), 'next').shadow.dropped === n);
    const report = await experiment(server, 'shadowed');
    const next = variantOf(report, 'next');
    assert.equal(next.role, 'shadow');
    assert.equal(next.agreement.rows, next.requests);
    const broken = variantOf(report, 'wrong_inputs');
    assert.equal(broken.requests, 0);
    assert.equal(broken.shadow.failed + broken.shadow.dropped, n, 'every copy to a model with other inputs failed (or was dropped), none reached an answer');
  });

  it('drops shadow copies first under load, and every answer still comes back', async () => {
    // The shadow is a model many times slower than the one answering: its queue fills, and copies are dropped.
    const n = 300;
    const replies = await Promise.all(Array.from({ length: n }, (_, i) => postJson(`${server.url}/v2/models/loaded/infer`, body(i % 3))));
    assert.ok(replies.every((r) => r.status === 200 && r.body.model_name === 'loaded'));
    let slow: any;
    await until('every copy accounted for', async () => {
      slow = variantOf(await experiment(server, 'loaded'), 'slow');
      return slow.requests + slow.shadow.dropped + slow.shadow.failed === n;
    });
    assert.equal(slow.shadow.failed, 0);
    assert.ok(slow.shadow.dropped > 0, 'copies were dropped while the shadow was busy');
    assert.ok(slow.requests > 0, 'and the others ran');
  });

  it('judges a shadow that finishes after the feedback came back', async () => {
    const a = await infer(server, 'late', 0);
    // The slow shadow takes milliseconds; the feedback is sent at once, so it usually arrives first.
    assert.equal((await postJson(`${server.url}/v2/models/late/feedback`, { id: a.id, truth: 2 })).body.matched, 1);
    await until('the shadow judged', async () => variantOf(await experiment(server, 'late'), 'slow').feedback === 1);
    const slow = variantOf(await experiment(server, 'late'), 'slow');
    assert.equal(slow.metrics.accuracy.value, 1, 'the slow model reads features 2,1,0: class 2 for this row, as the truth says');
    assert.equal(variantOf(await experiment(server, 'late'), 'v1').metrics.accuracy.value, 0);
  });

  it('records gRPC answers too, and takes their feedback and gives the results over gRPC (FerryExperimentService)', async () => {
    const client = new V2GrpcClient(server.grpcAddress);
    const experiments = new V2GrpcClient(server.grpcAddress, {}, 'FerryExperimentService');
    try {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const reply = await client.call('ModelInfer', {
          model_name: 'ab',
          id: `grpc-${i}`,
          inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 30], contents: { fp32_contents: row(2) } }],
        });
        assert.equal(reply.error, null);
        assert.equal(reply.response.id, `grpc-${i}`);
        ids.push(reply.response.id);
      }
      const before = variantOf(await experiment(server, 'ab'), 'v1').feedback + variantOf(await experiment(server, 'ab'), 'v2').feedback;
      const fed = await experiments.call('ModelFeedback', {
        model_name: 'ab',
        feedback: [{ id: ids[0], truth_labels: ['2'] }, { id: ids[1], truth_values: [0] }, { id: 'nobody', truth_values: [1] }],
      });
      assert.equal(fed.error, null);
      assert.deepEqual({ ...fed.response }, { matched: 2, unmatched: 1, duplicate: 0, unmatched_ids: ['nobody'] });
      const report = JSON.parse((await experiments.call('ModelExperiment', { model_name: 'ab' })).response.report_json);
      assert.equal(report.model, 'ab');
      assert.ok(variantOf(report, 'v1').feedback + variantOf(report, 'v2').feedback >= before + 2, 'the outcomes were joined');
      // The same checks as REST, as gRPC statuses.
      const bad = await experiments.call('ModelFeedback', { model_name: 'ab', feedback: [{ id: ids[2], truth_labels: ['1'], truth_values: [1] }] });
      assert.equal(bad.error?.code, grpc.status.INVALID_ARGUMENT);
      assert.match(bad.error!.details, /truth_labels or truth_values, not both/);
      const reward = await experiments.call('ModelFeedback', { model_name: 'ab', feedback: [{ id: ids[2], reward: 1 }] });
      assert.equal(reward.error?.code, grpc.status.INVALID_ARGUMENT);
      assert.match(reward.error!.details, /outcome type is classification/);
      assert.equal((await experiments.call('ModelFeedback', { model_name: 'nope', feedback: [] })).error?.code, grpc.status.NOT_FOUND);
      assert.equal((await experiments.call('ModelExperiment', { model_name: 'plain' })).error?.code, grpc.status.FAILED_PRECONDITION);
    } finally {
      client.close();
      experiments.close();
    }
  });

  it('promotes a variant on the management port only; results stay readable', async () => {
    const management = `http://127.0.0.1:${server.managementPort}`;
    assert.equal((await postJson(`${server.url}/v2/repository/models/ab/promote`, { variant: 'v2' })).status, 403);
    const unknown = await postJson(`${management}/v2/repository/models/ab/promote`, { variant: 'v9' });
    assert.equal(unknown.status, 404);
    assert.match(unknown.body.error, /no traffic variant 'v9' \(its variants: v1, v2\)/);
    const done = await postJson(`${management}/v2/repository/models/ab/promote`, { variant: 'v2' });
    assert.equal(done.status, 200, done.text);
    assert.equal(done.body.promoted, 'v2');
    assert.deepEqual(done.body.config.traffic.variants, [{ version: 2, weight: 1 }]);
    for (let i = 0; i < 20; i++) assert.equal((await infer(server, 'ab', 0)).variant, 'v2');
    const report = await experiment(server, 'ab');
    assert.equal(report.control, 'v2');
    assert.ok(variantOf(report, 'v2').requests > 20);
  });
});

/** The rule models' probability of class `t` for a row whose largest feature maps to class `argmax`. */
function softmaxAt(argmax: number, t: number): number {
  const z = [0, 0, 0];
  z[argmax] = 10;
  const e = z.map((v) => Math.exp(v));
  return (e[t] as number) / e.reduce((a, b) => a + b, 0);
}
