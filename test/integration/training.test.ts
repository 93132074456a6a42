/**
 * The training job (examples/training/train.py, what the training image runs) into a repository a real ferry polls:
 * train -> export -> the version folder renamed in -> loaded and served, with no restart; a second run becomes
 * version 2. Needs /usr/bin/python3 with numpy, scikit-learn and onnx (.ci/run installs Debian's packages).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXAMPLES, postJson, request, startTestServer, type TestServer } from '../helpers/server.js';
import { ROOT } from '../helpers/served-process.js';
import { until } from '../helpers/wait.js';

const PYTHON = '/usr/bin/python3';
const reference = JSON.parse(readFileSync(join(EXAMPLES, 'breast_cancer/reference.json'), 'utf8'));

function train(repository: string, c: string): { version: number; test_accuracy: number } {
  const out = execFileSync(PYTHON, [join(ROOT, 'examples/training/train.py'), '--repository', repository, '--model', 'trained', '--c', c], { encoding: 'utf8', timeout: 120_000 });
  return JSON.parse(out.trim().split('\n').pop()!);
}

describe('the training job, into a served repository', () => {
  let repo: string;
  let server: TestServer;

  before(async () => {
    repo = mkdtempSync(join(tmpdir(), 'ferry-training-'));
    server = await startTestServer({ modelRepository: repo, allowEmptyRepository: true, repositoryPollSecs: 0.2 });
  });
  after(async () => {
    await server?.stop();
    rmSync(repo, { recursive: true, force: true });
  });

  it('serves each version the job writes, without a restart', async () => {
    const first = train(repo, '1.0');
    assert.equal(first.version, 1);
    assert.ok(first.test_accuracy > 0.9, `accuracy ${first.test_accuracy}`);
    await until('version 1 ready', async () => (await request(`${server.url}/v2/models/trained/versions/1/ready`)).status === 200, 30_000);
    const body = { inputs: reference.cases[0].inputs };
    const r = await postJson(`${server.url}/v2/models/trained/infer`, body);
    assert.equal(r.status, 200, r.text);
    // Trained on the same data as the example model: the same labels on the reference rows.
    assert.deepEqual(r.body.outputs.find((o: { name: string }) => o.name === 'output_label').data, reference.cases[0].outputs[0].data);

    const second = train(repo, '0.5');
    assert.equal(second.version, 2);
    await until('version 2 answers', async () => (await postJson(`${server.url}/v2/models/trained/infer`, body)).body?.model_version === '2', 30_000);
  });
});
