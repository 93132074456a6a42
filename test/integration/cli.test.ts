/**
 * The `ferry serve` command as a user runs it: FERRY_* environment variables, the port in its log, and a graceful
 * stop on SIGTERM/SIGINT that answers the request in flight and exits 0.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import { execFileSync } from 'node:child_process';
import { EXAMPLES, postJson, request } from '../helpers/server.js';
import { asRequestInputs, referenceModels } from '../helpers/reference.js';
import { TempRepository } from '../helpers/repository.js';
import { until } from '../helpers/wait.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const body = JSON.stringify({ inputs: asRequestInputs(referenceModels().find((r) => r.model === 'mlp')!.cases[0]!.inputs) });

interface Cli {
  readonly child: ChildProcess;
  readonly url: string;
  readonly output: () => string;
}

/** Starts `ferry serve` and waits for `readyLines` "server is ready" log lines (one per server process). */
async function startCli(args: string[], env: Record<string, string>, readyLines = 1): Promise<Cli> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', ...args], {
    env: { ...process.env, FERRY_MANAGEMENT_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (out += c));
  const deadline = Date.now() + 30_000;
  while ((out.match(/server is ready/g) ?? []).length < readyLines) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`ferry serve did not become ready:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const port = /"port":(\d+)/.exec(out)?.[1];
  return { child, url: `http://127.0.0.1:${port}`, output: () => out };
}

describe('ferry serve (the command)', () => {
  it('takes its settings from FERRY_* variables and stops gracefully on SIGTERM, answering the request in flight', async () => {
    const cli = await startCli([], { FERRY_MODEL_REPOSITORY: EXAMPLES, FERRY_HOST: '127.0.0.1', FERRY_HTTP_PORT: '0', FERRY_GRPC_PORT: '0', FERRY_MAX_BODY_SIZE: '1mb' });
    assert.match(cli.output(), /HTTP \(V2 REST\) listening on 127\.0\.0\.1:\d+/);
    assert.equal((await postJson(`${cli.url}/v2/models/mlp/infer`, body)).status, 200);

    // A request whose body is still arriving when SIGTERM comes.
    const inFlight = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = httpRequest(`${cli.url}/v2/models/mlp/infer`, { method: 'POST', headers: { 'content-length': Buffer.byteLength(body) } }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      req.write(body.slice(0, 100));
      setTimeout(() => {
        cli.child.kill('SIGTERM');
        setTimeout(() => req.end(body.slice(100)), 300);
      }, 100);
    });
    const answered = await inFlight;
    assert.equal(answered.status, 200, answered.text);
    const [code] = await once(cli.child, 'exit');
    assert.equal(code, 0, cli.output());
    assert.match(cli.output(), /SIGTERM received/);
    assert.match(cli.output(), /"msg":"stopped"/);
    await assert.rejects(request(`${cli.url}/v2/health/live`), 'the port is closed after the stop');
  });

  it('flags win over the environment, and SIGINT stops it too', async () => {
    const cli = await startCli([EXAMPLES, '--host', '127.0.0.1', '--http-port', '0', '--grpc-port', '0', '--max-body-size', '1kb'], { FERRY_MAX_BODY_SIZE: '10mb' });
    const reply = await postJson(`${cli.url}/v2/models/mlp/infer`, body);
    assert.equal(reply.status, 413);
    assert.match(reply.body.error, /limit of 1024 bytes/);
    cli.child.kill('SIGINT');
    const [code] = await once(cli.child, 'exit');
    assert.equal(code, 0);
  });

  it('--processes 2 runs two server processes on the same ports, aggregates their metrics, and stops them all', async () => {
    const cli = await startCli([EXAMPLES, '--host', '127.0.0.1', '--http-port', '0', '--grpc-port', '0', '--processes', '2'], {}, 2);
    assert.match(cli.output(), /started 2 server processes/);
    const ports = [...cli.output().matchAll(/HTTP \(V2 REST\) listening on 127\.0\.0\.1:(\d+)/g)].map((m) => m[1]);
    assert.equal(ports.length, 2);
    assert.equal(ports[0], ports[1], 'both processes share one port');
    for (let i = 0; i < 6; i++) {
      const reply = await postJson(`${cli.url}/v2/models/mlp/infer`, body);
      assert.equal(reply.status, 200, reply.text);
    }
    const metrics = await (await fetch(`${cli.url}/metrics`)).text();
    assert.match(metrics, /ferry_requests_total\{model="mlp",version="1",outcome="success"\} 6/);
    cli.child.kill('SIGTERM');
    const [code] = await once(cli.child, 'exit');
    assert.equal(code, 0, cli.output());
    assert.match(cli.output(), /all server processes stopped/);
  });

  it('--processes 2 serves a split with an outcome, and says clearly that its experiment needs one process', async () => {
    const repo = new TempRepository().copyModel('mlp', 'm', 1).copyModel('mlp', 'm', 2)
      .write('m/config.yaml', 'version_policy: {all: {}}\ntraffic:\n  variants: [{version: 1, weight: 1}, {version: 2, weight: 1}]\n  outcome: {type: classification}\n');
    const cli = await startCli([repo.root, '--host', '127.0.0.1', '--http-port', '0', '--grpc-port', '0', '--processes', '2'], {}, 2);
    try {
      const reply = await postJson(`${cli.url}/v2/models/m/infer`, body);
      assert.equal(reply.status, 200, 'the split still routes');
      assert.match(reply.headers.get('x-ferry-variant') ?? '', /^v[12]$/);
      const feedback = await postJson(`${cli.url}/v2/models/m/feedback`, { id: 'x', truth: 1 });
      assert.equal(feedback.status, 409);
      assert.match(feedback.body.error, /experiments need one server process \(--processes 1\)/);
    } finally {
      cli.child.kill('SIGTERM');
      await once(cli.child, 'exit');
      repo.remove();
    }
  });

  it('--processes 2: the primary serves the management port and carries each unload and load out in every process, replacing ones included', async () => {
    const repo = new TempRepository().copyModel('mlp', 'mlp', 1).copyModel('mlp', 'other', 1);
    const cli = await startCli([repo.root, '--host', '127.0.0.1', '--http-port', '0', '--grpc-port', '0', '--processes', '2'], {}, 2);
    const statuses = async (n = 8): Promise<number[]> => Promise.all(Array.from({ length: n }, async () => (await postJson(`${cli.url}/v2/models/mlp/infer`, body)).status));
    try {
      const port = /management \(model load and unload, for every server process\) listening on 127\.0\.0\.1:(\d+)/.exec(cli.output())?.[1];
      assert.ok(port, cli.output());
      const mgmt = `http://127.0.0.1:${port}`;
      const publicRefusal = await request(`${cli.url}/v2/repository/models/mlp/unload`, { method: 'POST' });
      assert.equal(publicRefusal.status, 403);
      assert.match(publicRefusal.body.error, new RegExp(`management port \\(127\\.0\\.0\\.1:${port}\\)`));
      const unload = await request(`${mgmt}/v2/repository/models/mlp/unload`, { method: 'POST' });
      assert.equal(unload.status, 200, unload.text);
      assert.deepEqual(await statuses(), Array(8).fill(404), 'unloaded in both processes');
      // A server process dies; its replacement catches up on the unload once it has loaded.
      const workers = execFileSync('pgrep', ['-P', String(cli.child.pid)], { encoding: 'utf8' }).trim().split('\n').map(Number);
      process.kill(workers[0]!, 'SIGKILL');
      await until('a replacement process', () => (cli.output().match(/server is ready/g) ?? []).length >= 3, 30_000).catch((e) => { console.error(cli.output()); throw e; });
      await until('the replacement to have replayed the unload', async () => (await statuses(12)).every((s) => s === 404), 10_000);
      const load = await request(`${mgmt}/v2/repository/models/mlp/load`, { method: 'POST' });
      assert.equal(load.status, 200, load.text);
      assert.deepEqual(await statuses(), Array(8).fill(200), 'loaded in both processes');
    } finally {
      cli.child.kill('SIGTERM');
      await once(cli.child, 'exit');
      repo.remove();
    }
  });

  it('refuses a repository with no model in it (exit 2), saying what it found, unless --allow-empty-repository', async () => {
    const run = async (args: string[]): Promise<{ code: number | null; err: string }> => {
      const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', ...args, '--http-port', '0', '--grpc-port', '0', '--management-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      child.stderr!.on('data', (c) => (err += c));
      const [code] = await once(child, 'exit');
      return { code: code as number | null, err };
    };
    const empty = new TempRepository();
    try {
      let r = await run([empty.root]);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, /ferry serve: .* holds no model folders \(it is empty\); a repository holds one folder per model, each with numbered version folders: REPOSITORY\/NAME\/1\/model\.onnx\. To start with no model and wait for some \(a volume filled later\), add --allow-empty-repository/);
      r = await run([`${EXAMPLES}/mlp/1`]);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, /holds model\.onnx but no model folders: it looks like a version folder\. Give the repository two levels up, or the file itself/);
      r = await run([`${EXAMPLES}/mlp`]);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, /looks like one model's folder: its sub-folders 1 are versions with the model file in them\. Give the repository, its parent folder/);

      const cli = await startCli([empty.root, '--host', '127.0.0.1', '--http-port', '0', '--grpc-port', '0', '--allow-empty-repository', '--repository-poll-secs', '0.1'], {});
      try {
        assert.match(cli.output(), /no model is loaded yet: waiting for model folders in/);
        assert.equal((await request(`${cli.url}/v2/health/ready`)).status, 200, 'nothing asked for: ready');
        empty.copyModel('mlp', 'mlp');
        await until('the model copied in to serve', async () => (await postJson(`${cli.url}/v2/models/mlp/infer`, body)).status === 200);
      } finally {
        cli.child.kill('SIGTERM');
        await once(cli.child, 'exit');
      }
    } finally {
      empty.remove();
    }
  });

  it('writes JSON lines when not on a terminal, and readable lines with --log-format pretty', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', EXAMPLES, '--host', '127.0.0.1', '--http-port', '0', '--grpc-port', '0', '--management-port', '0', '--log-format', 'pretty'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (c) => (out += c));
    try {
      await until('server is ready', () => /server is ready/.test(out), 30_000);
      assert.match(out, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: HTTP \(V2 REST\) listening on 127\.0\.0\.1:\d+$/m);
      assert.doesNotMatch(out, /"level":/, 'no JSON');
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    const json = await startCli([EXAMPLES, '--host', '127.0.0.1', '--http-port', '0', '--grpc-port', '0'], {});
    try {
      assert.match(json.output(), /^\{"level":30,"time":\d+,"service":"ferry",.*"msg":"HTTP \(V2 REST\) listening/m, 'auto, on a pipe: JSON lines');
    } finally {
      json.child.kill('SIGTERM');
      await once(json.child, 'exit');
    }
  });

  it('a provider that cannot start is one warning line in ferry\'s log, not onnxruntime\'s own red error', async () => {
    const repo = new TempRepository().copyModel('mlp', 'gpu').write('gpu/config.yaml', 'session: {execution_providers: [cuda, cpu]}\n');
    const cli = await startCli([repo.root, '--host', '127.0.0.1', '--http-port', '0', '--grpc-port', '0'], {});
    try {
      assert.match(cli.output(), /execution provider 'cuda' is not available here \(.*: it needs an NVIDIA GPU, CUDA 12 and cuDNN 9 libraries/);
      assert.doesNotMatch(cli.output(), /\[E:onnxruntime/);
      assert.equal((await postJson(`${cli.url}/v2/models/gpu/infer`, body)).status, 200, 'served on the CPU');
    } finally {
      cli.child.kill('SIGTERM');
      await once(cli.child, 'exit');
      repo.remove();
    }
  });

  it('refuses a bad flag with a clear message and a non-zero exit', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', EXAMPLES, '--http-port', 'eighty'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c) => (err += c));
    const [code] = await once(child, 'exit');
    assert.notEqual(code, 0);
    assert.match(err, /http port must be a whole number, got 'eighty'/);
  });

  it('refuses --allow-client-shm with several processes, saying why', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', EXAMPLES, '--allow-client-shm', '--processes', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c) => (err += c));
    const [code] = await once(child, 'exit');
    assert.notEqual(code, 0);
    assert.match(err, /--allow-client-shm needs --processes 1 \(each server process would hold its own regions/);
  });
});
