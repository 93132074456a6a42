/**
 * Feature engineering versioned with the model (config.yaml `features` and `postprocess`), on the real server: the
 * churn example (examples/churn/train.py) answers raw records, with missing values and unseen categories, as the
 * scikit-learn pipeline it was trained as does (its predict_proba, in reference.json); the text example answers as
 * its CountVectorizer + LogisticRegression; a bad row fails its own request only; a config mistake names its field;
 * drift is measured; and `ferry batch` reading the same records as CSV answers exactly as the server does.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXAMPLES, postJson, request, startTestServer, type TestServer } from '../helpers/server.js';
import { TempRepository } from '../helpers/repository.js';
import { sample, scrape } from '../helpers/metrics.js';
import { ROOT } from '../helpers/served-process.js';

interface RecordsReference {
  readonly records: Record<string, unknown>[];
  readonly probabilities: number[][];
  readonly labels: string[];
  readonly tolerance: { readonly atol: number };
}
const reference = (model: string): RecordsReference => JSON.parse(readFileSync(join(EXAMPLES, model, 'reference.json'), 'utf8'));
const churn = reference('churn');
const tickets = reference('support_tickets');

function assertProbabilities(got: number[], want: number[], atol: number, what: string): void {
  assert.equal(got.length, want.length, what);
  got.forEach((p, i) => assert.ok(Math.abs(p - want[i]!) <= atol, `${what} column ${i}: ${p}, scikit-learn ${want[i]}`));
}

const CHURN_CONFIG = readFileSync(join(EXAMPLES, 'churn/config.yaml'), 'utf8');

describe('feature engineering in config.yaml', () => {
  let repo: TempRepository;
  let server: TestServer;
  before(async () => {
    repo = new TempRepository();
    repo.write('churn/1/model.onnx', undefined, join(EXAMPLES, 'churn/1/model.onnx')).write('churn/config.yaml', CHURN_CONFIG);
    repo.write('support_tickets/1/model.onnx', undefined, join(EXAMPLES, 'support_tickets/1/model.onnx'));
    repo.write('support_tickets/config.yaml', readFileSync(join(EXAMPLES, 'support_tickets/config.yaml'), 'utf8'));
    // The churn model, strict: a missing age and an unknown plan are refused.
    repo.write('churn_strict/1/model.onnx', undefined, join(EXAMPLES, 'churn/1/model.onnx'));
    repo.write('churn_strict/config.yaml', CHURN_CONFIG.replace(/missing: \{mean: ([0-9.]+)\}\n    standard: \{mean: \1/, 'missing: reject\n    standard: {mean: $1').replace('unknown: ignore}', 'unknown: error}'));
    // Mistakes: a transform on the wrong kind of feature; features that do not fill the model's 11 columns.
    repo.write('bad_field/1/model.onnx', undefined, join(EXAMPLES, 'churn/1/model.onnx'));
    repo.write('bad_field/config.yaml', 'features:\n  - name: plan\n    type: category\n    one_hot: {vocabulary: [a, b]}\n    log1p: true\n');
    repo.write('bad_width/1/model.onnx', undefined, join(EXAMPLES, 'churn/1/model.onnx'));
    repo.write('bad_width/config.yaml', 'features:\n  - name: age\n  - name: plan\n    type: category\n    one_hot: {vocabulary: [a, b]}\n');
    server = await startTestServer({ modelRepository: repo.root });
  });
  after(async () => {
    await server.stop();
    repo.remove();
  });

  it('answers raw churn records as the scikit-learn pipeline did (missing values and unseen categories included)', async () => {
    const reply = await postJson(`${server.url}/v1/models/churn:predict`, { instances: churn.records });
    assert.equal(reply.status, 200, reply.text);
    const predictions = reply.body.predictions as { label: string; probability: number; probabilities: number[] }[];
    assert.equal(predictions.length, churn.records.length);
    predictions.forEach((p, i) => {
      assertProbabilities(p.probabilities, churn.probabilities[i]!, churn.tolerance.atol, `record ${i} ${JSON.stringify(churn.records[i])}`);
      assert.equal(p.label, churn.labels[i], `record ${i}`);
      assert.ok(Math.abs(p.probability - Math.max(...churn.probabilities[i]!)) <= churn.tolerance.atol);
    });
    assert.ok(churn.records.some((r) => !('age' in r)) && churn.records.some((r) => r.plan === 'enterprise'), 'the reference covers missing and unseen');
  });

  it('takes the features as V2 tensors too, one input per feature, and says so in its metadata', async () => {
    const meta = await request(`${server.url}/v2/models/churn`);
    assert.deepEqual(meta.body.inputs.map((i: { name: string; datatype: string }) => `${i.name}:${i.datatype}`), ['age:FP64', 'tenure_months:FP64', 'monthly_charges:FP64', 'support_calls:FP64', 'plan:BYTES', 'region:BYTES']);
    assert.deepEqual(meta.body.outputs.map((o: { name: string }) => o.name), ['label', 'probability', 'probabilities']);
    const r = churn.records[0]!;
    const reply = await postJson(`${server.url}/v2/models/churn/infer`, {
      inputs: ['age', 'tenure_months', 'monthly_charges', 'support_calls'].map((name) => ({ name, datatype: 'FP64', shape: [1], data: [r[name]] }))
        .concat(['plan', 'region'].map((name) => ({ name, datatype: 'BYTES', shape: [1], data: [r[name]] }))),
      outputs: [{ name: 'label' }, { name: 'probabilities' }],
    });
    assert.equal(reply.status, 200, reply.text);
    assert.deepEqual(reply.body.outputs[0], { name: 'label', datatype: 'BYTES', shape: [1], data: [churn.labels[0]] });
    assertProbabilities(reply.body.outputs[1].data, churn.probabilities[0]!, churn.tolerance.atol, 'V2');
  });

  it('answers support tickets as CountVectorizer + LogisticRegression did, with the two best labels', async () => {
    const reply = await postJson(`${server.url}/v1/models/support_tickets:predict`, { instances: tickets.records });
    assert.equal(reply.status, 200, reply.text);
    reply.body.predictions.forEach((p: { label: string; probabilities: number[]; top_labels: string[]; top_probabilities: number[] }, i: number) => {
      assertProbabilities(p.probabilities, tickets.probabilities[i]!, tickets.tolerance.atol, `ticket ${i}`);
      assert.equal(p.label, tickets.labels[i]);
      assert.equal(p.top_labels[0], p.label);
      assert.equal(p.top_labels.length, 2);
      assert.ok(p.top_probabilities[0]! >= p.top_probabilities[1]!);
    });
  });

  it('refuses a bad row with its row and feature named, and the other requests of the batch are answered', async () => {
    const good = churn.records[0]!;
    const missing = { ...good, age: null };
    const unknown = { ...good, plan: 'enterprise' };
    const replies = await Promise.all([good, missing, good, unknown, good].map((r) => postJson(`${server.url}/v1/models/churn_strict:predict`, { instances: [good, r] })));
    assert.deepEqual(replies.map((r) => r.status), [200, 400, 200, 400, 200]);
    assert.match(replies[1]!.body.error, /row 1: feature 'age' is missing/);
    assert.match(replies[3]!.body.error, /row 1: feature 'plan' has the unknown category "enterprise" \(known: basic, pro, team/);
  });

  it('refuses to load a config whose features are wrong, naming the field', async () => {
    const index = (await postJson(`${server.url}/v2/repository/index`, {})).body as { name: string; state: string; reason?: string }[];
    const reason = (name: string) => index.find((e) => e.name === name)?.reason ?? '';
    assert.match(reason('bad_field'), /features\.0: 'log1p' is for number features, and 'plan' is a category/);
    assert.match(reason('bad_width'), /features 'age', 'plan' fill 3 columns of model input 'float_input', whose shape is \[-1,11\]/);
    assert.equal((await request(`${server.url}/v2/models/churn/ready`)).status, 200, 'the others are served');
  });

  it('measures drift against the training distributions: PSI, missing and unseen shares', async () => {
    // Old customers only, a third with no age and every one on an unseen plan.
    const shifted = Array.from({ length: 60 }, (_, i) => ({ ...churn.records[0]!, age: i % 3 === 0 ? null : 85 + (i % 5), plan: 'enterprise' }));
    assert.equal((await postJson(`${server.url}/v1/models/churn:predict`, { instances: shifted })).status, 200);
    const drift = (await request(`${server.url}/v2/models/churn/drift`)).body as { version: string; features: { feature: string; rows: number; psi?: number; missingShare: number; unseenShare?: number }[] }[];
    const age = drift[0]!.features.find((f) => f.feature === 'age')!;
    const plan = drift[0]!.features.find((f) => f.feature === 'plan')!;
    assert.ok(age.psi! > 1, `age PSI ${age.psi}`);
    assert.ok(age.missingShare > 0.2 && plan.unseenShare! > 0.5, JSON.stringify({ age, plan }));
    const text = await scrape(server.url);
    assert.equal(sample(text, 'ferry_feature_drift_psi', { model: 'churn', version: '1', feature: 'age' }), age.psi);
    assert.equal(sample(text, 'ferry_feature_unseen_share', { model: 'churn', feature: 'plan' }), plan.unseenShare);
    assert.equal(sample(text, 'ferry_feature_window_rows', { model: 'churn', feature: 'region' }), age.rows);
    assert.equal((await request(`${server.url}/v2/models/support_tickets/drift`)).status, 200);
  });

  it('ferry batch reads the same records from CSV (columns by feature name) and answers exactly as the server', async () => {
    const features = ['age', 'tenure_months', 'monthly_charges', 'support_calls', 'plan', 'region'];
    const csv = [['id', ...features].join(','), ...churn.records.map((r, i) => [i, ...features.map((f) => (r[f] === null || r[f] === undefined ? '' : String(r[f])))].join(','))].join('\n');
    const input = join(repo.root, 'records.csv');
    const output = join(repo.root, 'scored.jsonl');
    writeFileSync(input, `${csv}\n`);
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'batch', 'churn', '--models', repo.root, '--input', input, '--output', output, '--id-column', 'id'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    const [code] = await once(child, 'exit');
    assert.equal(code, 0, stderr);
    const batch = readFileSync(output, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; label: string; probabilities: number[] });
    const online = (await postJson(`${server.url}/v1/models/churn:predict`, { instances: churn.records })).body.predictions as { label: string; probabilities: number[] }[];
    assert.equal(batch.length, churn.records.length, 'every record scored, none rejected');
    batch.forEach((row, i) => {
      assert.equal(row.id, String(i));
      assert.deepEqual(row.probabilities, online[i]!.probabilities, `record ${i}: batch and online identical`);
      assert.equal(row.label, online[i]!.label);
    });
  });
});
