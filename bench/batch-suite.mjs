#!/usr/bin/env node
/**
 * `ferry batch` end to end against numpy + scikit-learn doing the same job, in one invocation on one machine.
 * Run it through bench/batch.sh (builds ferry, checks Python). Scenarios, in this order:
 *
 *   e2e      the breast_cancer classifier over a CSV of id + 30 floats (1,000,000 rows, about 277 MB), read -> score
 *            -> write, REPS times, alternating (the order rotates each rep): ferry to JSON Lines and to Parquet,
 *            each with CSV parsing on the main thread and in a worker thread (--parse-thread), and
 *            bench/batch_sklearn.py (np.loadtxt, Pipeline.predict_proba, np.savetxt). Rows in and out are counted
 *            in every run (the summaries, and the output files themselves); a sample of rows is checked to agree
 *            between ferry and scikit-learn. Medians of rows/s and their ratios to scikit-learn.
 *   scoring  ferry's scoring loop (scorer.score, what the job calls) against a bare onnxruntime-node session.run
 *            loop over the same pre-parsed batches (bench/batch-scoring.mjs).
 *   memory   peak resident memory (VmHWM, through /usr/bin/time -f %M) of ferry scoring a 5,000,000-row file to
 *            JSON Lines and to Parquet, rows counted.
 *
 *   node bench/batch-suite.mjs [e2e] [scoring] [memory] [--reps N] [--rows N] [--big-rows N] [--data DIR] ...
 * Input files are generated once, deterministically (seeded), under --data (default $TMPDIR/ferry-batch-bench),
 * never committed. Results: bench/results/batch-<UTC date>.md and .json.
 */
import { spawn, execFileSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';

const ROOT = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const SCENARIOS = ['e2e', 'scoring', 'memory'];
const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    reps: { type: 'string', default: '5' },
    rows: { type: 'string', default: '1000000' },
    'big-rows': { type: 'string', default: '5000000' },
    'batch-size': { type: 'string', default: '4096' },
    seed: { type: 'string', default: '42' },
    data: { type: 'string', default: join(tmpdir(), 'ferry-batch-bench') },
    python: { type: 'string', default: '/usr/bin/python3' },
    out: { type: 'string', default: join(ROOT, 'bench/results') },
    variants: { type: 'string', default: 'jsonl-main,jsonl-worker,parquet-main,parquet-worker,sklearn' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (flags.help) {
  process.stdout.write(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0]);
  process.exit(0);
}
const scenarios = positionals.length === 0 || positionals.includes('all') ? SCENARIOS : positionals;
for (const s of scenarios) if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario ${s}; one of ${SCENARIOS.join(', ')}`);
const REPS = Number(flags.reps);
const ROWS = Number(flags.rows);
const BIG_ROWS = Number(flags['big-rows']);
const BATCH = flags['batch-size'];
const PY = flags.python;
const DATA = flags.data;
mkdirSync(DATA, { recursive: true });

const log = (line) => process.stderr.write(`batch-bench: ${line}\n`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const fmt = (n) => Math.round(n).toLocaleString('en-US');

/** Runs a command; resolves with its stdout, stderr, wall seconds and (through /usr/bin/time) peak RSS in MB. */
function run(cmd, args, { peakRss = false } = {}) {
  const timed = peakRss && existsSync('/usr/bin/time');
  const [c, a] = timed ? ['/usr/bin/time', ['-f', 'BENCH_MAXRSS_KB=%M', cmd, ...args]] : [cmd, args];
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(c, a, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      const wall = (performance.now() - t0) / 1000;
      if (code !== 0) return reject(new Error(`${cmd} ${args.join(' ')} exited ${code}:\n${stderr.slice(-2000)}`));
      const kb = /BENCH_MAXRSS_KB=(\d+)/.exec(stderr)?.[1];
      resolve({ stdout, stderr, wall, peakRssMb: kb ? Number(kb) / 1024 : undefined });
    });
  });
}

async function input(rows) {
  const file = join(DATA, `rows-${rows}-seed${flags.seed}.csv`);
  if (!existsSync(file)) {
    log(`generating ${file} (${fmt(rows)} rows, seed ${flags.seed})`);
    await run(PY, ['bench/batch_sklearn.py', 'generate', String(rows), file, flags.seed]);
  }
  return file;
}

/** Newlines in a file: the rows of a JSON Lines file, the rows + header of a CSV file. */
function countLines(file) {
  return new Promise((resolve, reject) => {
    let n = 0;
    createReadStream(file, { highWaterMark: 1 << 20 })
      .on('data', (buf) => {
        for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) n++;
      })
      .on('end', () => resolve(n))
      .on('error', reject);
  });
}

async function parquetRows(file) {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    const r = await conn.runAndReadAll(`SELECT count(*) FROM read_parquet('${file.replace(/'/g, "''")}')`);
    return Number(r.getRows()[0][0]);
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

/** One ferry batch job; returns rows/s from its summary and the rows counted in its output. */
async function ferryJob(csv, format, thread, expectRows, opts = {}) {
  const out = join(DATA, `out-ferry.${format}`);
  rmSync(out, { force: true });
  const r = await run(process.execPath, ['dist/cli/main.js', 'batch', 'breast_cancer', '--models', 'examples/models', '--input', csv, '--output', out,
    '--id-column', 'id', '--batch-size', BATCH, '--parse-thread', thread, '--json'], opts);
  const s = JSON.parse(r.stdout.trim().split('\n').at(-1));
  const rowsOut = format === 'jsonl' ? await countLines(out) : await parquetRows(out);
  if (s.consumed !== expectRows || s.scored !== expectRows || s.rejected !== 0 || rowsOut !== expectRows) {
    throw new Error(`ferry ${format}/${thread}: ${expectRows} rows in the input, summary says consumed ${s.consumed} scored ${s.scored} rejected ${s.rejected}, output holds ${rowsOut}`);
  }
  return { seconds: s.seconds, rowsPerS: expectRows / s.seconds, wall: r.wall, peakRssMb: r.peakRssMb, rowsIn: s.consumed, rowsOut, out };
}

async function sklearnJob(csv, expectRows) {
  const out = join(DATA, 'out-sklearn.csv');
  const r = await run(PY, ['bench/batch_sklearn.py', 'score', csv, out]);
  const s = JSON.parse(r.stdout.trim().split('\n').at(-1));
  if (s.rows_in !== expectRows || s.rows_out !== expectRows) throw new Error(`sklearn: ${expectRows} rows in the input, read ${s.rows_in}, wrote ${s.rows_out}`);
  return { seconds: s.seconds, rowsPerS: expectRows / s.seconds, wall: r.wall, rowsIn: s.rows_in, rowsOut: s.rows_out, phases: { read: s.read_s, score: s.score_s, write: s.write_s }, out };
}

/** Every 997th row of ferry's JSON Lines output against the same id in scikit-learn's CSV: label equal, probabilities within 1e-5. */
async function agreement(ferryJsonl, sklearnCsv) {
  const want = new Map();
  let i = 0;
  for await (const line of createInterface({ input: createReadStream(ferryJsonl) })) {
    if (i++ % 997 === 0) want.set(String(JSON.parse(line).id), JSON.parse(line));
  }
  let checked = 0;
  let maxDiff = 0;
  let first = true;
  for await (const line of createInterface({ input: createReadStream(sklearnCsv) })) {
    if (first) {
      first = false;
      continue;
    }
    const [id, label, p0, p1] = line.split(',');
    const f = want.get(String(Number(id)));
    if (!f) continue;
    checked++;
    if (Number(f.output_label) !== Number(label)) throw new Error(`row ${id}: ferry label ${f.output_label}, scikit-learn ${label}`);
    maxDiff = Math.max(maxDiff, Math.abs(f.output_probability[0] - Number(p0)), Math.abs(f.output_probability[1] - Number(p1)));
  }
  if (checked !== want.size) throw new Error(`agreement: ${want.size} sampled rows, ${checked} found in scikit-learn's output`);
  if (maxDiff > 1e-5) throw new Error(`agreement: probabilities differ by up to ${maxDiff}`);
  return { rowsChecked: checked, maxProbabilityDiff: maxDiff };
}

const results = { date: new Date().toISOString(), machine: machine(), flags, scenarios: {} };

function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  let numpy = '';
  try {
    numpy = execFileSync(PY, ['-c', 'import numpy, sklearn, sys; print(f"Python {sys.version.split()[0]}, numpy {numpy.__version__}, scikit-learn {sklearn.__version__}")'], { encoding: 'utf8' }).trim();
  } catch {
    numpy = 'unknown';
  }
  return {
    nproc: Number(execFileSync('nproc', { encoding: 'utf8' }).trim()),
    cpuModel: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? 'unknown',
    node: process.version,
    python: numpy,
    commit: (() => {
      try {
        return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
      } catch {
        return 'unknown';
      }
    })(),
  };
}

const VARIANTS = {
  'jsonl-main': (csv, n, o) => ferryJob(csv, 'jsonl', 'main', n, o),
  'jsonl-worker': (csv, n, o) => ferryJob(csv, 'jsonl', 'worker', n, o),
  'parquet-main': (csv, n, o) => ferryJob(csv, 'parquet', 'main', n, o),
  'parquet-worker': (csv, n, o) => ferryJob(csv, 'parquet', 'worker', n, o),
  sklearn: (csv, n) => sklearnJob(csv, n),
};

async function e2e() {
  const csv = await input(ROWS);
  const names = flags.variants.split(',');
  for (const n of names) if (!VARIANTS[n]) throw new Error(`unknown variant ${n}`);
  const runs = Object.fromEntries(names.map((n) => [n, []]));
  const loads = [];
  let agreed;
  for (let rep = 0; rep < REPS; rep++) {
    const order = names.map((_, i) => names[(i + rep) % names.length]);
    for (const name of order) {
      loads.push(loadavg());
      const r = await VARIANTS[name](csv, ROWS);
      runs[name].push(r);
      log(`e2e rep ${rep + 1}/${REPS} ${name}: ${fmt(r.rowsPerS)} rows/s (${r.seconds.toFixed(2)} s, process ${r.wall.toFixed(2)} s), rows in ${fmt(r.rowsIn)} out ${fmt(r.rowsOut)}`);
    }
    if (!agreed && runs['jsonl-main']?.length && runs.sklearn?.length) {
      agreed = await agreement(runs['jsonl-main'].at(-1).out, runs.sklearn.at(-1).out);
      log(`agreement: ${agreed.rowsChecked} sampled rows, same labels, probabilities within ${agreed.maxProbabilityDiff.toExponential(2)}`);
    }
  }
  const summary = {};
  for (const name of names) {
    const rs = runs[name];
    summary[name] = {
      medianRowsPerS: median(rs.map((r) => r.rowsPerS)),
      medianSeconds: median(rs.map((r) => r.seconds)),
      medianProcessSeconds: median(rs.map((r) => r.wall)),
      rowsPerS: rs.map((r) => r.rowsPerS),
      rowsIn: rs.map((r) => r.rowsIn),
      rowsOut: rs.map((r) => r.rowsOut),
      ...(rs[0].phases ? { medianPhases: Object.fromEntries(Object.keys(rs[0].phases).map((k) => [k, median(rs.map((r) => r.phases[k]))])) } : {}),
    };
  }
  // Ratios per rep (each ferry run against the scikit-learn run of the same rep), then their median.
  if (summary.sklearn) {
    for (const name of names.filter((n) => n !== 'sklearn')) {
      const per = runs[name].map((r, i) => r.rowsPerS / runs.sklearn[i].rowsPerS);
      summary[name].ratioToSklearn = { median: median(per), perRep: per, ofMedians: summary[name].medianRowsPerS / summary.sklearn.medianRowsPerS };
    }
  }
  for (const fmtName of ['jsonl', 'parquet']) {
    const m = runs[`${fmtName}-main`];
    const w = runs[`${fmtName}-worker`];
    if (m && w) summary[`${fmtName}-worker`].ratioToMain = { median: median(w.map((r, i) => r.rowsPerS / m[i].rowsPerS)) };
  }
  results.scenarios.e2e = { csv, rows: ROWS, reps: REPS, batchSize: Number(BATCH), agreement: agreed, loadavgBeforeRuns: loads, summary };
  for (const f of ['out-ferry.jsonl', 'out-ferry.parquet', 'out-sklearn.csv']) rmSync(join(DATA, f), { force: true });
}

async function scoring() {
  const csv = await input(ROWS);
  const r = await run(process.execPath, ['bench/batch-scoring.mjs', csv, String(ROWS), BATCH, String(Math.max(REPS, 9)), '3']);
  const s = JSON.parse(r.stdout.trim());
  log(`scoring loop: ferry ${fmt(s.ferryRowsPerS)} rows/s, bare session.run ${fmt(s.bareRowsPerS)} rows/s, ratio of medians ${s.ratioMedian.toFixed(2)}, median per-rep ratio ${s.ratioPerRepMedian.toFixed(2)}`);
  results.scenarios.scoring = s;
}

async function memory() {
  const csv = await input(BIG_ROWS);
  const out = {};
  for (const [format, thread] of [['jsonl', 'main'], ['parquet', 'main'], ['jsonl', 'worker']]) {
    const r = await ferryJob(csv, format, thread, BIG_ROWS, { peakRss: true });
    log(`memory ${format}/${thread}: ${fmt(BIG_ROWS)} rows, peak RSS ${r.peakRssMb?.toFixed(0)} MB, ${fmt(r.rowsPerS)} rows/s, rows out ${fmt(r.rowsOut)}`);
    out[`${format}-${thread}`] = { peakRssMb: r.peakRssMb, rowsPerS: r.rowsPerS, rowsIn: r.rowsIn, rowsOut: r.rowsOut };
    rmSync(r.out, { force: true });
  }
  results.scenarios.memory = { csv, rows: BIG_ROWS, runs: out };
}

log(`machine: ${JSON.stringify(results.machine)}; load average ${loadavg()}`);
for (const s of scenarios) await { e2e, scoring, memory }[s]();
results.loadavgAtEnd = loadavg();

mkdirSync(flags.out, { recursive: true });
const stamp = results.date.replace(/:/g, '-').replace(/\.\d+Z$/, '');
const base = join(flags.out, `batch-${stamp}`);
writeFileSync(`${base}.json`, `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(`${base}.md`, markdown(results));
process.stdout.write(markdown(results));
log(`results: ${base}.md, ${base}.json`);

function markdown(r) {
  const m = r.machine;
  const lines = [`# ferry batch benchmark, ${r.date}`, '', `Machine: ${m.nproc} CPUs (nproc), ${m.cpuModel}, Node ${m.node}, ${m.python}, ferry at ${m.commit}. Load average at the end: ${r.loadavgAtEnd}.`, ''];
  const e = r.scenarios.e2e;
  if (e) {
    lines.push(`## End to end: ${fmt(e.rows)} rows (id + 30 floats) CSV -> results, median of ${e.reps} alternating reps, batch ${e.batchSize}`, '');
    lines.push('| job | rows/s (median) | job s | process s | x scikit-learn (median of per-rep ratios) | rows in / out (every run) |', '|---|---:|---:|---:|---:|---|');
    const label = {
      'jsonl-main': 'ferry CSV -> JSON Lines, --parse-thread main',
      'jsonl-worker': 'ferry CSV -> JSON Lines, --parse-thread worker (what the default, auto, picks here)',
      'parquet-main': 'ferry CSV -> Parquet, --parse-thread main (the default for Parquet)',
      'parquet-worker': 'ferry CSV -> Parquet, --parse-thread worker',
      sklearn: 'numpy + scikit-learn (loadtxt, predict_proba, savetxt)',
    };
    for (const [name, s] of Object.entries(e.summary)) {
      const same = s.rowsIn.every((x) => x === e.rows) && s.rowsOut.every((x) => x === e.rows);
      lines.push(`| ${label[name] ?? name} | ${fmt(s.medianRowsPerS)} | ${s.medianSeconds.toFixed(2)} | ${s.medianProcessSeconds.toFixed(2)} | ${s.ratioToSklearn ? `${s.ratioToSklearn.median.toFixed(2)}x (${s.ratioToSklearn.perRep.map((x) => x.toFixed(2)).join(', ')})` : '1.00x'} | ${same ? `${fmt(e.rows)} / ${fmt(e.rows)}` : 'MISMATCH'} |`);
    }
    const sk = e.summary.sklearn?.medianPhases;
    if (sk) lines.push('', `scikit-learn phases (median s): read ${sk.read.toFixed(2)}, score ${sk.score.toFixed(2)}, write ${sk.write.toFixed(2)}.`);
    for (const f of ['jsonl', 'parquet']) if (e.summary[`${f}-worker`]?.ratioToMain) lines.push(`${f}: parsing in a worker thread vs on the main thread, median per-rep ratio ${e.summary[`${f}-worker`].ratioToMain.median.toFixed(2)}x.`);
    if (e.agreement) lines.push(`Agreement: ${e.agreement.rowsChecked} sampled rows, same labels, probabilities within ${e.agreement.maxProbabilityDiff.toExponential(1)}.`);
    lines.push('');
  }
  const s = r.scenarios.scoring;
  if (s) {
    lines.push(`## Scoring loop: ${fmt(s.rows)} pre-parsed rows, ${s.batches} batches of ${s.batchSize}, ${s.reps} alternating reps of ${s.passes} passes`, '');
    lines.push('| loop | rows/s |', '|---|---:|', `| ferry scorer.score (data plane, batcher, runtime) | ${fmt(s.ferryRowsPerS)} |`, `| bare onnxruntime-node session.run | ${fmt(s.bareRowsPerS)} |`, `| ratio | ${s.ratioMedian.toFixed(2)}x of the medians; median per-rep ratio ${s.ratioPerRepMedian.toFixed(2)}x (${s.ratioPerRep.map((x) => x.toFixed(2)).join(', ')}) |`, '');
  }
  const mem = r.scenarios.memory;
  if (mem) {
    lines.push(`## Memory: ${fmt(mem.rows)} rows, peak resident memory (VmHWM)`, '', '| job | peak RSS MB | rows/s | rows in / out |', '|---|---:|---:|---|');
    for (const [k, v] of Object.entries(mem.runs)) lines.push(`| ferry CSV -> ${k.replace('-', ', parse on ')} | ${v.peakRssMb?.toFixed(0) ?? '?'} | ${fmt(v.rowsPerS)} | ${fmt(v.rowsIn)} / ${fmt(v.rowsOut)} |`);
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}
