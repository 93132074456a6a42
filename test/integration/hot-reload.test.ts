/**
 * Poll mode on the real server: each way the repository can change (a version added, removed or rewritten, a model
 * folder added or removed, a config changed, a broken or half-written version) and what ferry serves after it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { postJson, request, startTestServer, EXAMPLES, type TestServer } from '../helpers/server.js';
import { pino } from 'pino';
import { TempRepository } from '../helpers/repository.js';
import { asRequestInputs, referenceModels } from '../helpers/reference.js';
import { until } from '../helpers/wait.js';
import { LoadLoop } from '../helpers/load-loop.js';

const mlpInputs = asRequestInputs(referenceModels().find((r) => r.model === 'mlp')!.cases[0]!.inputs);
const MLP_FILE = join(EXAMPLES, 'mlp', '1', 'model.onnx');

interface Row {
  name: string;
  version?: string;
  state: string;
  reason?: string;
}

async function index(server: TestServer): Promise<Row[]> {
  return (await postJson(`${server.url}/v2/repository/index`, {})).body as Row[];
}

function rowsOf(rows: Row[], name: string): string[] {
  return rows.filter((r) => r.name === name).map((r) => `${r.version ?? '-'}:${r.state}`);
}

async function inferVersion(server: TestServer, model = 'm'): Promise<string> {
  const reply = await postJson(`${server.url}/v2/models/${model}/infer`, { inputs: mlpInputs });
  assert.equal(reply.status, 200, reply.text);
  return reply.body.model_version as string;
}

describe('poll mode: the repository changes while ferry serves', () => {
  let repo: TempRepository;
  let server: TestServer;

  before(async () => {
    repo = new TempRepository().copyModel('mlp', 'm', 1);
    server = await startTestServer({ modelRepository: repo.root, repositoryPollSecs: 0.1, logger: pino({ level: process.env.DEBUG_LOG ? 'info' : 'silent' }) });
  });

  after(async () => {
    await server.stop();
    repo.remove();
  });

  it('loads a version copied in, lets it take over, and drains and unloads the one it replaces', async () => {
    assert.equal(await inferVersion(server), '1');
    repo.copyModel('mlp', 'm', 2);
    await until('version 2 to serve and version 1 to go', async () => rowsOf(await index(server), 'm').join() === '2:READY');
    assert.equal(await inferVersion(server), '2');
    const old = await request(`${server.url}/v2/models/m/versions/1/ready`);
    assert.equal(old.status, 404);
    assert.match(old.body.error, /version 1 is on disk but not served: the version policy is latest 1 \(served: 2\)/);
    const metrics = (await request(`${server.url}/metrics`)).text;
    assert.match(metrics, /ferry_requests_total\{model="m",version="2",outcome="success"\}/);
    assert.doesNotMatch(metrics, /model="m",version="1"/, 'an unloaded version leaves no series behind');
  });

  it('applies a changed config (here the version policy), and a removed version is drained and unloaded', async () => {
    repo.write('m/config.yaml', 'version_policy: {all: {}}\n');
    await until('both versions to serve', async () => rowsOf(await index(server), 'm').join() === '1:READY,2:READY');
    assert.deepEqual((await request(`${server.url}/v2/models/m`)).body.versions, ['1', '2']);
    rmSync(join(repo.root, 'm', '2'), { recursive: true });
    await until('version 2 to be unloaded', async () => rowsOf(await index(server), 'm').join() === '1:READY');
    assert.equal(await inferVersion(server), '1');
  });

  it('reloads a version whose file is rewritten in place', async () => {
    repo.write('m/1/model.onnx', undefined, join(EXAMPLES, 'diabetes_forest', '1', 'model.onnx'));
    await until('the new model to serve as version 1', async () => (await request(`${server.url}/v2/models/m`)).body.inputs?.[0]?.shape?.[1] === 10);
    repo.write('m/1/model.onnx', undefined, MLP_FILE);
    await until('the MLP back', async () => (await request(`${server.url}/v2/models/m`)).body.inputs?.[0]?.shape?.[1] === 30);
  });

  it('keeps the serving version when a new one fails to load, says why in the index, and loads it once it is fixed', async () => {
    rmSync(join(repo.root, 'm', 'config.yaml'));
    await until('the latest-1 policy back', async () => (await index(server)).some((r) => r.name === 'm' && r.state === 'READY') && (await request(`${server.url}/v2/models/m`)).body.versions?.join() === '1');
    repo.write('m/3/model.onnx', 'this is not an ONNX file');
    await until('version 3 to have failed', async () => rowsOf(await index(server), 'm').includes('3:UNAVAILABLE'));
    const rows = await index(server);
    const three = rows.find((r) => r.name === 'm' && r.version === '3')!;
    assert.match(three.reason!, /failed to load/);
    const one = rows.find((r) => r.name === 'm' && r.version === '1')!;
    assert.equal(one.state, 'READY');
    assert.match(one.reason!, /kept serving until a version the repository wants is ready/);
    assert.equal(await inferVersion(server), '1');
    repo.write('m/3/model.onnx', undefined, MLP_FILE);
    await until('version 3 to serve', async () => rowsOf(await index(server), 'm').join() === '3:READY');
    assert.equal(await inferVersion(server), '3');
  });

  it('does not load a file while it is still being written', async () => {
    const bytes = readFileSync(MLP_FILE);
    const file = join(repo.root, 'm', '4', 'model.onnx');
    repo.write('m/4/model.onnx', bytes.subarray(0, 64));
    // A slow copy: a piece every 40 ms, faster than the poll (100 ms), so the file never looks the same twice.
    for (let at = 64; at < bytes.length; at += Math.ceil(bytes.length / 15)) {
      await new Promise((r) => setTimeout(r, 40));
      appendFileSync(file, bytes.subarray(at, Math.min(bytes.length, at + Math.ceil(bytes.length / 15))));
      assert.ok(!rowsOf(await index(server), 'm').some((r) => r.startsWith('4:')), 'version 4 was touched while being written');
    }
    await until('version 4 to serve once complete', async () => rowsOf(await index(server), 'm').join() === '4:READY');
  });

  it('adds a model whose folder appears and unloads one whose folder is removed', async () => {
    repo.copyModel('mlp', 'n', 1);
    await until('model n to serve', async () => rowsOf(await index(server), 'n').join() === '1:READY');
    assert.equal(await inferVersion(server, 'n'), '1');
    rmSync(join(repo.root, 'n'), { recursive: true });
    await until('model n to go', async () => rowsOf(await index(server), 'n').length === 0);
    const gone = await postJson(`${server.url}/v2/models/n/infer`, { inputs: mlpInputs });
    assert.equal(gone.status, 404);
  });

  it('fails no request when a deploy deletes the old version right after copying the new one in', async () => {
    const load = new LoadLoop(`${server.url}/v2/models/m/infer`, { inputs: mlpInputs }, 8);
    try {
      await until('traffic', () => load.seen('4'));
      repo.copyModel('mlp', 'm', 5);
      rmSync(join(repo.root, 'm', '4'), { recursive: true });
      await until('version 5 to answer', () => load.seen('5'));
      // and a model folder deleted and copied back within one poll: nothing is unloaded
      rmSync(join(repo.root, 'm'), { recursive: true });
      repo.copyModel('mlp', 'm', 5);
      await new Promise((r) => setTimeout(r, 400));
    } finally {
      const summary = await load.stop();
      assert.deepEqual(Object.keys(summary.statuses), ['200'], `failures: ${summary.failures.join('; ')}`);
      assert.equal(summary.lastVersion, '5');
    }
  });

  it('serves a garbage config.yaml change by keeping what serves, and says so', async () => {
    writeFileSync(join(repo.root, 'm', 'config.yaml'), 'max_batch_size: [not a number\n');
    await until('the bad config to be noticed', async () => /still serving what was loaded before/.test((await index(server)).find((r) => r.name === 'm')?.reason ?? ''));
    assert.equal(await inferVersion(server), '5');
    rmSync(join(repo.root, 'm', 'config.yaml'));
    await until('the notice to clear', async () => (await index(server)).find((r) => r.name === 'm')?.reason === undefined);
  });
});
