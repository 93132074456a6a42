/**
 * The experiment store (--data-dir) on the real server: what was acknowledged survives a kill -9 of `ferry serve`
 * (answers received, feedback acknowledged), results come back equal after a restart and feedback sent after it
 * joins predictions made before; the prediction bound by count holds; regression and reward outcomes give the
 * hand-computed MAE, RMSE and mean reward; Thompson allocation moves the weights toward the variant that earns more.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postJson, request, startTestServer } from '../helpers/server.js';
import { TempRepository, ruleClassifierModel } from '../helpers/repository.js';
import { asRequestInputs, referenceModels } from '../helpers/reference.js';
import { until } from '../helpers/wait.js';
import { startServed } from '../helpers/served-process.js';

const AB_CONFIG = 'version_policy: {all: {}}\ntraffic:\n  variants:\n    - {version: 1, weight: 50}\n    - {version: 2, weight: 50}\n  outcome: {type: classification}\n';

function row(cls: number): number[] {
  const x = new Array<number>(30).fill(0);
  x[cls] = 1;
  return x;
}
const body = (cls: number) => ({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 30], data: row(cls) }] });

/** `ferry serve` as a user runs it, so that it can be killed with SIGKILL. */
async function serve(repository: string, dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const args = ['dist/cli/main.js', 'serve', repository, '--host', '127.0.0.1', '--http-port', '0', '--grpc-port', '0', '--management-port', '0', '--data-dir', dataDir, '--log-format', 'json'];
  const started = await startServed(process.execPath, args);
  return { child: started.child, url: started.url() };
}

async function kill9(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

const results = async (url: string, model: string) => (await request(`${url}/v2/models/${model}/experiment`)).body;
/** The parts of a report that must survive a restart unchanged. */
const essence = (r: any) => r.variants.map((v: any) => ({ name: v.name, requests: v.requests, feedback: v.feedback, metrics: v.metrics, agreement: v.agreement }));

describe('experiment store', () => {
  let repo: TempRepository;
  let dataDir: string;

  before(() => {
    repo = new TempRepository().write('ab/1/model.onnx', ruleClassifierModel([0, 1, 2])).write('ab/2/model.onnx', ruleClassifierModel([2, 1, 0])).write('ab/config.yaml', AB_CONFIG);
    dataDir = mkdtempSync(join(tmpdir(), 'ferry-data-'));
  });
  after(() => {
    repo.remove();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('loses nothing acknowledged to a kill -9: answers received are found, feedback acknowledged is kept', async () => {
    let server = await serve(repo.root, dataDir);
    const answered: string[] = [];
    // Predictions in flight when the process is killed: every one answered before must be found after.
    const inFlight = Array.from({ length: 300 }, (_, i) =>
      postJson(`${server.url}/v2/models/ab/infer`, body(i % 3)).then((r) => {
        if (r.status === 200) answered.push(r.body.id);
      }, () => undefined),
    );
    await until('some answers', () => answered.length >= 60);
    await kill9(server.child);
    await Promise.all(inFlight);
    const before = [...answered];

    server = await serve(repo.root, dataDir);
    // Feedback in flight when killed: every item acknowledged before must be a duplicate after.
    const acknowledged: string[] = [];
    const sending = before.map((id) =>
      postJson(`${server.url}/v2/models/ab/feedback`, { id, truth: 0 }).then((r) => {
        if (r.status === 200 && r.body.matched === 1) acknowledged.push(id);
      }, () => undefined),
    );
    await until('some feedback acknowledged', () => acknowledged.length >= 20);
    await kill9(server.child);
    await Promise.all(sending);

    server = await serve(repo.root, dataDir);
    try {
      const again = await postJson(`${server.url}/v2/models/ab/feedback`, { feedback: before.map((id) => ({ id, truth: 0 })) });
      assert.equal(again.status, 200, again.text);
      assert.equal(again.body.unmatched, 0, `every answered prediction survived (${before.length} answered before the kill)`);
      assert.ok(again.body.duplicate >= acknowledged.length, `every acknowledged outcome survived (${acknowledged.length} acknowledged, ${again.body.duplicate} found)`);
      assert.equal(again.body.matched + again.body.duplicate, before.length);
      const report = await results(server.url, 'ab');
      const feedbackCount = report.variants.reduce((n: number, v: any) => n + (v.role === 'control' ? 0 : v.feedback), 0) + report.variants[0].feedback;
      assert.ok(feedbackCount >= before.length, 'each outcome was joined with the answer (and the control\'s comparison run)');

      // A graceful stop checkpoints; the results come back equal, and the log is not applied twice.
      const kept = essence(report);
      const stopped = new Promise((resolve) => server.child.once('exit', resolve));
      server.child.kill('SIGTERM');
      await stopped;
      server = await serve(repo.root, dataDir);
      assert.deepEqual(essence(await results(server.url, 'ab')), kept);
    } finally {
      await kill9(server.child);
    }
  });

  it('keeps at most --prediction-max-records predictions for feedback: the oldest go first', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-data-'));
    const server = await startTestServer({ modelRepository: repo.root, dataDir: dir, predictionMaxRecords: 50 });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 120; i++) ids.push((await postJson(`${server.url}/v2/models/ab/infer`, body(0))).body.id);
      // Over the bound, the oldest hundredth (here 1) goes at once: between 49 and 50 are kept.
      const kept = (await results(server.url, 'ab')).store.predictions_kept;
      assert.ok(kept >= 49 && kept <= 50, `${kept} kept`);
      const old = await postJson(`${server.url}/v2/models/ab/feedback`, { feedback: ids.slice(0, 70).map((id) => ({ id, truth: 0 })) });
      assert.equal(old.body.unmatched, 70);
      const recent = await postJson(`${server.url}/v2/models/ab/feedback`, { feedback: ids.slice(-49).map((id) => ({ id, truth: 0 })) });
      assert.equal(recent.body.matched, 49);
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('experiment outcomes: regression, reward, and Thompson allocation', () => {
  const forest = referenceModels().find((r) => r.model === 'diabetes_forest')!;
  let repo: TempRepository;

  before(() => {
    repo = new TempRepository()
      .copyModel('diabetes_forest', 'price', 1)
      .copyModel('diabetes_forest', 'price', 2)
      .write('price/config.yaml', 'version_policy: {all: {}}\ntraffic:\n  variants:\n    - {version: 1, weight: 1}\n    - {version: 2, weight: 1}\n  outcome: {type: regression}\n')
      .write('bandit/1/model.onnx', ruleClassifierModel([0, 1, 2]))
      .write('bandit/2/model.onnx', ruleClassifierModel([2, 1, 0]))
      .write('bandit/config.yaml', 'version_policy: {all: {}}\ntraffic:\n  variants:\n    - {version: 1, weight: 50}\n    - {version: 2, weight: 50}\n  outcome: {type: reward}\n  allocation: thompson\n  allocation_floor: 0.05\n');
  });
  after(() => repo.remove());

  it('reports MAE and RMSE of a regression as computed by hand', async () => {
    const server = await startTestServer({ modelRepository: repo.root });
    try {
      const errors: number[] = [];
      const feedback: { id: string; truth: number[] }[] = [];
      const inputs = asRequestInputs(forest.cases[0]!.inputs); // several rows: one truth each
      for (let i = 0; i < 20; i++) {
        const r = await postJson(`${server.url}/v2/models/price/infer`, { inputs });
        const values = r.body.outputs[0].data as number[];
        const truths = values.map((_, k) => 100 + i * 7 + k);
        feedback.push({ id: r.body.id, truth: truths });
        values.forEach((v, k) => errors.push(v - truths[k]!));
      }
      const rows = errors.length / 20;
      await until('comparison runs recorded', async () => {
        const v2 = (await results(server.url, 'price')).variants[1];
        return v2.agreement.rows === v2.requests * rows;
      });
      assert.equal((await postJson(`${server.url}/v2/models/price/feedback`, { feedback })).body.matched, 20);
      const control = (await results(server.url, 'price')).variants[0];
      // Both versions are the same forest and the control predicted every request (answer or comparison copy).
      const mae = errors.reduce((a, e) => a + Math.abs(e), 0) / errors.length;
      const rmse = Math.sqrt(errors.reduce((a, e) => a + e * e, 0) / errors.length);
      assert.equal(control.metrics.mae.n, errors.length);
      assert.ok(Math.abs(control.metrics.mae.value - mae) < 1e-9, `${control.metrics.mae.value} vs ${mae}`);
      assert.ok(Math.abs(control.metrics.rmse.value - rmse) < 1e-9);
      assert.ok(control.metrics.mae.interval[0] < mae && mae < control.metrics.mae.interval[1]);
      const bad = await postJson(`${server.url}/v2/models/price/feedback`, { id: feedback[0]!.id, truth: 'high' });
      assert.equal(bad.status, 400);
      assert.match(bad.body.error, /truth must be a finite number/);
    } finally {
      await server.stop();
    }
  });

  it('moves the weights toward the variant that earns more reward, keeping the floor', async () => {
    const server = await startTestServer({ modelRepository: repo.root });
    try {
      const rewards: Record<string, number[]> = { v1: [], v2: [] };
      for (let round = 0; round < 8; round++) {
        const answers = await Promise.all(Array.from({ length: 40 }, () => postJson(`${server.url}/v2/models/bandit/infer`, body(0))));
        const feedback = answers.map((r) => {
          const variant = r.headers.get('x-ferry-variant')!;
          const reward = variant === 'v2' ? 1 : 0; // v2 earns, v1 does not
          rewards[variant]!.push(reward);
          return { id: r.body.id, reward };
        });
        assert.equal((await postJson(`${server.url}/v2/models/bandit/feedback`, { feedback })).body.matched, 40);
        await new Promise((resolve) => setTimeout(resolve, 1100)); // weights move at most once a second
      }
      const report = await results(server.url, 'bandit');
      assert.equal(report.allocation, 'thompson');
      const [v1, v2] = report.variants;
      assert.ok(v2.weight >= 0.9, `v2's weight ${v2.weight}`);
      assert.ok(v1.weight >= 0.05 - 1e-9, `v1 keeps its floor (${v1.weight})`);
      assert.equal(v1.metrics.mean_reward.value, 0);
      assert.equal(v2.metrics.mean_reward.value, 1);
      assert.equal(v2.metrics.mean_reward.n, rewards.v2!.length, 'only the variant that answered earns the reward');
      assert.ok(rewards.v2!.length > rewards.v1!.length * 2, 'most requests went to v2');
    } finally {
      await server.stop();
    }
  });
});
