#!/usr/bin/env node
/**
 * Rolling out new versions under load (issue 12's targets). For each placement of the swapped model (main: the MLP
 * on the main thread; thread and process: the image CNN with `execution: thread|process`), with ferry polling the
 * repository:
 *   1. baseline: wrk on the swapped model (16 connections) and on a second model (breast_cancer, 4 connections) for
 *      --baseline seconds, no swaps: the second model's p99 without swaps;
 *   2. swaps: the same load while a new version is copied into the repository and the old one deleted a moment later
 *      (--deploy copy: `cp -r` then `rm -r` after 100 ms, the case a deploy script makes; rename: copied to a hidden
 *      folder first and renamed into place), --swaps times, each once the previous one answers.
 * Reports per placement: failed requests (non-2xx and socket errors, from wrk), the version answering at the end,
 * the second model's p99 during the swaps against the baseline, and per swap the time from the folder appearing
 * to the first answer from it, with ferry's own load time (log) beside it.
 *
 *   node bench/hot-swap.mjs [--placements main,thread,process] [--swaps 10] [--poll 1] [--deploy copy|rename]
 *                           [--baseline 10] [--connections 16] [--out bench/results/hot-swap-<date>.json]
 * Needs a built ferry (npm run build) and wrk.
 */
import { cpSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startWrk } from './lib/load.mjs';
import { Proc, freePort, killAllNow, machineInfo, memoryMb, pollUntil, request, sleep, stopAll } from './lib/procs.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const EXAMPLES = join(root, 'examples', 'models');
const { values: o } = parseArgs({
  options: {
    placements: { type: 'string', default: 'main,thread,process' },
    swaps: { type: 'string', default: '10' },
    poll: { type: 'string', default: '1' },
    deploy: { type: 'string', default: 'copy' },
    baseline: { type: 'string', default: '10' },
    connections: { type: 'string', default: '16' },
    out: { type: 'string' },
  },
});
const SWAPS = Number(o.swaps);
const work = mkdtempSync(join(tmpdir(), 'ferry-hot-swap-'));
process.on('SIGINT', () => {
  killAllNow();
  process.exit(130);
});

/** The swapped model per placement: which example, its config, and a request body file. */
const PLACEMENTS = {
  main: { example: 'mlp', config: 'execution: main\n', body: jsonBody('input', [1, 30]) },
  thread: { example: 'image_cnn', config: 'execution: thread\n', body: binaryBody('image', [1, 3, 128, 128]) },
  process: { example: 'image_cnn', config: 'execution: process\n', body: binaryBody('image', [1, 3, 128, 128]) },
};

function jsonBody(name, shape) {
  const n = shape.reduce((a, b) => a * b, 1);
  const file = join(work, `${name}-${shape.join('x')}.json`);
  writeFileSync(file, JSON.stringify({ inputs: [{ name, datatype: 'FP32', shape, data: Array.from({ length: n }, (_, i) => (i % 17) / 17) }] }));
  return { file };
}

function binaryBody(name, shape) {
  const n = shape.reduce((a, b) => a * b, 1);
  const header = Buffer.from(JSON.stringify({ inputs: [{ name, datatype: 'FP32', shape, parameters: { binary_data_size: n * 4 } }] }));
  const data = new Float32Array(n).map((_, i) => (i % 255) / 255);
  const file = join(work, `${name}-${shape.join('x')}.bin`);
  writeFileSync(file, Buffer.concat([header, Buffer.from(data.buffer)]));
  return { file, headerLength: header.length, contentType: 'application/octet-stream' };
}

async function versionAnswering(url, body) {
  const { readFileSync } = await import('node:fs');
  const headers = { 'content-type': body.contentType ?? 'application/json', ...(body.headerLength ? { 'inference-header-content-length': String(body.headerLength) } : {}) };
  const reply = await request(url, { method: 'POST', body: readFileSync(body.file), headers });
  if (reply.status !== 200) return undefined;
  return JSON.parse(reply.body.toString('utf8')).model_version;
}

/** Copies version `v` of the swapped model in, then deletes `v - 1`, as a deploy script would. */
async function deploy(repo, example, v) {
  const target = join(repo, 'swap', String(v));
  if (o.deploy === 'rename') {
    const staging = join(repo, 'swap', `.incoming-${v}`);
    cpSync(join(EXAMPLES, example, '1'), staging, { recursive: true });
    // As a deploy script's separate `mv` comes: after the copy's last write by more than the file system's clock tick
    // (about 4 ms here), which is what lets ferry tell a renamed folder from one being written (version-files.ts).
    await sleep(10);
    renameSync(staging, target);
  } else {
    cpSync(join(EXAMPLES, example, '1'), target, { recursive: true });
  }
  setTimeout(() => rmSync(join(repo, 'swap', String(v - 1)), { recursive: true, force: true }), 100);
}

async function runPlacement(placement) {
  const spec = PLACEMENTS[placement];
  const repo = join(work, `repo-${placement}`);
  mkdirSync(join(repo, 'swap'), { recursive: true });
  cpSync(join(EXAMPLES, spec.example, '1'), join(repo, 'swap', '1'), { recursive: true });
  writeFileSync(join(repo, 'swap', 'config.yaml'), spec.config);
  cpSync(join(EXAMPLES, 'breast_cancer', '1'), join(repo, 'tabular', '1'), { recursive: true });
  writeFileSync(join(repo, 'tabular', 'config.yaml'), 'execution: main\n');
  const port = await freePort();
  const args = ['serve', repo, '--host', '127.0.0.1', '--http-port', String(port), '--grpc-port', String(await freePort()), '--management-port', '0', '--repository-poll-secs', o.poll, '--log-level', 'info'];
  const ferry = new Proc('ferry', join(root, 'bin/ferry'), args);
  ferry.child.stdin.end();
  await ferry.waitForOutput(/server is ready/, 60_000);
  const base = `http://127.0.0.1:${port}`;
  const swapUrl = `${base}/v2/models/swap/infer`;
  const tabularUrl = `${base}/v2/models/tabular/infer`;
  const tabularBody = jsonBody('float_input', [1, 30]);
  const rssStart = memoryMb(ferry.pid).rssMb;
  const connections = Number(o.connections);
  const load = (durationS) => ({
    swap: startWrk({ url: swapUrl, body: spec.body, connections, durationS }),
    tabular: startWrk({ url: tabularUrl, body: tabularBody, connections: 4, durationS }),
  });

  process.stderr.write(`${placement}: baseline ${o.baseline} s\n`);
  const before = load(Number(o.baseline));
  const baseline = { swap: await before.swap.result, tabular: await before.tabular.result };

  process.stderr.write(`${placement}: ${SWAPS} swaps under load\n`);
  const during = load(600);
  const swaps = [];
  for (let v = 2; v <= SWAPS + 1; v++) {
    const t0 = performance.now() + (o.deploy === 'rename' ? 10 : 0); // the folder appears at the rename
    await deploy(repo, spec.example, v);
    await pollUntil(async () => (await versionAnswering(swapUrl, spec.body)) === String(v), { timeoutMs: 120_000, intervalMs: 20, proc: ferry, what: `version ${v}` });
    const appearedToServedMs = performance.now() - t0;
    const ready = new RegExp(`"version":${v},"ms":(\\d+),"msg":"model 'swap' version ${v} is ready"`).exec(ferry.output);
    swaps.push({ version: v, appearedToServedMs: Math.round(appearedToServedMs), loadMs: ready ? Number(ready[1]) : null });
    await sleep(300);
  }
  await sleep(2000); // the last old version drains and goes; the load continues over it
  during.swap.proc.child.kill('SIGINT');
  during.tabular.proc.child.kill('SIGINT');
  const swapping = { swap: await during.swap.result, tabular: await during.tabular.result };
  const endVersion = await versionAnswering(swapUrl, spec.body);
  const index = JSON.parse((await request(`${base}/v2/repository/index`)).body.toString('utf8'));
  const rssEnd = memoryMb(ferry.pid).rssMb;
  await ferry.stop();
  const result = {
    placement,
    model: spec.example,
    swaps,
    failedRequests: swapping.swap.errors + swapping.tabular.errors,
    failureDetail: [swapping.swap.errorDetail, swapping.tabular.errorDetail].filter(Boolean).join('; '),
    requests: { swap: swapping.swap.requests, tabular: swapping.tabular.requests },
    endVersion,
    indexAtEnd: index,
    tabularP99: { baseline: baseline.tabular.p99, swapping: swapping.tabular.p99, ratio: swapping.tabular.p99 / baseline.tabular.p99 },
    swapP99: { baseline: baseline.swap.p99, swapping: swapping.swap.p99 },
    rssMb: { start: Math.round(rssStart), end: Math.round(rssEnd) },
    commands: { ferry: `bin/ferry ${args.join(' ')}`, swapLoad: swapping.swap.command, tabularLoad: swapping.tabular.command },
  };
  printResult(result);
  return result;
}

function printResult(r) {
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const e2e = r.swaps.map((s) => s.appearedToServedMs);
  const loads = r.swaps.map((s) => s.loadMs).filter((x) => x !== null);
  process.stdout.write(
    `| ${r.placement} (${r.model}) | ${r.swaps.length} | ${r.requests.swap + r.requests.tabular} | **${r.failedRequests}** | ${r.endVersion} | ` +
      `${r.tabularP99.baseline.toFixed(2)} / ${r.tabularP99.swapping.toFixed(2)} ms (**${r.tabularP99.ratio.toFixed(2)}x**) | ` +
      `${median(e2e)} (max ${Math.max(...e2e)}) ms | ${median(loads)} (max ${Math.max(...loads)}) ms | ${r.rssMb.start} -> ${r.rssMb.end} MB |\n`,
  );
}

const m = machineInfo();
process.stdout.write(`hot swap: ${SWAPS} swaps, poll ${o.poll} s, deploy ${o.deploy}, ${o.connections} connections on the swapped model, 4 on breast_cancer; ${m.cpuModel}, ${m.cpus} CPUs, Node ${process.version}\n\n`);
process.stdout.write('| placement (model) | swaps | requests | failed | version at end | breast_cancer p99 without / with swaps | folder appeared -> first answer, median | ferry load + warm-up, median | RSS |\n|---|---|---|---|---|---|---|---|---|\n');
const results = [];
try {
  for (const p of o.placements.split(',')) results.push(await runPlacement(p));
} finally {
  await stopAll();
  rmSync(work, { recursive: true, force: true });
}
const out = o.out ?? join(root, 'bench', 'results', `hot-swap-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}.json`);
writeFileSync(out, `${JSON.stringify({ machine: m, node: process.version, options: o, results }, null, 1)}\n`);
process.stdout.write(`\nraw results: ${out.replace(root + '/', '')}\n`);
