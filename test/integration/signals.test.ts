/**
 * Signals on a real `ferry serve` process, started the documented ways: SIGTERM and SIGINT stop it gracefully (exit
 * 0) under bin/ferry, `npm start` and `npx ferry` (npm's shell does not pass a SIGTERM on, so ferry watches for it
 * going); SIGHUP reads the repository again, per model control mode, and never ends the server.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, renameSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { EXAMPLES, postJson, request } from '../helpers/server.js';
import { TempRepository } from '../helpers/repository.js';
import { asRequestInputs, referenceModels } from '../helpers/reference.js';
import { until } from '../helpers/wait.js';
import { ROOT, startServed } from '../helpers/served-process.js';

const mlp = { inputs: asRequestInputs(referenceModels().find((r) => r.model === 'mlp')!.cases[0]!.inputs) };
const PORTS = ['--host', '127.0.0.1', '--http-port', '0', '--grpc-port', '0', '--management-port', '0'];

const start = startServed;

/** The pid of the ferry server (node running dist/cli/main.js) among `pid` and its descendants. */
function serverPid(pid: number): number | undefined {
  const cmd = (p: number) => {
    try {
      return execFileSync('ps', ['-o', 'args=', '-p', String(p)], { encoding: 'utf8' });
    } catch {
      return '';
    }
  };
  const queue = [pid];
  while (queue.length) {
    const p = queue.shift()!;
    if (/dist\/cli\/main\.js serve/.test(cmd(p))) return p;
    const kids = (() => {
      try {
        return execFileSync('ps', ['-o', 'pid=', '--ppid', String(p)], { encoding: 'utf8' }).split('\n').map(Number).filter((n) => n > 0);
      } catch {
        return [];
      }
    })();
    queue.push(...kids);
  }
  return undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('signals', () => {
  before(() => {
    execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
  });

  it('SIGTERM through npm start, and through npx ferry, stops the server gracefully', async () => {
    for (const [what, cmd, args] of [
      ['npm start', 'npm', ['run', 'start', '--ignore-scripts', '--', ...PORTS]],
      ['npx ferry', 'npx', ['ferry', 'serve', EXAMPLES, ...PORTS]],
    ] as const) {
      const s = await start(cmd, [...args]);
      const server = serverPid(s.child.pid!);
      assert.ok(server, `${what}: a ferry server process`);
      s.child.kill('SIGTERM'); // to npm, as a process manager would
      await until(`${what}: the server to stop`, () => !alive(server), 15_000);
      assert.match(s.out(), /stopping: no new connections/, `${what}: a graceful stop`);
      assert.match(s.out(), /"msg":"stopped"/);
    }
  });

  it('SIGHUP re-reads the repository (poll mode: a poll now) and does not stop the server; SIGINT then stops it', async () => {
    const repo = new TempRepository().copyModel('mlp', 'm', 1);
    const s = await start(join(ROOT, 'bin', 'ferry'), ['serve', repo.root, ...PORTS, '--repository-poll-secs', '3600']);
    try {
      const staging = join(repo.root, 'm', '.incoming');
      mkdirSync(staging);
      cpSync(join(EXAMPLES, 'mlp', '1', 'model.onnx'), join(staging, 'model.onnx'));
      await new Promise((r) => setTimeout(r, 20));
      renameSync(staging, join(repo.root, 'm', '2'));
      s.child.kill('SIGHUP');
      await until('version 2 to serve after SIGHUP', async () => (await postJson(`${s.url()}/v2/models/m/infer`, mlp)).body?.model_version === '2');
      assert.match(s.out(), /SIGHUP: the repository was polled now/);
      s.child.kill('SIGINT');
      const [code] = await once(s.child, 'exit');
      assert.equal(code, 0, s.out());
    } finally {
      s.child.kill('SIGKILL');
      repo.remove();
    }
  });

  it('SIGHUP in explicit mode loads the loaded models again; in mode none it is ignored; neither stops the server', async () => {
    const repo = new TempRepository().copyModel('mlp', 'm', 1).copyModel('mlp', 'other', 1);
    const explicit = await start(join(ROOT, 'bin', 'ferry'), ['serve', repo.root, ...PORTS, '--model-control-mode', 'explicit', '--load-model', 'm']);
    try {
      repo.copyModel('mlp', 'm', 2);
      explicit.child.kill('SIGHUP');
      await until('version 2 after SIGHUP', async () => (await postJson(`${explicit.url()}/v2/models/m/infer`, mlp)).body?.model_version === '2');
      assert.equal((await request(`${explicit.url()}/v2/models/other`)).status, 404, 'a model not loaded stays so');
    } finally {
      explicit.child.kill('SIGTERM');
      await once(explicit.child, 'exit');
    }
    const none = await start(join(ROOT, 'bin', 'ferry'), ['serve', repo.root, ...PORTS, '--model-control-mode', 'none']);
    try {
      none.child.kill('SIGHUP');
      await until('the SIGHUP line', () => /model control mode none: the repository is not read again/.test(none.out()));
      assert.equal((await request(`${none.url()}/v2/health/ready`)).status, 200, 'still serving');
    } finally {
      none.child.kill('SIGTERM');
      const [code] = await once(none.child, 'exit');
      assert.equal(code, 0);
      repo.remove();
    }
  });
});
