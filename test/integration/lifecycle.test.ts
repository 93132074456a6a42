/** Start-up (ready only after loading), version policies, and serving a single .onnx file. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pino } from 'pino';
import { postJson, request, startTestServer, EXAMPLES } from '../helpers/server.js';
import { TempRepository } from '../helpers/repository.js';
import { asRequestInputs, referenceModels } from '../helpers/reference.js';
import { startServer } from '../../src/server.js';
import { loadRuntime, type RuntimeLoader } from '../../src/runtime/load.js';

const mlpInputs = asRequestInputs(referenceModels().find((r) => r.model === 'mlp')!.cases[0]!.inputs);

describe('start-up', () => {
  it('answers live at once, and 503 on ready and on inference while models load', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const gated: RuntimeLoader = async (file, context) => {
      await gate;
      return loadRuntime(file, context);
    };
    const repo = new TempRepository().copyModel('mlp', 'mlp');
    const server = await startServer({ modelRepository: repo.root, host: '127.0.0.1', httpPort: 0, grpcPort: 0, managementPort: 0, logger: pino({ level: 'silent' }), loader: gated });
    const url = `http://127.0.0.1:${server.httpPort}`;
    try {
      assert.equal((await request(`${url}/v2/health/live`)).status, 200);
      const ready = await request(`${url}/v2/health/ready`);
      assert.equal(ready.status, 503);
      assert.match(ready.body.error, /models are still loading/);
      const modelReady = await request(`${url}/v2/models/mlp/ready`);
      assert.equal(modelReady.status, 503);
      assert.match(modelReady.body.error, /model 'mlp' version 1 is loading/);
      const infer = await postJson(`${url}/v2/models/mlp/infer`, { inputs: mlpInputs });
      assert.equal(infer.status, 503);
      assert.match(infer.body.error, /is loading/);
      release();
      await server.loaded;
      assert.equal((await request(`${url}/v2/health/ready`)).status, 200);
      assert.equal((await postJson(`${url}/v2/models/mlp/infer`, { inputs: mlpInputs })).status, 200);
    } finally {
      release();
      await server.stop();
      repo.remove();
    }
  });
});

describe('version policy', () => {
  it('serves the latest version by default (Triton), and says why an older one is not served', async () => {
    const repo = new TempRepository().copyModel('mlp', 'm', 1).copyModel('mlp', 'm', 2).copyModel('mlp', 'm', 10);
    const server = await startTestServer({ modelRepository: repo.root });
    try {
      const meta = await request(`${server.url}/v2/models/m`);
      assert.deepEqual(meta.body.versions, ['10']);
      const infer = await postJson(`${server.url}/v2/models/m/infer`, { inputs: mlpInputs });
      assert.equal(infer.body.model_version, '10');
      const old = await request(`${server.url}/v2/models/m/versions/2/ready`);
      assert.equal(old.status, 404);
      assert.match(old.body.error, /model 'm' version 2 is on disk but not served: the version policy is latest 1 \(served: 10\)/);
    } finally {
      await server.stop();
      repo.remove();
    }
  });

  it('all and specific policies from config.yaml', async () => {
    const repo = new TempRepository()
      .copyModel('mlp', 'every', 1).copyModel('mlp', 'every', 2)
      .write('every/config.yaml', 'version_policy:\n  all: {}\n')
      .copyModel('mlp', 'pinned', 1).copyModel('mlp', 'pinned', 2).copyModel('mlp', 'pinned', 3)
      .write('pinned/config.json', JSON.stringify({ version_policy: { specific: { versions: [1, 3] } } }));
    const server = await startTestServer({ modelRepository: repo.root });
    try {
      assert.deepEqual((await request(`${server.url}/v2/models/every`)).body.versions, ['1', '2']);
      for (const v of ['1', '2']) {
        const reply = await postJson(`${server.url}/v2/models/every/versions/${v}/infer`, { inputs: mlpInputs });
        assert.equal(reply.body.model_version, v);
      }
      assert.deepEqual((await request(`${server.url}/v2/models/pinned`)).body.versions, ['1', '3']);
      assert.equal((await request(`${server.url}/v2/models/pinned/versions/2`)).status, 404);
    } finally {
      await server.stop();
      repo.remove();
    }
  });
});

describe('a single .onnx file', () => {
  it('is served as one model named after the file, or --model-name', async () => {
    const file = join(EXAMPLES, 'mlp', '1', 'model.onnx');
    for (const [modelName, expected] of [[undefined, 'model'], ['scorer', 'scorer']] as const) {
      const server = await startTestServer({ modelRepository: file, ...(modelName ? { modelName } : {}) });
      try {
        const reply = await postJson(`${server.url}/v2/models/${expected}/infer`, { inputs: mlpInputs });
        assert.equal(reply.status, 200, reply.text);
        assert.equal(reply.body.model_name, expected);
      } finally {
        await server.stop();
      }
    }
  });

  it('a repository path that does not exist fails the start with a clear message', async () => {
    await assert.rejects(startTestServer({ modelRepository: '/nonexistent/models' }), /model repository '\/nonexistent\/models' does not exist/);
  });
});
