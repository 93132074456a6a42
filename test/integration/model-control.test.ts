/** The model control modes (Triton's names) and what each lets the management API and the repository change. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { postJson, request, startTestServer, type TestServer } from '../helpers/server.js';
import { TempRepository } from '../helpers/repository.js';
import { asRequestInputs, referenceModels } from '../helpers/reference.js';
import { startServer } from '../../src/server.js';

const mlpInputs = asRequestInputs(referenceModels().find((r) => r.model === 'mlp')!.cases[0]!.inputs);

const manage = (server: TestServer, model: string, action: 'load' | 'unload') =>
  request(`http://127.0.0.1:${server.managementPort}/v2/repository/models/${model}/${action}`, { method: 'POST' });

const servedVersions = async (server: TestServer, model = 'm'): Promise<string[] | undefined> => (await request(`${server.url}/v2/models/${model}`)).body.versions;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('model control mode none', () => {
  it('loads everything once, applies no later change, and refuses load and unload with 409', async () => {
    const repo = new TempRepository().copyModel('mlp', 'm', 1);
    const server = await startTestServer({ modelRepository: repo.root, modelControlMode: 'none', repositoryPollSecs: 0.05 });
    try {
      repo.copyModel('mlp', 'm', 2);
      await sleep(400);
      assert.deepEqual(await servedVersions(server), ['1']);
      for (const action of ['load', 'unload'] as const) {
        const reply = await manage(server, 'm', action);
        assert.equal(reply.status, 409);
        assert.match(reply.body.error, new RegExp(`cannot be ${action}ed on request: the model control mode is 'none'`));
      }
    } finally {
      await server.stop();
      repo.remove();
    }
  });
});

describe('model control mode poll, with the management API', () => {
  it('keeps a model unloaded on request unloaded across polls, and a load applies at once', async () => {
    const repo = new TempRepository().copyModel('mlp', 'm', 1);
    const server = await startTestServer({ modelRepository: repo.root, repositoryPollSecs: 0.05 });
    try {
      assert.equal((await manage(server, 'm', 'unload')).status, 200);
      repo.copyModel('mlp', 'm', 2);
      await sleep(400);
      const infer = await postJson(`${server.url}/v2/models/m/infer`, { inputs: mlpInputs });
      assert.equal(infer.status, 404, 'still unloaded after several polls');
      const load = await manage(server, 'm', 'load');
      assert.deepEqual(load.body.serving, [2]);
      assert.equal((await postJson(`${server.url}/v2/models/m/infer`, { inputs: mlpInputs })).body.model_version, '2');
    } finally {
      await server.stop();
      repo.remove();
    }
  });

  it('loads a version copied in at once when asked, without waiting for the poll', async () => {
    const repo = new TempRepository().copyModel('mlp', 'm', 1);
    const server = await startTestServer({ modelRepository: repo.root, repositoryPollSecs: 3600 });
    try {
      repo.copyModel('mlp', 'm', 2);
      const load = await manage(server, 'm', 'load');
      assert.deepEqual(load.body, { model: 'm', loaded: [2], unloaded: [1], serving: [2] });
    } finally {
      await server.stop();
      repo.remove();
    }
  });
});

describe('model control mode explicit', () => {
  it("loads only --load-model's models ('*' for all), changes nothing by itself, and lists folders added later as not loaded", async () => {
    const repo = new TempRepository().copyModel('mlp', 'a', 1).copyModel('mlp', 'b', 1);
    const server = await startTestServer({ modelRepository: repo.root, modelControlMode: 'explicit', loadModels: ['a'], strictReadiness: true });
    try {
      assert.equal((await request(`${server.url}/v2/health/ready`)).status, 200, 'ready: every model asked for is ready');
      assert.deepEqual(await servedVersions(server, 'a'), ['1']);
      assert.equal((await request(`${server.url}/v2/models/b`)).status, 404);
      repo.copyModel('mlp', 'a', 2).copyModel('mlp', 'c', 1);
      await sleep(300);
      assert.deepEqual(await servedVersions(server, 'a'), ['1'], 'nothing loads until asked');
      const index = (await request(`${server.url}/v2/repository/index`)).body as { name: string; state: string }[];
      assert.deepEqual(index.map((r) => `${r.name}:${r.state}`), ['a:READY', 'b:UNAVAILABLE', 'c:UNAVAILABLE']);
      assert.deepEqual((await manage(server, 'a', 'load')).body.serving, [2]);
    } finally {
      await server.stop();
      repo.remove();
    }
    const all = new TempRepository().copyModel('mlp', 'a', 1).copyModel('mlp', 'b', 1);
    const everything = await startTestServer({ modelRepository: all.root, modelControlMode: 'explicit', loadModels: ['*'] });
    try {
      assert.deepEqual(await servedVersions(everything, 'b'), ['1']);
    } finally {
      await everything.stop();
      all.remove();
    }
  });

  it('is ready with nothing asked for (a repository filled later), strict readiness included', async () => {
    const repo = new TempRepository().copyModel('mlp', 'a', 1);
    const server = await startTestServer({ modelRepository: repo.root, modelControlMode: 'explicit', strictReadiness: true });
    try {
      assert.equal((await request(`${server.url}/v2/health/ready`)).status, 200);
    } finally {
      await server.stop();
      repo.remove();
    }
  });

  it('refuses to start with a --load-model the repository does not hold, or --load-model outside explicit mode', async () => {
    const repo = new TempRepository().copyModel('mlp', 'a', 1);
    const base = { modelRepository: repo.root, host: '127.0.0.1', httpPort: 0, grpcPort: 0, managementPort: 0, logger: pino({ level: 'silent' }) };
    try {
      await assert.rejects(startServer({ ...base, modelControlMode: 'explicit', loadModels: ['nope'] }), /no model 'nope' in .* \(models there: a\)/);
      await assert.rejects(startServer({ ...base, loadModels: ['a'] }), /--load-model needs --model-control-mode explicit \(the mode is poll, which loads every model\)/);
    } finally {
      repo.remove();
    }
  });
});
