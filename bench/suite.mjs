#!/usr/bin/env node
/**
 * ferry's benchmark suite: ferry against (a) a node:http ceiling, (b) node:http + one onnxruntime-node session.run
 * per request and (c) Flask + scikit-learn/PyTorch under gunicorn, all in one invocation on one machine, each server
 * measured alone; plus gRPC, the image CNN's latency against a bare session.run, mixed load, cold start and memory.
 * Writes the tables as markdown (and the raw numbers as JSON) to bench/results/. Run it through bench/run.sh.
 *
 *   node bench/suite.mjs [all | SCENARIO ...] [--duration S] [--warmup S] [--rounds N] ...   (--help for all)
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { batchSizeDelta, scrapeBatchSizes, scrapeOutcomes, startFerryBench, startGrpcLoad, startH2load, startWrk } from './lib/load.mjs';
import { ForeignCpu, Proc, freePort, killAllNow, machineInfo, memoryMb, pollUntil, request, sleep, stopAll, threadCpu, threadJiffies } from './lib/procs.mjs';
import { LABELS, checkInfer, startServer } from './lib/servers.mjs';
// Every ferry started here (this build or --alt-ferry-dir's) binds a free management port, not 8082: an older build
// ignores the variable.
process.env.FERRY_MANAGEMENT_PORT ??= '0';

const ROOT = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const SCENARIOS = ['coldstart', 'tabular', 'grpc', 'mlp', 'cnn', 'cnn-latency', 'resnet-latency', 'mixed'];

const HELP = `Usage: bench/run.sh [all | ${SCENARIOS.join(' | ')} ...] [options]

Scenarios (default: all, in this order):
  coldstart    ferry serve -> ready vs the floor (node + onnxruntime-node + the example sessions); idle RSS
  tabular      breast_cancer, 1 row, JSON, wrk -c32: ferry vs (a), (b), (c); RSS after load
  grpc         breast_cancer over gRPC, 32 streams over 4 connections (ferry bench, bench/grpc-load.mjs on
               node:http2, and h2load) vs (a) and a grpc-js server answering a fixed response
  mlp          mlp, 1 row, JSON, wrk -c32: ferry vs (a), (b), (c)
  cnn          image_cnn 1x3x128x128, JSON and binary, wrk -c8: ferry vs (a), (b), (c)
  cnn-latency  image_cnn batch 1, binary, one request at a time: ferry vs (a), (b) and a bare session.run loop
  resnet-latency  the same on ResNet-18 and -34-shaped CNNs (about 6.5 and 13 ms a run): ferry and (b) vs the
               bare loop
  mixed        tabular (wrk -c4) on ferry while image_cnn is at full load (wrk -c8 binary): CNN in a worker thread
               (ferry's default) and on the main thread

Options:
  --duration S            measured seconds per run (default 10)
  --warmup S              load before each measurement, not measured (default 3)
  --rounds N              repeat the tabular/mlp/cnn/resnet-latency comparisons N times, servers interleaved
                          (default 1)
  --tabular-connections N (default 32)   --mlp-connections N (default 32)   --cnn-connections N (default 8)
  --grpc-streams N        (default 32)   --grpc-connections N (default 4)
  --mixed-cnn-connections N (default 8)  --mixed-tabular-connections N (default 4)
  --coldstart-reps N      (default 5)    --idle-wait S  seconds after ready before reading idle RSS (default 3)
  --servers LIST          comparison servers (default ceiling,ferry,plain,flask)
  --out DIR               where results go (default bench/results)
  --ferry-dir DIR         a built ferry (dist/, package.json, proto/) to measure; default: a snapshot of ./dist
  --alt-ferry-dir DIR     a second built ferry measured side by side with the first in every scenario but
                          grpc (A/B of a change in src/); --alt-label TEXT names it in the tables
  --one-thread-variant    also measure ferry with every model's config set to session: {intra_op_num_threads: 1}
  --split-variant         also measure ferry with breast_cancer and mlp split between two versions (traffic)
  --split-weights A,B     the split's weights (default 50,50; 100,0 routes every request through the split to one
                          version, so batches are as without a split: the routing's own cost)
  --split-outcome TYPE    the split also runs an experiment (outcome: {type: TYPE}, --data-dir in the work folder):
                          every answer recorded, and the control's comparison copy of each candidate request
  --python PATH           the Python with scikit-learn, torch, onnx (default /usr/bin/python3)
`;

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '1' },
    'tabular-connections': { type: 'string', default: '32' },
    'mlp-connections': { type: 'string', default: '32' },
    'cnn-connections': { type: 'string', default: '8' },
    'grpc-streams': { type: 'string', default: '32' },
    'grpc-connections': { type: 'string', default: '4' },
    'mixed-cnn-connections': { type: 'string', default: '8' },
    'mixed-tabular-connections': { type: 'string', default: '4' },
    'coldstart-reps': { type: 'string', default: '5' },
    'idle-wait': { type: 'string', default: '3' },
    servers: { type: 'string', default: 'ceiling,ferry,plain,flask' },
    out: { type: 'string', default: join(ROOT, 'bench/results') },
    'ferry-dir': { type: 'string' },
    'alt-ferry-dir': { type: 'string' },
    'alt-label': { type: 'string' },
    'one-thread-variant': { type: 'boolean' },
    'split-variant': { type: 'boolean' },
    'split-weights': { type: 'string', default: '50,50' },
    'split-outcome': { type: 'string' },
    python: { type: 'string', default: '/usr/bin/python3' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (flags.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const num = (name) => {
  const n = Number(flags[name]);
  if (!(n > 0)) throw new Error(`--${name} must be a positive number, got '${flags[name]}'`);
  return n;
};
const O = {
  duration: num('duration'),
  warmup: Number(flags.warmup),
  rounds: num('rounds'),
  tabularC: num('tabular-connections'),
  mlpC: num('mlp-connections'),
  cnnC: num('cnn-connections'),
  grpcStreams: num('grpc-streams'),
  grpcConnections: num('grpc-connections'),
  mixedCnnC: num('mixed-cnn-connections'),
  mixedTabularC: num('mixed-tabular-connections'),
  coldReps: num('coldstart-reps'),
  idleWait: Number(flags['idle-wait']),
  servers: flags.servers.split(',').map((s) => s.trim()),
};
const wanted = positionals.length === 0 || positionals.includes('all') ? SCENARIOS : positionals;
for (const s of wanted) if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario '${s}' (${SCENARIOS.join(', ')}, all)`);

// ---- set-up: work folder, ferry snapshot, request bodies ------------------------------------------------------------
const WORK = mkdtempSync(join(tmpdir(), 'ferry-bench-'));
const log = (msg) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

let cleaningUp = false;
const cleanup = async () => {
  if (cleaningUp) return;
  cleaningUp = true;
  await stopAll();
  rmSync(WORK, { recursive: true, force: true });
};
process.on('SIGINT', () => {
  log('interrupted: stopping the servers');
  cleanup().finally(() => process.exit(130));
});
process.on('exit', killAllNow);

/** A copy of the built ferry, so another `npm run build` during the run cannot change what is measured. */
function snapshotFerry() {
  if (flags['ferry-dir']) return flags['ferry-dir'];
  const dir = join(WORK, 'ferry');
  mkdirSync(dir);
  if (!existsSync(join(ROOT, 'dist/cli/main.js'))) throw new Error('dist/cli/main.js is missing: run `npm run build` (bench/run.sh does)');
  for (const p of ['dist', 'proto', 'package.json']) cpSync(join(ROOT, p), join(dir, p), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

function makeBodies() {
  const ref = (m) => JSON.parse(readFileSync(join(ROOT, 'examples/models', m, 'reference.json'), 'utf8')).cases[0].inputs[0];
  const bodies = {};
  const jsonBody = (key, request) => {
    const file = join(WORK, `${key}.json`);
    const bytes = Buffer.from(JSON.stringify(request));
    writeFileSync(file, bytes);
    bodies[key] = { file, bytes, contentType: 'application/json' };
  };
  const row = (m) => ref(m).data.slice(0, 30);
  jsonBody('tabular', { inputs: [{ name: 'float_input', datatype: 'FP32', shape: [1, 30], data: row('breast_cancer') }] });
  jsonBody('mlp', { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 30], data: row('mlp') }] });
  // image_cnn: the first reference image (3x128x128 float32, pixels in [0, 1])
  const raw = Buffer.from(ref('image_cnn').data_base64, 'base64').subarray(0, 3 * 128 * 128 * 4);
  const image = new Float32Array(new Uint8Array(raw).buffer);
  writeFileSync(join(WORK, 'image.bin'), raw);
  jsonBody('cnnJson', { inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 3, 128, 128], data: Array.from(image) }] });
  const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 3, 128, 128], parameters: { binary_data_size: raw.length } }] }));
  const bin = Buffer.concat([header, raw]);
  writeFileSync(join(WORK, 'cnnBinary.bin'), bin);
  bodies.cnnBinary = { file: join(WORK, 'cnnBinary.bin'), bytes: bin, contentType: 'application/octet-stream', headerLength: header.length };
  // The same, asking for the outputs in binary too (what Triton's clients ask for when no output is named).
  const headerOut = Buffer.from(JSON.stringify({ ...JSON.parse(header.toString()), parameters: { binary_data_output: true } }));
  writeFileSync(join(WORK, 'cnnBinaryOut.bin'), Buffer.concat([headerOut, raw]));
  bodies.cnnBinaryOut = { file: join(WORK, 'cnnBinaryOut.bin'), bytes: Buffer.concat([headerOut, raw]), contentType: 'application/octet-stream', headerLength: headerOut.length };
  return bodies;
}

function versions(python) {
  const sh = (cmd, args) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    } catch (e) {
      return `unavailable (${(e.stderr || e.message).toString().trim().split('\n').pop()})`;
    }
  };
  const ortVersion = JSON.parse(readFileSync(join(ROOT, 'node_modules/onnxruntime-node/package.json'), 'utf8')).version;
  const py = sh(python, ['-c', 'import sys,flask,sklearn,numpy,torch;from importlib.metadata import version as v;print("Python %s, Flask %s, scikit-learn %s, numpy %s, torch %s (%d intra-op threads)" % (sys.version.split()[0], v("flask"), sklearn.__version__, numpy.__version__, torch.__version__, torch.get_num_threads()))']);
  return {
    node: process.version,
    onnxruntimeNode: ortVersion,
    python: py,
    gunicorn: sh('gunicorn', ['--version']),
    wrk: sh('sh', ['-c', 'wrk -v 2>&1 | head -1']).split(' [')[0],
    git: sh('git', ['-C', ROOT, 'log', '-1', '--format=%h (%cs)']),
    gitDirty: sh('git', ['-C', ROOT, 'status', '--short', '--', 'src', 'package.json']).split('\n').filter(Boolean).length,
  };
}

// ---- measuring ------------------------------------------------------------------------------------------------------
const ctx = { repo: join(ROOT, 'examples/models'), gunicorn: 'gunicorn' };
/** The ferry variants measured next to ferry itself: the one-thread config if asked, and the alternative build. */
const FERRY_EXTRAS = () => [...(flags['one-thread-variant'] ? ['ferry1t'] : []), ...(flags['split-variant'] ? ['ferrySplit'] : []), ...(ctx.altFerryDir ? ['ferryAlt'] : [])];
const isFerry = (k) => k === 'ferry' || k === 'ferry1t' || k === 'ferrySplit' || k === 'ferryAlt';
const results = { startedAt: new Date().toISOString(), options: O, scenarios: {} };
const md = [];
const targets = [];

const f1 = (x) => (x === undefined || x === null || Number.isNaN(x) ? '-' : x.toFixed(1));
const f2 = (x) => (x === undefined || x === null || Number.isNaN(x) ? '-' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const ratio = (a, b) => (a > 0 && b > 0 ? a / b : NaN);
const fx = (x) => (Number.isFinite(x) ? `${x.toFixed(2)}x` : '-');
const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
/** A load command as it reads in the report: work files as WORK/..., ports as P / Q. */
const portless = (cmd = '') => cmd.replaceAll(WORK, 'WORK').replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:P');
const table = (header, rows) => [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
function target(name, measured, met, note = '') {
  targets.push({ name, measured, met, note });
  return `- ${name}: ${measured} — **${met ? 'met' : 'MISSED'}**${note ? ` (${note})` : ''}`;
}

/** Warm-up (not measured), then one measured wrk run; batch sizes and foreign CPU around the measured part. */
async function measureWrk(server, { model, body, connections, durationS = O.duration, warmupS = O.warmup, alsoMine = [] }) {
  if (warmupS > 0) await startWrk({ url: `${server.url}/v2/models/${model}/infer`, body, connections, durationS: warmupS }).result;
  const before = server.metricsUrl ? await scrapeBatchSizes(server.metricsUrl, model) : undefined;
  const cpu = new ForeignCpu();
  cpu.start();
  const run = startWrk({ url: `${server.url}/v2/models/${model}/infer`, body, connections, durationS });
  const r = await run.result;
  const otherCpu = cpu.stop([server.proc.pid, run.proc.pid, ...alsoMine]);
  const batch = before ? batchSizeDelta(before, await scrapeBatchSizes(server.metricsUrl, model)) : null;
  return { ...r, batch, otherCpu, memory: memoryMb(server.proc.pid) };
}

function resultRow(label, r) {
  return [
    label, f1(r.rps), f2(r.p50), f2(r.p90), f2(r.p99), f2(r.max),
    r.errors ? `${r.errors} (${r.errorDetail})` : '0',
    r.batch ? `${r.batch.mean.toFixed(1)} (p50 <= ${r.batch.p50}, p99 <= ${r.batch.p99})` : '',
    r.memory ? f1(r.memory.rssMb) : '', f2(r.otherCpu),
  ];
}
const RESULT_HEADER = ['server', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'errors', 'rows per run (ferry /metrics)', 'RSS after MB', 'other CPU (cores)'];

function firstAnswerNote(label, answer) {
  const outs = answer.outputs.map((o) => `${o.name}=${JSON.stringify(o.data?.slice?.(0, 3) ?? o.parameters)}`).join(', ');
  return `${label}: ${outs}`;
}

/** ferry vs the baselines on one model and body; servers one at a time, interleaved over rounds. */
async function compare({ key, title, model, body, connections, extra = [] }) {
  const kinds = O.servers.flatMap((k) => (k === 'ferry' ? ['ferry', ...extra] : [k]));
  log(`${title}: ${kinds.join(', ')} x ${O.rounds} round(s)`);
  const runs = [];
  const answers = new Map();
  for (let round = 1; round <= O.rounds; round++) {
    for (const kind of kinds) {
      const server = await startServer(kind, ctx);
      try {
        answers.set(kind, await checkInfer(server, model, body));
        log(`  ${server.label} (round ${round})`);
        const r = await measureWrk(server, { model, body, connections });
        runs.push({ round, kind, ...r, serverCommand: server.command });
        log(`    ${f1(r.rps)} req/s, p50 ${f2(r.p50)} ms, p99 ${f2(r.p99)} ms, errors ${r.errors}${r.batch ? `, rows/run ${r.batch.mean.toFixed(1)}` : ''}, other CPU ${f2(r.otherCpu)}`);
      } finally {
        await server.stop();
      }
    }
  }
  const rows = runs.map((r) => resultRow(`${LABELS[r.kind]}${O.rounds > 1 ? ` #${r.round}` : ''}`, r));
  const ratiosOf = (self) => {
    const out = {};
    for (const kind of kinds.filter((k) => !isFerry(k))) {
      const perRound = [];
      for (let round = 1; round <= O.rounds; round++) {
        const fr = runs.find((r) => r.round === round && r.kind === self);
        const br = runs.find((r) => r.round === round && r.kind === kind);
        if (fr && br) perRound.push(ratio(fr.rps, br.rps));
      }
      out[kind] = { perRound, median: median(perRound) };
    }
    return out;
  };
  const ratios = ratiosOf('ferry');
  const ratioLine = (self, rs) =>
    `Throughput ratios, ${LABELS[self]} ÷ baseline${O.rounds > 1 ? ' (per round; median)' : ''}: ${Object.entries(rs).map(([k, v]) => `${LABELS[k]} **${fx(v.median)}**${O.rounds > 1 ? ` (${v.perRound.map(fx).join(', ')})` : ''}`).join('; ')}.`;
  const ferryRuns = runs.filter((r) => r.kind === 'ferry');
  const cmd = portless(runs[0]?.command);
  const text = [
    `### ${title}`,
    '',
    `Load: \`${portless(runs[0]?.command)}\` (${O.warmup} s of the same load first, not measured). Each server alone, started fresh: ${[...new Set(runs.map((r) => `${LABELS[r.kind]} \`${r.serverCommand}\``))].join(', ')}.`,
    '',
    table(RESULT_HEADER, rows),
    '',
    ratioLine('ferry', ratios),
    '',
    ...extra.flatMap((k) => [ratioLine(k, ratiosOf(k)), '']),
    `First answers (sanity): ${[...answers].map(([k, a]) => firstAnswerNote(LABELS[k], a)).join('; ')}.`,
    '',
  ];
  results.scenarios[key] = { title, runs, ratios, ferryCommand: cmd };
  return { runs, ratios, ferryRuns, text };
}

// ---- scenarios ------------------------------------------------------------------------------------------------------
async function preflight() {
  // Where ferry put the models, from its own log (info level, this one start only), for the default repository and
  // for the copy with image_cnn on the main thread.
  const notes = [];
  for (const [label, repo] of [['examples/models', ctx.repo], ['copy with image_cnn execution: main', ctx.mainRepo]]) {
    const s = await startServer('ferry', ctx, { repo, logLevel: 'info' });
    // execution: auto decides placement after start-up (src/runtime/hand-over.ts): give it time to say so.
    await sleep(1500);
    await s.stop();
    const lines = s.proc.output.split('\n').filter((l) => /"model":"(breast_cancer|mlp|image_cnn)"/.test(l) && /(runs|takes|stays|moves)/.test(l));
    notes.push(`- ${label}: ${lines.map((l) => JSON.parse(l).msg).filter((m) => /main thread|worker/.test(m)).map((m) => `"${m}"`).join('; ')}`);
  }
  return ['**Placement (ferry\'s log, `--log-level info`):**', '', ...notes, ''].join('\n');
}

async function coldstart() {
  const builds = [['ferry', ctx.ferryDir], ...(ctx.altFerryDir ? [['ferryAlt', ctx.altFerryDir]] : [])];
  log(`coldstart: ${O.coldReps} x (floor, ${builds.map(([k]) => k).join(', ')})`);
  const floor = [];
  const runs = Object.fromEntries(builds.map(([k]) => [k, []]));
  for (let i = 0; i < O.coldReps; i++) {
    {
      const t0 = performance.now();
      const p = new Proc('floor-start', process.execPath, [join(ROOT, 'bench/floor-start.mjs'), ctx.repo]);
      await p.waitForOutput(/^READY /m, 30_000);
      const ms = performance.now() - t0;
      const mem = memoryMb(p.pid);
      p.child.stdin.end();
      await p.stop();
      floor.push({ ms, rssMb: mem.rssMb });
    }
    for (const [kind, dir] of builds) {
      const t0 = performance.now();
      const port = await freePort();
      const grpcPort = await freePort();
      const p = new Proc(kind, process.execPath, [`${dir}/dist/cli/main.js`, 'serve', ctx.repo, '--host', '127.0.0.1', '--http-port', String(port), '--grpc-port', String(grpcPort), '--log-level', 'warn']);
      await pollUntil(async () => (await request(`http://127.0.0.1:${port}/v2/health/ready`, { timeoutMs: 1000 })).status === 200, { proc: p, intervalMs: 5, what: 'ready' });
      const ms = performance.now() - t0;
      const atReady = memoryMb(p.pid);
      await sleep(O.idleWait * 1000);
      const idle = memoryMb(p.pid);
      await p.stop();
      runs[kind].push({ ms, rssAtReadyMb: atReady.rssMb, idleRssMb: idle.rssMb });
    }
    log(`  #${i + 1}: floor ${f1(floor.at(-1).ms)} ms ${f1(floor.at(-1).rssMb)} MB; ${builds.map(([k]) => `${k} ${f1(runs[k].at(-1).ms)} ms, idle ${f1(runs[k].at(-1).idleRssMb)} MB`).join('; ')}`);
  }
  const fm = median(floor.map((x) => x.ms));
  const ferry = runs.ferry;
  const sm = median(ferry.map((x) => x.ms));
  const idle = median(ferry.map((x) => x.idleRssMb));
  results.scenarios.coldstart = { floor, ferry, ...(runs.ferryAlt ? { ferryAlt: runs.ferryAlt } : {}) };
  const row = (kind) => {
    const r = runs[kind];
    const ms = median(r.map((x) => x.ms));
    return [LABELS[kind], f1(ms), r.map((x) => x.ms.toFixed(0)).join(', '), `${f1(median(r.map((x) => x.rssAtReadyMb)))} at ready, ${f1(median(r.map((x) => x.idleRssMb)))} idle`, fx(ms / fm)];
  };
  return [
    '### Cold start and idle memory',
    '',
    `Floor: \`node bench/floor-start.mjs examples/models\` (Node loads onnxruntime-node and creates the ${8} example sessions with the options ferry gives them: one intra-op thread, no spinning; nothing else), spawn to its "READY" line. ferry: \`node dist/cli/main.js serve examples/models --host 127.0.0.1 --http-port P --grpc-port Q --log-level warn\`, spawn to the first \`GET /v2/health/ready\` = 200 (polled every 5 ms). ${O.coldReps} runs each, alternating; RSS is VmRSS from /proc (ferry: at ready, and after ${O.idleWait} s idle).`,
    '',
    table(['', 'median ms', 'runs (ms)', 'RSS MB (median)', '÷ floor'], [
      ['floor', f1(fm), floor.map((x) => x.ms.toFixed(0)).join(', '), f1(median(floor.map((x) => x.rssMb))), ''],
      ...builds.map(([k]) => row(k)),
    ]),
    '',
    target('Cold start within 2x the floor', `${f1(sm)} ms vs ${f1(fm)} ms = ${fx(sm / fm)}`, sm <= 2 * fm),
    target('Idle resident memory under 150 MB', `${f1(idle)} MB (floor ${f1(median(floor.map((x) => x.rssMb)))} MB)`, idle < 150),
    '',
  ].join('\n');
}

async function tabular(bodies) {
  const c = await compare({ key: 'tabular', title: `Tabular: breast_cancer, 1 row of 30 FP32, JSON, ${O.tabularC} connections`, model: 'breast_cancer', body: bodies.tabular, connections: O.tabularC, extra: FERRY_EXTRAS() });
  const fr = c.ferryRuns;
  const p99 = Math.max(...fr.map((r) => r.p99));
  const errors = fr.reduce((a, r) => a + r.errors, 0);
  const lines = [...c.text];
  const t = (k, min) => c.ratios[k] && target(`Tabular throughput >= ${min}x ${LABELS[k]}`, fx(c.ratios[k].median), c.ratios[k].median >= min);
  lines.push(...[t('ceiling', 0.9), t('plain', 1.6), t('flask', 8)].filter(Boolean));
  if (fr.length) {
    lines.push(target('Tabular p99 at most 5 ms', `${fr.map((r) => f2(r.p99)).join(', ')} ms`, p99 <= 5));
    lines.push(target('Tabular: zero errors', String(errors), errors === 0));
    lines.push(`- ferry's resident memory right after the tabular load: ${fr.map((r) => f1(r.memory.rssMb)).join(', ')} MB (peak VmHWM ${fr.map((r) => f1(r.memory.peakMb)).join(', ')} MB); the issue sets no target for it.`);
  }
  lines.push('');
  return lines.join('\n');
}

async function mlp(bodies) {
  const c = await compare({ key: 'mlp', title: `MLP: mlp, 1 row of 30 FP32, JSON, ${O.mlpC} connections`, model: 'mlp', body: bodies.mlp, connections: O.mlpC, extra: FERRY_EXTRAS() });
  return c.text.join('\n');
}

async function cnn(bodies) {
  const a = await compare({ key: 'cnnJson', title: `Image CNN: image_cnn, 1x3x128x128 FP32, JSON (${(bodies.cnnJson.bytes.length / 1024).toFixed(0)} KiB), ${O.cnnC} connections`, model: 'image_cnn', body: bodies.cnnJson, connections: O.cnnC, extra: FERRY_EXTRAS() });
  const b = await compare({ key: 'cnnBinary', title: `Image CNN: image_cnn, 1x3x128x128 FP32, binary tensor extension (${(bodies.cnnBinary.bytes.length / 1024).toFixed(0)} KiB), ${O.cnnC} connections`, model: 'image_cnn', body: bodies.cnnBinary, connections: O.cnnC, extra: FERRY_EXTRAS() });
  return [...a.text, ...b.text].join('\n');
}

async function cnnLatency(bodies) {
  log('cnn-latency: ferry, ferry1t, (b), (a), bare session.run at concurrency 1, binary');
  const rows = [];
  const byKind = {};
  for (const kind of ['ferry', ...FERRY_EXTRAS(), 'plain', 'ceiling']) {
    const server = await startServer(kind, ctx);
    try {
      await checkInfer(server, 'image_cnn', bodies.cnnBinary);
      const r = await measureWrk(server, { model: 'image_cnn', body: bodies.cnnBinary, connections: 1 });
      byKind[kind] = r;
      rows.push(resultRow(`${LABELS[kind]}`, r).slice(0, 7).concat([f2(r.mean), r.batch ? r.batch.mean.toFixed(2) : '', f2(r.otherCpu)]));
      log(`  ${LABELS[kind]}: p50 ${f2(r.p50)} ms, mean ${f2(r.mean)} ms`);
    } finally {
      await server.stop();
    }
  }
  const bareRun = async (threads) => {
    const cpu = new ForeignCpu();
    cpu.start();
    const args = [join(ROOT, 'bench/bare-session.mjs'), join(ctx.repo, 'image_cnn/1/model.onnx'), join(WORK, 'image.bin'), String(O.warmup), String(O.duration), ...(threads ? [String(threads)] : [])];
    const bare = new Proc('bare-session', process.execPath, args);
    bare.child.stdin.end();
    const { code } = await bare.exited;
    if (code !== 0) throw new Error(`bare-session failed:\n${bare.output}`);
    const b = JSON.parse(bare.output.trim().split('\n').pop());
    const bareCpu = cpu.stop([bare.pid]);
    log(`  bare session.run${threads ? `, ${threads} intra-op thread` : ''}: p50 ${f2(b.p50)} ms, mean ${f2(b.mean)} ms`);
    rows.push([`bare \`session.run\` loop, in-process, ${threads ? `intraOpNumThreads ${threads}` : 'default options'}`, f1(1000 / b.mean), f2(b.p50), f2(b.p90), f2(b.p99), f2(b.max), '0', f2(b.mean), '', f2(bareCpu)]);
    return b;
  };
  const b = await bareRun();
  const b1 = await bareRun(1);
  const f = byKind.ferry;
  const rp50 = f.p50 / b.p50;
  const rmean = f.mean / b.mean;
  results.scenarios.cnnLatency = { servers: byKind, bare: b, bareOneThread: b1 };
  return [
    '### Image CNN latency, batch 1, binary, one request at a time',
    '',
    `Load: \`${portless(f.command)}\` after ${O.warmup} s of the same. Floor: \`node bench/bare-session.mjs examples/models/image_cnn/1/model.onnx WORK/image.bin ${O.warmup} ${O.duration} [THREADS]\` (the same image, \`await session.run\` in a loop, default session options or intraOpNumThreads 1; "req/s" = 1 / mean).`,
    '',
    table(['', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'errors', 'mean ms', 'rows per run', 'other CPU (cores)'], rows),
    '',
    target('CNN batch-1 binary latency within 10% of bare session.run', `p50 ${f2(f.p50)} vs ${f2(b.p50)} ms = ${fx(rp50)}; mean ${f2(f.mean)} vs ${f2(b.mean)} ms = ${fx(rmean)}`, rp50 <= 1.1 && rmean <= 1.1),
    `- Against the bare loop with one intra-op thread (what ferry gave a worker model on a 2-core machine from f963446 to 94e01b5, which gives it every core at \`worker_nice\` 10): p50 ${f2(f.p50)} vs ${f2(b1.p50)} ms = ${fx(f.p50 / b1.p50)}; mean ${f2(f.mean)} vs ${f2(b1.mean)} ms = ${fx(f.mean / b1.mean)}.`,
    `- For scale: the HTTP round trip of the same 192 KiB body with no model ((a)) is p50 ${f2(byKind.ceiling.p50)} ms by itself; ferry − bare = ${f2(f.p50 - b.p50)} ms at p50; (b) − bare = ${f2(byKind.plain.p50 - b.p50)} ms.`,
  ].join('\n');
}

/**
 * The same measurement on CNNs of a realistic size (ResNet-18's and ResNet-34's shapes at 3x128x128,
 * bench/make_resnet_cnn.py, about 0.6 and 1.2 GFLOP a run): the example image_cnn runs in 0.3 ms, less than the HTTP
 * round trip of its own input. The naive server (b) is measured too: it is the least an HTTP round trip adds to a
 * run here. Over --rounds, ferry, (b) and the bare loop take turns, and the ratios are per round (this VM drifts by
 * 5-10% within minutes).
 */
async function heavyCnnLatency(bodies) {
  const kinds = ['ferry', ...FERRY_EXTRAS(), 'plain'];
  const depths = [18, 34];
  log(`resnet-latency, ResNet-18 and -34-shaped CNNs: ${kinds.join(', ')}, bare session.run x ${O.rounds} round(s)`);
  const runs = [];
  const rows = [];
  const row = (label, r) => [label, f1(r.rps), f2(r.p50), f2(r.p90), f2(r.p99), f2(r.max), r.errors ? `${r.errors} (${r.errorDetail})` : '0', f2(r.mean), f2(r.otherCpu)];
  const makeCmd = (depth) => `/usr/bin/python3 bench/make_resnet_cnn.py WORK/repo-resnet${depth}/resnet_cnn/1/model.onnx --depth ${depth}`;
  for (const depth of depths) {
    const repo = join(WORK, `repo-resnet${depth}`);
    const file = join(repo, 'resnet_cnn/1/model.onnx');
    if (!existsSync(file)) execFileSync(flags.python, [join(ROOT, 'bench/make_resnet_cnn.py'), file, '--depth', String(depth)], { stdio: 'ignore' });
    for (let round = 1; round <= O.rounds; round++) {
      const tag = (label) => `ResNet-${depth}: ${label}${O.rounds > 1 ? ` #${round}` : ''}`;
      for (const kind of kinds) {
        const server = await startServer(kind, ctx, { repo });
        try {
          // (b) answers JSON whatever the request asks, so it is measured with JSON outputs only.
          const variants = [[bodies.cnnBinary, kind, LABELS[kind]], ...(isFerry(kind) ? [[bodies.cnnBinaryOut, `${kind}BinaryOut`, `${LABELS[kind]}, outputs in binary too`]] : [])];
          for (const [body, key, label] of variants) {
            await checkInfer(server, 'resnet_cnn', body);
            const r = await measureWrk(server, { model: 'resnet_cnn', body, connections: 1 });
            runs.push({ depth, round, key, ...r });
            rows.push(row(tag(label), r));
            log(`  ${tag(label)}: p50 ${f2(r.p50)} ms, mean ${f2(r.mean)} ms`);
          }
        } finally {
          await server.stop();
        }
      }
      const cpu = new ForeignCpu();
      cpu.start();
      const bare = new Proc('bare-session', process.execPath, [join(ROOT, 'bench/bare-session.mjs'), file, join(WORK, 'image.bin'), String(O.warmup), String(O.duration)]);
      bare.child.stdin.end();
      const { code } = await bare.exited;
      if (code !== 0) throw new Error(`bare-session failed:\n${bare.output}`);
      const b = JSON.parse(bare.output.trim().split('\n').pop());
      const r = { rps: 1000 / b.mean, p50: b.p50, p90: b.p90, p99: b.p99, max: b.max, mean: b.mean, errors: 0, otherCpu: cpu.stop([bare.pid]) };
      runs.push({ depth, round, key: 'bare', ...r });
      rows.push(row(tag('bare `session.run` loop, in-process, default options'), r));
      log(`  ${tag('bare session.run')}: p50 ${f2(b.p50)} ms, mean ${f2(b.mean)} ms`);
    }
  }
  /** Per-round ratios (or differences) of `of` to `to` on a statistic, and their median. */
  const compareRuns = (depth, of, to, stat, how = (a, b) => a / b) => {
    const perRound = [];
    for (let round = 1; round <= O.rounds; round++) {
      const a = runs.find((r) => r.depth === depth && r.round === round && r.key === of);
      const b = runs.find((r) => r.depth === depth && r.round === round && r.key === to);
      if (a && b) perRound.push(how(a[stat], b[stat]));
    }
    return { perRound, median: median(perRound) };
  };
  const show = (x, unit = fx) => `${unit(x.median)}${O.rounds > 1 ? ` (${x.perRound.map(unit).join(', ')})` : ''}`;
  const ms = (x) => `${f2(x)} ms`;
  const perRound = O.rounds > 1 ? ' (per round; median)' : '';
  const ratios = {};
  const lines = [];
  for (const depth of depths) {
    const r = (ratios[depth] = {
      ferryP50: compareRuns(depth, 'ferry', 'bare', 'p50'),
      ferryMean: compareRuns(depth, 'ferry', 'bare', 'mean'),
      ferryBinaryOutP50: compareRuns(depth, 'ferryBinaryOut', 'bare', 'p50'),
      plainP50: compareRuns(depth, 'plain', 'bare', 'p50'),
      plainMean: compareRuns(depth, 'plain', 'bare', 'mean'),
      ferryOverPlainP50: compareRuns(depth, 'ferry', 'plain', 'p50'),
      ferryAddsP50: compareRuns(depth, 'ferry', 'bare', 'p50', (a, b) => a - b),
      plainAddsP50: compareRuns(depth, 'plain', 'bare', 'p50', (a, b) => a - b),
    });
    const name = `ResNet-${depth}-shaped CNN batch-1 binary latency within 10% of bare session.run`;
    const measured = `p50 ${show(r.ferryP50)}; mean ${show(r.ferryMean)}${perRound} (outputs in binary too: p50 ${show(r.ferryBinaryOutP50)})`;
    lines.push(depth === 18 ? target(name, measured, r.ferryP50.median <= 1.1 && r.ferryMean.median <= 1.1) : `- ${name}: ${measured}`);
    lines.push(`  - (b), node:http calling \`session.run\` on its one thread and doing nothing else: p50 ${show(r.plainP50)}; mean ${show(r.plainMean)}. ferry ÷ (b): p50 ${show(r.ferryOverPlainP50)}. Added to the run at p50: ferry ${show(r.ferryAddsP50, ms)}, (b) ${show(r.plainAddsP50, ms)}.`);
  }
  results.scenarios.cnnLatencyHeavy = { runs, ratios };
  return [
    '### Realistic image CNN latency (ResNet-18 and ResNet-34 shapes, 3x128x128), batch 1, binary, one request at a time',
    '',
    `Models: \`${makeCmd(18)}\` (11.7 M parameters) and \`${makeCmd(34)}\` (21.8 M), seeded random weights; ferry and (b) serve a repository holding only one of them. Load: \`wrk -t1 -c1\` with the same binary body as above on /v2/models/resnet_cnn/infer (the 1000 logits come back as JSON), then, for ferry, with \`"parameters": {"binary_data_output": true}\` added to its JSON header (they come back raw, as Triton's clients ask by default). Floor: \`node bench/bare-session.mjs WORK/repo-resnetN/resnet_cnn/1/model.onnx WORK/image.bin ${O.warmup} ${O.duration}\`.${O.rounds > 1 ? ` ${O.rounds} rounds per model, each running every server and then the floor.` : ''}`,
    '',
    table(['', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'errors', 'mean ms', 'other CPU (cores)'], rows),
    '',
    ...lines,
    '',
  ].join('\n');
}

async function grpc(bodies) {
  log('grpc: (a) via wrk and ferry bench HTTP; grpc-js ceiling and ferry via ferry bench gRPC, bench/grpc-load.mjs and h2load; ferry HTTP via wrk');
  const runs = [];
  const common = { model: 'breast_cancer', inputFile: bodies.tabular.file, durationS: O.duration, warmupS: O.warmup };
  /** One generator run (it warms up itself); batch sizes are scraped around it, so for ferry they include the warm-up. */
  const generatorRun = async (server, label, start) => {
    const before = server.metricsUrl ? await scrapeBatchSizes(server.metricsUrl, 'breast_cancer') : undefined;
    const cpu = new ForeignCpu();
    cpu.start();
    const g = start();
    const r = await g.result;
    const otherCpu = cpu.stop([server.proc.pid, g.proc.pid]);
    const batch = before ? batchSizeDelta(before, await scrapeBatchSizes(server.metricsUrl, 'breast_cancer')) : null;
    const row = { label, ...r, batch, otherCpu, memory: memoryMb(server.proc.pid) };
    runs.push(row);
    log(`  ${label}: ${f1(r.rps)} req/s, p99 ${f2(r.p99)} ms, errors ${r.errors}`);
    return row;
  };
  const ferryBench = (server, protocol) => () =>
    startFerryBench({ ...common, ferryDir: ctx.ferryDir, protocol, url: server.url, grpcAddress: server.grpcAddress, concurrency: O.grpcStreams, connections: O.grpcConnections });
  const grpcLoad = (server) => () => startGrpcLoad({ ...common, address: server.grpcAddress, streams: O.grpcStreams, connections: O.grpcConnections });
  const streams = `${O.grpcStreams} streams over ${O.grpcConnections} connections`;
  const frameFile = join(WORK, 'tabular.grpc');
  execFileSync(process.execPath, [join(ROOT, 'bench/grpc-load.mjs'), '--model', 'breast_cancer', '--input', bodies.tabular.file, '--write-frame', frameFile]);
  /**
   * h2load: a warm-up run, then the measured one. h2load cannot read grpc-status, so on ferry the calls are checked
   * against ferry's own count of outcomes over the measured run: every call h2load saw succeed must be a success
   * there, and anything else ferry counted is an error.
   */
  const h2loadRun = async (server, label) => {
    const h2 = { address: server.grpcAddress, frameFile, streams: O.grpcStreams, connections: O.grpcConnections };
    if (O.warmup > 0) await startH2load({ ...h2, durationS: O.warmup }).result;
    const outcomesBefore = server.metricsUrl ? await scrapeOutcomes(server.metricsUrl, 'breast_cancer') : undefined;
    const row = await generatorRun(server, label, () => startH2load({ ...h2, durationS: O.duration }));
    if (outcomesBefore) {
      const after = await scrapeOutcomes(server.metricsUrl, 'breast_cancer');
      const delta = (k) => (after.get(k) ?? 0) - (outcomesBefore.get(k) ?? 0);
      const success = delta('success');
      const failures = [...after.keys()].filter((k) => k !== 'success' && delta(k) > 0).map((k) => `${delta(k)} ${k}`);
      const httpOk = row.requests - row.errors;
      // h2load stops with up to `streams` calls in flight, which ferry may still answer (and count) after it stopped.
      const missing = Math.max(0, httpOk - success);
      const unexplained = Math.max(0, success - httpOk - O.grpcStreams);
      if (missing || unexplained || failures.length) {
        row.errors += missing + unexplained + failures.reduce((n, f) => n + Number(f.split(' ')[0]), 0);
        row.errorDetail = `h2load saw ${httpOk} answers, ferry counted ${success} successes${failures.length ? ` and ${failures.join(', ')}` : ''}`;
      }
      row.verified = `ferry counted ${success} successes for h2load's ${httpOk} answers; up to ${O.grpcStreams} more are the calls in flight when h2load stopped`;
      log(`    ${row.verified}`);
    }
    return row;
  };

  let s = await startServer('ceiling', ctx);
  let a;
  let aSame;
  try {
    await checkInfer(s, 'breast_cancer', bodies.tabular);
    const r = await measureWrk(s, { model: 'breast_cancer', body: bodies.tabular, connections: O.tabularC });
    a = { label: `${LABELS.ceiling}, HTTP JSON, wrk -c${O.tabularC}`, ...r };
    runs.push(a);
    log(`  (a) wrk: ${f1(r.rps)} req/s`);
    aSame = await generatorRun(s, `${LABELS.ceiling}, HTTP JSON, ferry bench -c${O.grpcStreams}`, ferryBench(s, 'http'));
  } finally {
    await s.stop();
  }
  s = await startServer('grpcCeiling', ctx);
  let gcBench;
  let gcLight;
  let gcH2;
  try {
    gcBench = await generatorRun(s, `${LABELS.grpcCeiling}, ferry bench gRPC, ${streams}`, ferryBench(s, 'grpc'));
    gcLight = await generatorRun(s, `${LABELS.grpcCeiling}, grpc-load (node:http2), ${streams}`, grpcLoad(s));
    gcH2 = await h2loadRun(s, `${LABELS.grpcCeiling}, h2load, ${streams}`);
  } finally {
    await s.stop();
  }
  // The floor any server on node:http2 stands on, by the generator that leaves the server the most of the cores.
  s = await startServer('h2Floor', ctx);
  let floorH2;
  try {
    floorH2 = await h2loadRun(s, `${LABELS.h2Floor}, h2load, ${streams}`);
  } finally {
    await s.stop();
  }
  let altH2;
  if (ctx.altFerryDir) {
    s = await startServer('ferryAlt', ctx);
    try {
      await checkInfer(s, 'breast_cancer', bodies.tabular);
      altH2 = await h2loadRun(s, `${LABELS.ferryAlt}, gRPC, h2load, ${streams}`);
    } finally {
      await s.stop();
    }
  }
  s = await startServer('ferry', ctx);
  let fBench;
  let fLight;
  let fH2;
  let fHttp;
  try {
    await checkInfer(s, 'breast_cancer', bodies.tabular);
    fBench = await generatorRun(s, `ferry, gRPC, ferry bench, ${streams}`, ferryBench(s, 'grpc'));
    fLight = await generatorRun(s, `ferry, gRPC, grpc-load (node:http2), ${streams}`, grpcLoad(s));
    fH2 = await h2loadRun(s, `ferry, gRPC, h2load, ${streams}`);
    const r = await measureWrk(s, { model: 'breast_cancer', body: bodies.tabular, connections: O.tabularC });
    fHttp = { label: `ferry, HTTP JSON, wrk -c${O.tabularC}`, ...r };
    runs.push(fHttp);
    log(`  ferry http wrk: ${f1(r.rps)} req/s`);
  } finally {
    await s.stop();
  }
  results.scenarios.grpc = { runs };
  const rows = runs.map((r) => resultRow(r.label, r));
  const errors = fBench.errors + fLight.errors + fH2.errors;
  return [
    `### gRPC ModelInfer: breast_cancer, 1 row, ${streams}`,
    '',
    `Two gRPC generators, both sending raw_input_contents and counting a call only once its grpc-status is read (a non-OK status is an error): \`ferry bench\` (its node:http2 sender) — \`${portless(fBench.command)}\` — and bench/grpc-load.mjs, a standalone node:http2 generator — \`${portless(fLight.command)}\`. The HTTP ceiling (a) is measured with wrk (\`${portless(a.command)}\`) and with ferry bench over HTTP (\`${portless(aSame.command)}\`), the same generator as the gRPC runs. A third generator, h2load (nghttp2's, in C, so it leaves the server more of the two cores) — \`${portless(fH2.command)}\` after a ${O.warmup} s warm-up run — sends the frame \`node bench/grpc-load.mjs --write-frame\` encodes; it does not read grpc-status and reports no percentiles, so its calls on ferry are checked against ferry's own outcome counts (${fH2.verified ?? 'not checked'}); against the grpc-js ceiling, which only answers OK, they are not. Rows per run for ferry's gRPC runs include the generator's warm-up.`,
    '',
    table(RESULT_HEADER, rows),
    '',
    `Ratios: ferry gRPC ÷ (a) via wrk: **${fx(fLight.rps / a.rps)}** with grpc-load, ${fx(fBench.rps / a.rps)} with ferry bench. ferry gRPC ÷ (a) via ferry bench HTTP (same generator): ${fx(fBench.rps / aSame.rps)}. ferry gRPC ÷ grpc-js ceiling, same generator: ${fx(fLight.rps / gcLight.rps)} (grpc-load), ${fx(fBench.rps / gcBench.rps)} (ferry bench). grpc-js ceiling ÷ (a) via wrk: ${fx(gcLight.rps / a.rps)} (grpc-load). With h2load: ferry gRPC ÷ (a) via wrk **${fx(fH2.rps / a.rps)}**, ÷ grpc-js ceiling ${fx(fH2.rps / gcH2.rps)}; grpc-js ceiling ÷ (a) ${fx(gcH2.rps / a.rps)}. ferry HTTP ÷ (a), both wrk: ${fx(fHttp.rps / a.rps)}. The node:http2 floor ÷ (a): ${fx(floorH2.rps / a.rps)}; ferry gRPC ÷ the floor, both h2load: ${fx(fH2.rps / floorH2.rps)}.${altH2 ? ` ${LABELS.ferryAlt}, gRPC h2load ÷ (a): ${fx(altH2.rps / a.rps)}; this build ÷ it: ${fx(fH2.rps / altH2.rps)}.` : ''}`,
    '',
    target('gRPC throughput >= 0.5x the ceiling (a) (via wrk), grpc-load generator', fx(fLight.rps / a.rps), fLight.rps / a.rps >= 0.5),
    target('gRPC throughput >= 0.5x the ceiling (a) (via wrk), ferry bench generator', fx(fBench.rps / a.rps), fBench.rps / a.rps >= 0.5),
    target('gRPC throughput >= 0.8x the ceiling (a) (via wrk), h2load generator (calls checked against ferry\'s outcome counts)', fx(fH2.rps / a.rps), fH2.rps / a.rps >= 0.8),
    target('gRPC: zero errors', String(errors), errors === 0),
    '',
  ].join('\n');
}

async function mixed(bodies) {
  const sections = [];
  const summary = [];
  const variants = [
    ['image_cnn in a worker thread (ferry\'s default, `execution: auto`)', undefined],
    ['image_cnn on the main thread (`execution: main`, a temporary copy of the repository)', ctx.mainRepo],
  ];
  if (flags['one-thread-variant']) variants.push(['image_cnn in a worker thread, every model with `session: {intra_op_num_threads: 1}` (a temporary copy of the repository)', ctx.oneThreadRepo]);
  if (ctx.altFerryDir) variants.push([`image_cnn in a worker thread (\`execution: auto\`), ${LABELS.ferryAlt}`, undefined, 'ferryAlt']);
  for (const [placement, repo, kind = 'ferry'] of variants) {
    log(`mixed: ${placement}`);
    const s = await startServer(kind, ctx, { repo });
    try {
      await checkInfer(s, 'breast_cancer', bodies.tabular);
      await checkInfer(s, 'image_cnn', bodies.cnnBinary);
      const alone = await measureWrk(s, { model: 'breast_cancer', body: bodies.tabular, connections: O.mixedTabularC });
      log(`  tabular alone: p99 ${f2(alone.p99)} ms`);
      const cnnUrl = `${s.url}/v2/models/image_cnn/infer`;
      const cnnRun = startWrk({ url: cnnUrl, body: bodies.cnnBinary, connections: O.mixedCnnC, durationS: O.warmup + O.duration + 2 });
      await sleep(O.warmup * 1000);
      const beforeCnn = await scrapeBatchSizes(s.metricsUrl, 'image_cnn');
      const threadsBefore = threadJiffies(s.proc.pid);
      const t0 = performance.now();
      const tab = await measureWrk(s, { model: 'breast_cancer', body: bodies.tabular, connections: O.mixedTabularC, warmupS: 0, alsoMine: [cnnRun.proc.pid] });
      const threads = threadCpu(s.proc.pid, threadsBefore, threadJiffies(s.proc.pid), (performance.now() - t0) / 1000);
      const afterCnn = await scrapeBatchSizes(s.metricsUrl, 'image_cnn');
      const cnnR = await cnnRun.result;
      const cnnBatch = batchSizeDelta(beforeCnn, afterCnn);
      log(`  tabular under CNN load: p99 ${f2(tab.p99)} ms; CNN ${f1(cnnR.rps)} req/s`);
      summary.push({ placement, alone, tab, threads, cnn: { ...cnnR, batch: cnnBatch } });
      sections.push(
        table(['load', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'errors', 'rows per run', 'RSS after MB', 'other CPU (cores)'], [
          resultRow(`tabular alone, wrk -c${O.mixedTabularC}`, alone),
          resultRow(`tabular with the CNN at full load, wrk -c${O.mixedTabularC}`, tab),
          resultRow(`image_cnn binary, wrk -c${O.mixedCnnC} (whole run, warm-up included)`, { ...cnnR, batch: cnnBatch, memory: memoryMb(s.proc.pid) }),
        ]) + `\n\nferry's CPU during the tabular window, in cores: main thread ${f2(threads.main)}, busiest other thread ${f2(threads.busiest)}, all other threads ${f2(threads.others)}.`,
      );
    } finally {
      await s.stop();
    }
  }
  results.scenarios.mixed = summary;
  const [thread, main] = summary;
  const oneThread = summary.find((x) => x.placement.includes('intra_op_num_threads'));
  const alt = summary.find((x) => x.placement.includes(LABELS.ferryAlt ?? '\0'));
  return [
    '### Mixed load: tabular p99 while the image CNN is at full load (one ferry)',
    '',
    `CNN: \`${'WRK_BODY=cnnBinary.bin ... wrk -t1 -c' + O.mixedCnnC + ' -d' + (O.warmup + O.duration + 2) + 's ... /v2/models/image_cnn/infer'}\`; after ${O.warmup} s, tabular: \`wrk -t1 -c${O.mixedTabularC} -d${O.duration}s ... /v2/models/breast_cancer/infer\` alongside. "Tabular alone" is the same tabular load on the same server just before. Rows per run for image_cnn are counted over the tabular window.`,
    '',
    `**${thread.placement}**`,
    '',
    sections[0],
    '',
    `**${main.placement}**`,
    '',
    sections[1],
    '',
    ...summary.slice(2).flatMap((x, i) => [`**${x.placement}**`, '', sections[i + 2], '']),
    target('Mixed load: tabular p99 under 10 ms with the CNN at full load', `${f2(thread.tab.p99)} ms (CNN in a worker thread; alone ${f2(thread.alone.p99)} ms); with the CNN on the main thread: ${f2(main.tab.p99)} ms${oneThread ? `; in a worker thread with one intra-op thread: ${f2(oneThread.tab.p99)} ms` : ''}${alt ? `; ${LABELS.ferryAlt}: ${f2(alt.tab.p99)} ms` : ''}`, thread.tab.p99 < 10),
    '',
  ].join('\n');
}

// ---- main -----------------------------------------------------------------------------------------------------------
async function main() {
  const started = performance.now();
  ctx.ferryDir = snapshotFerry();
  if (flags['alt-ferry-dir']) {
    ctx.altFerryDir = flags['alt-ferry-dir'];
    LABELS.ferryAlt = `ferry, alternative build (${flags['alt-label'] ?? flags['alt-ferry-dir']})`;
  }
  ctx.breastCancerNoZipMap = join(WORK, 'breast_cancer_nozipmap.onnx');
  execFileSync(flags.python, [join(ROOT, 'bench/prepare_models.py'), join(ctx.repo, 'breast_cancer/1/model.onnx'), ctx.breastCancerNoZipMap], { stdio: 'ignore' });
  ctx.mainRepo = join(WORK, 'repo-cnn-main');
  cpSync(ctx.repo, ctx.mainRepo, { recursive: true });
  writeFileSync(join(ctx.mainRepo, 'image_cnn/config.yaml'), 'execution: main\n');
  ctx.oneThreadRepo = join(WORK, 'repo-cnn-one-thread');
  cpSync(ctx.repo, ctx.oneThreadRepo, { recursive: true });
  for (const m of readdirSync(ctx.oneThreadRepo, { withFileTypes: true })) {
    if (m.isDirectory()) writeFileSync(join(ctx.oneThreadRepo, m.name, 'config.yaml'), 'session:\n  intra_op_num_threads: 1\n');
  }
  // breast_cancer and mlp served by two versions each, requests split between them (config.yaml traffic).
  const [wa, wb] = flags['split-weights'].split(',').map(Number);
  ctx.splitRepo = join(WORK, 'repo-split');
  cpSync(ctx.repo, ctx.splitRepo, { recursive: true });
  for (const m of ['breast_cancer', 'mlp']) {
    cpSync(join(ctx.splitRepo, m, '1'), join(ctx.splitRepo, m, '2'), { recursive: true });
    const outcome = flags['split-outcome'] ? `  outcome: {type: ${flags['split-outcome']}}\n` : '';
    writeFileSync(join(ctx.splitRepo, m, 'config.yaml'), `version_policy: {all: {}}\ntraffic:\n  variants:\n    - {version: 1, weight: ${wa}}\n    - {version: 2, weight: ${wb}}\n${outcome}`);
  }
  ctx.splitArgs = flags['split-outcome'] ? ['--data-dir', join(WORK, 'split-data')] : [];
  const bodies = makeBodies();
  const machine = machineInfo();
  const v = versions(flags.python);
  results.machine = machine;
  results.versions = v;
  log(`work folder ${WORK}; ferry from ${ctx.ferryDir}; ${machine.cpus} CPUs (${machine.cpuModel}), node ${v.node}`);

  const sections = [await preflight()];
  const run = { coldstart, tabular, grpc, mlp, cnn, 'cnn-latency': cnnLatency, 'resnet-latency': heavyCnnLatency, mixed };
  for (const name of SCENARIOS.filter((s) => wanted.includes(s))) {
    try {
      sections.push(await run[name](bodies));
    } catch (e) {
      log(`${name} failed: ${e.stack ?? e}`);
      sections.push(`### ${name}: FAILED\n\n\`\`\`\n${String(e.stack ?? e).slice(0, 3000)}\n\`\`\`\n`);
      results.scenarios[name] = { failed: String(e.message ?? e) };
      await stopAll();
    }
  }
  const minutes = (performance.now() - started) / 60_000;
  const stamp = results.startedAt.replace(/[:]/g, '-').replace(/\..*/, '');
  const header = [
    `# ferry benchmarks, ${results.startedAt.replace('T', ' ').replace(/\..*/, '')} UTC`,
    '',
    `Command: \`bench/run.sh ${process.argv.slice(2).map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ')}\` (${minutes.toFixed(1)} min).`,
    '',
    `Machine: ${machine.cpus} CPUs (nproc), ${machine.cpuModel}, ${machine.memGb.toFixed(1)} GiB RAM; server and load generator share the CPUs. Node ${v.node}, onnxruntime-node ${v.onnxruntimeNode}; ${v.python}; ${v.gunicorn}; ${v.wrk}. ferry at ${v.git}${v.gitDirty ? ` plus ${v.gitDirty} uncommitted change(s) in src/ and package.json` : ''}.`,
    '',
    `Each server runs alone while measured, started fresh, on 127.0.0.1; ${O.warmup} s warm-up then ${O.duration} s measured per run. Ratios are between runs of this invocation only. "other CPU" is CPU used during the measurement by processes that are not the bench's (other jobs on the machine; 1.0 = one whole core): where it is high, that run's numbers are noisy.`,
    '',
  ];
  const summary = ['## Targets', '', table(['target', 'measured', 'result'], targets.map((t) => [t.name, t.measured + (t.note ? ` (${t.note})` : ''), t.met ? 'met' : '**MISSED**'])), ''];
  const text = [...header, ...summary, '## Results', '', ...sections].join('\n');
  mkdirSync(flags.out, { recursive: true });
  const file = join(flags.out, `${stamp}.md`);
  writeFileSync(file, text);
  writeFileSync(join(flags.out, `${stamp}.json`), JSON.stringify({ ...results, targets }, null, 2));
  process.stdout.write(`${text}\n`);
  log(`wrote ${relative(process.cwd(), file)} and its .json`);
}

main()
  .catch((e) => {
    log(`failed: ${e.stack ?? e}`);
    process.exitCode = 1;
  })
  .finally(cleanup);
