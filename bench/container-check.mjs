#!/usr/bin/env node
/**
 * The prediction image, checked end to end (issue 16): builds it (deploy/build-images.sh; LOCAL_BASE=1 where no
 * registry is reachable), then
 *   1. its size (at most 300 MB);
 *   2. `run -v examples/models:/models ferry:latest serve /models`: time to ready against `ferry serve` outside a
 *      container (at most 2x), and breast_cancer's answers against its reference outputs (scikit-learn's);
 *   3. a bare `serve` (SageMaker's start) with a model in /opt/ml/model: /ping and CSV /invocations;
 *   4. SIGTERM while requests are in flight: every request the server took is answered, it exits 0 within the
 *      drain time;
 *   5. the example app's image (when built) answering from ferry, and its fallback once ferry is stopped;
 *   and, after 2, the training image (when built) writing a model into the repository the container serves.
 *   node bench/container-check.mjs [--no-build]        (ENGINE=docker to use docker; podman otherwise)
 * Prints a summary and exits 1 when a check fails.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ENGINE = process.env.ENGINE ?? (commandExists('podman') ? 'podman' : 'docker');
const RUN = ENGINE === 'podman' ? ['--runtime', 'runc', 'run', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', '--network', 'host'] : ['run', '--network', 'host'];
const IMAGE = 'ferry:latest';
const failures = [];
const lines = [];
const report = (ok, what) => {
  lines.push(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
  process.stderr.write(`container-check: ${ok ? 'ok' : 'FAIL'}: ${what}\n`);
};

function commandExists(cmd) {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const engine = (args, options = {}) => execFileSync(ENGINE, args, { encoding: 'utf8', ...options }).trim();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitReady(url, deadlineMs = 60_000) {
  const start = performance.now();
  for (;;) {
    try {
      if ((await fetch(url)).ok) return performance.now() - start;
    } catch {}
    if (performance.now() - start > deadlineMs) throw new Error(`${url} not ready after ${deadlineMs} ms`);
    await sleep(10);
  }
}

/** Starts a container (detached) and returns its id and the ms from `run` to ready. */
async function runContainer(name, args, readyUrl) {
  try { engine(['rm', '-f', name], { stdio: 'ignore' }); } catch {}
  const started = performance.now();
  engine([...RUN, '-d', '--name', name, ...args]);
  await waitReady(readyUrl);
  return performance.now() - started;
}

const reference = JSON.parse(readFileSync(join(ROOT, 'examples/models/breast_cancer/reference.json'), 'utf8'));
const refCase = reference.cases[0];

function checkAnswer(body, what) {
  const labels = body.outputs.find((o) => o.name === 'output_label').data;
  const probabilities = body.outputs.find((o) => o.name === 'output_probability').data;
  const want = refCase.outputs;
  const okLabels = JSON.stringify(labels) === JSON.stringify(want[0].data);
  const { rtol, atol } = reference.tolerance;
  const okProb = probabilities.every((p, i) => Math.abs(p - want[1].data[i]) <= atol + rtol * Math.abs(want[1].data[i]));
  report(okLabels && okProb, `${what}: breast_cancer answers match the reference outputs (labels ${JSON.stringify(labels)})`);
}

if (!process.argv.includes('--no-build')) {
  execFileSync(join(ROOT, 'deploy/build-images.sh'), { stdio: 'inherit', env: { ...process.env, ENGINE, LOCAL_BASE: process.env.LOCAL_BASE ?? '1', IMAGES: process.env.IMAGES ?? 'ferry training app' } });
}

// 1. Size.
const bytes = Number(engine(['image', 'inspect', IMAGE, '--format', '{{.Size}}']));
report(bytes <= 300 * 1e6, `image size ${(bytes / 1e6).toFixed(1)} MB (at most 300 MB; Triton's CPU+GPU image is about 15 GB)`);

const repo = mkdtempSync(join(tmpdir(), 'ferry-image-repo-'));
cpSync(join(ROOT, 'examples/models'), repo, { recursive: true });
chmodSync(repo, 0o755); // mkdtemp makes it 0700: the container's uid 1000 must read it
const port = 18400 + Math.floor(Math.random() * 500);
const base = `http://127.0.0.1:${port}`;
const portArgs = ['--http-port', String(port), '--grpc-port', String(port + 1), '--management-port', String(port + 2)];

try {
  // 2. Outside a container first (the same build), then the image, the same repository and ports.
  const outside = [];
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    const child = spawn(join(ROOT, 'bin/ferry'), ['serve', repo, '--host', '127.0.0.1', ...portArgs, '--log-level', 'warn'], { stdio: 'ignore' });
    outside.push(await waitReady(`${base}/v2/health/ready`));
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
  const inside = [];
  for (let i = 0; i < 3; i++) {
    inside.push(await runContainer('ferry-check', ['-v', `${repo}:/models:ro`, IMAGE, 'serve', '/models', ...portArgs, '--log-level', 'warn'], `${base}/v2/health/ready`));
    if (i < 2) engine(['rm', '-f', 'ferry-check']);
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[1];
  report(median(inside) <= 2 * median(outside), `run to ready: ${median(inside).toFixed(0)} ms in the container against ${median(outside).toFixed(0)} ms outside (medians of 3; at most 2x)`);
  const answer = await (await fetch(`${base}/v2/models/breast_cancer/infer`, { method: 'POST', body: JSON.stringify({ inputs: refCase.inputs }) })).json();
  checkAnswer(answer, 'in the container');
  const user = engine(['exec', 'ferry-check', 'node', '-e', 'process.stdout.write(String(process.getuid()))']);
  report(user === '1000', `runs as uid ${user} (not root)`);

  // 2b. The training image writes a new model into the repository the container polls: served without a restart.
  if (engine(['images', '-q', 'ferry-training:latest'])) {
    chmodSync(repo, 0o777); // the job runs as uid 1000 and writes into it
    engine([...RUN, '--rm', '-v', `${repo}:/models`, 'ferry-training:latest', '--model', 'trained']);
    const ready = await waitReady(`${base}/v2/models/trained/ready`, 30_000).then(() => true, () => false);
    const trained = ready ? await (await fetch(`${base}/v2/models/trained/infer`, { method: 'POST', body: JSON.stringify({ inputs: refCase.inputs }) })).json() : undefined;
    const labels = trained?.outputs?.find((o) => o.name === 'output_label')?.data;
    report(JSON.stringify(labels) === JSON.stringify(refCase.outputs[0].data), `the training image's model, written into the served repository, answers without a restart (labels ${JSON.stringify(labels)})`);
  }

  // 4. SIGTERM with requests in flight: every one the server took is answered.
  let answered = 0;
  let failedMidway = 0;
  let stop = false;
  const body = JSON.stringify({ inputs: refCase.inputs });
  const loop = async () => {
    while (!stop) {
      let res;
      try {
        res = await fetch(`${base}/v2/models/breast_cancer/infer`, { method: 'POST', body });
      } catch (e) {
        // Refused once the port has closed: never taken, so never lost. Anything else is a request dropped.
        if (String(e?.cause?.code) !== 'ECONNREFUSED') failedMidway++;
        return;
      }
      if (res.status === 200) answered++;
      else if (res.status !== 503) failedMidway++;
      await res.arrayBuffer();
    }
  };
  const clients = Array.from({ length: 32 }, loop);
  await sleep(1000);
  const stopStarted = performance.now();
  engine(['kill', '--signal', 'TERM', 'ferry-check']);
  const exitCode = Number(engine(['wait', 'ferry-check']));
  const stopMs = performance.now() - stopStarted;
  stop = true;
  await Promise.all(clients);
  report(failedMidway === 0 && answered > 0 && exitCode === 0, `SIGTERM under load (32 clients): ${answered} answered, ${failedMidway} dropped; exit ${exitCode} after ${stopMs.toFixed(0)} ms`);
  engine(['rm', '-f', 'ferry-check']);

  // 3. SageMaker: a bare `serve`, the model in /opt/ml/model, port 8080 unless SAGEMAKER_BIND_TO_PORT says.
  const sm = mkdtempSync(join(tmpdir(), 'ferry-opt-ml-'));
  chmodSync(sm, 0o755);
  cpSync(join(ROOT, 'examples/models/breast_cancer/1/model.onnx'), join(sm, 'model.onnx'));
  await runContainer('ferry-sagemaker', ['-e', `SAGEMAKER_BIND_TO_PORT=${port}`, '-e', `FERRY_GRPC_PORT=${port + 1}`, '-e', `FERRY_MANAGEMENT_PORT=${port + 2}`, '-v', `${sm}:/opt/ml/model:ro`, IMAGE, 'serve'], `${base}/ping`);
  const rows = Array.from({ length: refCase.inputs[0].shape[0] }, (_, r) => refCase.inputs[0].data.slice(r * 30, (r + 1) * 30).join(',')).join('\n');
  const csv = await (await fetch(`${base}/invocations`, { method: 'POST', body: rows, headers: { 'content-type': 'text/csv' } })).text();
  const labels = csv.trim().split('\n').map((l) => Number(l.split(',')[0]));
  report(JSON.stringify(labels) === JSON.stringify(refCase.outputs[0].data), `SageMaker bare serve: /ping 200, /invocations CSV labels ${JSON.stringify(labels)}`);
  // 5. The example app's image, calling ferry (the SageMaker container still serves breast_cancer as "model").
  const appPort = port + 3;
  const appImage = engine(['images', '-q', 'ferry-app:latest']);
  if (appImage) {
    await runContainer('ferry-app-check', ['-e', `PORT=${appPort}`, '-e', `FERRY_URL=${base}`, '-e', 'FERRY_MODEL=model', 'ferry-app:latest'], `http://127.0.0.1:${appPort}/healthz`);
    const features = refCase.inputs[0].data.slice(0, 30);
    const ask = async () => (await fetch(`http://127.0.0.1:${appPort}/predict`, { method: 'POST', body: JSON.stringify({ features }) })).json();
    const up = await ask();
    engine(['rm', '-f', 'ferry-sagemaker']);
    const down = await ask();
    report(up.available === true && up.label === 'malignant' && down.available === false, `the app's image: '${up.label}' from ferry, then its fallback with ferry stopped ('${String(down.message).slice(0, 50)}...')`);
    engine(['rm', '-f', 'ferry-app-check']);
  }
  engine(['rm', '-f', 'ferry-sagemaker']);
  rmSync(sm, { recursive: true, force: true });
} catch (e) {
  report(false, `the check stopped: ${e.message}`);
} finally {
  for (const name of ['ferry-check', 'ferry-sagemaker', 'ferry-app-check']) try { engine(['rm', '-f', name], { stdio: 'ignore' }); } catch {}
  rmSync(repo, { recursive: true, force: true });
}
process.stdout.write(`${lines.join('\n')}\n`);
process.exit(failures.length ? 1 : 0);
