/**
 * The built command (`npm run build`: tsc, then scripts/bundle.mjs) is what `bin` and `npm start` run: one bundle
 * with npm packages inside. It must start and serve as the sources do: REST, gRPC with reflection and health, a
 * model moved to a worker thread, and `ferry bench` (a chunk loaded on use).
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { EXAMPLES, postJson, request } from '../helpers/server.js';
import { asRequestInputs, referenceModels } from '../helpers/reference.js';
import { V2GrpcClient, healthCheck, reflectionListServices } from '../helpers/grpc-client.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const mlp = { inputs: asRequestInputs(referenceModels().find((r) => r.model === 'mlp')!.cases[0]!.inputs) };

describe('the bundled ferry command', () => {
  before(() => {
    execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
  });

  it('serves REST and gRPC (reflection, health), and a worker-thread model, from examples/models', async () => {
    const child = spawn(process.execPath, [BIN, 'serve', EXAMPLES, '--host', '127.0.0.1', '--http-port', '0', '--grpc-port', '0', '--management-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    try {
      const deadline = Date.now() + 30_000;
      while (!/now runs in 1 worker thread/.test(out) || !/server is ready/.test(out)) {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the bundled ferry serve did not start:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const url = `http://127.0.0.1:${/"port":(\d+)/.exec(out)![1]}`;
      const grpc = `127.0.0.1:${/"grpcPort":(\d+)/.exec(out)![1]}`;
      assert.equal((await request(`${url}/v2/health/ready`)).status, 200);
      assert.equal((await postJson(`${url}/v2/models/mlp/infer`, mlp)).status, 200);
      const cnn = referenceModels().find((r) => r.model === 'image_cnn')!;
      assert.equal((await postJson(`${url}/v2/models/image_cnn/infer`, { inputs: asRequestInputs(cnn.cases[0]!.inputs) })).status, 200);
      const client = new V2GrpcClient(grpc);
      try {
        assert.deepEqual((await client.call('ServerReady', {})).response, { ready: true });
      } finally {
        client.close();
      }
      assert.deepEqual((await reflectionListServices(grpc)).sort(), ['grpc.health.v1.Health', 'inference.GRPCInferenceService']);
      assert.equal((await healthCheck(grpc, '')).response.status, 'SERVING');
      const bench = execFileSync(process.execPath, [BIN, 'bench', '--model', 'mlp', '--url', url, '--duration', '0.3', '--warmup', '0', '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      assert.equal(JSON.parse(bench).levels[0].errors, 0, bench);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    assert.doesNotMatch(out, /"level":(50|60)/, out);
  });
});
