/**
 * The built command (`npm run build`: tsc, then scripts/bundle.mjs) is what `bin` and `npm start` run: one bundle
 * with npm packages inside. It must start and serve as the sources do: REST, gRPC with reflection and health, a
 * model moved to a worker thread, and `ferry bench` (a chunk loaded on use).
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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
    const child = spawn(process.execPath, [BIN, 'serve', EXAMPLES, '--host', '127.0.0.1', '--http-port', '0', '--grpc-port', '0', '--management-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'], env: withoutThreshold(process.env) });
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
      assert.deepEqual((await reflectionListServices(grpc)).sort(), ['grpc.health.v1.Health', 'inference.FerryExperimentService', 'inference.GRPCInferenceService']);
      assert.equal((await healthCheck(grpc, '')).response.status, 'SERVING');
      const bench = execFileSync(process.execPath, [BIN, 'bench', '--model', 'mlp', '--url', url, '--duration', '0.3', '--warmup', '0', '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      assert.equal(JSON.parse(bench).levels[0].errors, 0, bench);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    assert.doesNotMatch(out, /"level":(50|60)/, out);
    assert.match(out, /MALLOC_MMAP_THRESHOLD_ is not set: with glibc, memory a reloaded model frees may stay with this process/, 'started without bin/ferry: it says so');
  });

  it('bin/ferry (the package\'s bin) runs node on the bundle with the mmap threshold fixed, unless already set', async () => {
    for (const [env, expected] of [[{}, '1048576'], [{ MALLOC_MMAP_THRESHOLD_: '4194304' }, '4194304']] as const) {
      const child = spawn(join(ROOT, 'bin', 'ferry'), ['serve', EXAMPLES, '--host', '127.0.0.1', '--http-port', '0', '--grpc-port', '0', '--management-port', '0'], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...withoutThreshold(process.env), ...env },
      });
      let out = '';
      child.stdout.on('data', (c) => (out += c));
      child.stderr.on('data', (c) => (out += c));
      try {
        const deadline = Date.now() + 30_000;
        while (!/server is ready/.test(out)) {
          if (child.exitCode !== null || Date.now() > deadline) throw new Error(`bin/ferry serve did not start:\n${out}`);
          await new Promise((r) => setTimeout(r, 50));
        }
        // exec: the shell is replaced by node, whose environment holds the threshold
        assert.match(readFileSync(`/proc/${child.pid}/cmdline`, 'latin1'), /dist\/cli\/main\.js/);
        assert.match(readFileSync(`/proc/${child.pid}/environ`, 'latin1'), new RegExp(`(^|\\0)MALLOC_MMAP_THRESHOLD_=${expected}\\0`));
        assert.doesNotMatch(out, /MALLOC_MMAP_THRESHOLD_ is not set/);
      } finally {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
    }
  });
});

function withoutThreshold(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { MALLOC_MMAP_THRESHOLD_: _, ...rest } = env;
  return rest;
}
