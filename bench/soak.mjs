#!/usr/bin/env node
/**
 * Soak: steady load on ferry for a long time (default 30 min) while its resident memory is sampled, to show that
 * memory stops growing after warm-up. Load: `ferry bench` at fixed rates on the tabular classifier (HTTP JSON),
 * the image CNN (HTTP binary tensor extension) and the MLP (gRPC) at once, on loopback: every path a request can
 * take (main thread and worker thread, JSON, binary and gRPC). Writes a CSV of the samples and prints a summary.
 *
 *   npm run build && node bench/soak.mjs [--minutes 30] [--sample-seconds 10] [--tabular-rate 1000]
 *     [--image-rate 50] [--grpc-rate 0] [--out bench/results/soak.csv]
 */
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
// Every ferry started here (this build or --alt-ferry-dir's) binds a free management port, not 8082: an older build
// ignores the variable.
process.env.FERRY_MANAGEMENT_PORT ??= '0';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    'sample-seconds': { type: 'string', default: '10' },
    out: { type: 'string', default: join(root, 'bench', 'results', `soak-${new Date().toISOString().slice(0, 10)}.csv`) },
    'tabular-rate': { type: 'string', default: '1000' },
    'image-rate': { type: 'string', default: '50' },
    'grpc-rate': { type: 'string', default: '0' },
  },
});
const minutes = Number(args.minutes);
const sampleMs = Number(args['sample-seconds']) * 1000;

function rssMb(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

// ferry on free ports; the port is read from its log.
const server = spawn(process.execPath, [join(root, 'dist/cli/main.js'), 'serve', join(root, 'examples/models'), '--host', '127.0.0.1', '--http-port', '0', '--grpc-port', '0', '--log-level', 'info'], { stdio: ['ignore', 'pipe', 'inherit'] });
let log = '';
server.stdout.on('data', (c) => (log += c));
const started = Date.now();
while (!/server is ready/.test(log)) {
  if (Date.now() - started > 30_000 || server.exitCode !== null) throw new Error(`ferry did not start:\n${log}`);
  await new Promise((r) => setTimeout(r, 20));
}
const port = /"port":(\d+)/.exec(log)[1];
const url = `http://127.0.0.1:${port}`;

const grpcPort = /"grpcPort":(\d+)/.exec(log)[1];
const seconds = Math.round(minutes * 60);
const bench = (args) => spawn(process.execPath, [join(root, 'dist/cli/main.js'), 'bench', '--url', url, '--duration', String(seconds), '--warmup', '0', '--json', '--metrics-url', 'none', ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
const loads = [
  bench(['--model', 'breast_cancer', '--rate', args['tabular-rate']]),
  bench(['--model', 'image_cnn', '--encoding', 'binary', '--rate', args['image-rate']]),
  ...(Number(args['grpc-rate']) > 0 ? [bench(['--model', 'mlp', '--protocol', 'grpc', '--grpc-url', `127.0.0.1:${grpcPort}`, '--rate', args['grpc-rate']])] : []),
];
const outputs = loads.map((p) => {
  let text = '';
  p.stdout.on('data', (c) => (text += c));
  return new Promise((resolve) => p.on('exit', () => resolve(text)));
});

const samples = [];
const t0 = Date.now();
const timer = setInterval(() => {
  const t = (Date.now() - t0) / 1000;
  const rss = rssMb(server.pid);
  samples.push([t, rss]);
  process.stderr.write(`\r${(t / 60).toFixed(1)} min  RSS ${rss.toFixed(1)} MB   `);
}, sampleMs);
const results = await Promise.all(outputs);
clearInterval(timer);
process.stderr.write('\n');
const metrics = await (await fetch(`${url}/metrics`)).text();
server.kill('SIGTERM');

mkdirSync(dirname(args.out), { recursive: true });
writeFileSync(args.out, `seconds,rss_mb\n${samples.map(([t, r]) => `${t.toFixed(0)},${r.toFixed(1)}`).join('\n')}\n`);

const at = (sec) => samples.reduce((best, s) => (Math.abs(s[0] - sec) < Math.abs(best[0] - sec) ? s : best), samples[0]);
const warm = Math.min(300, seconds / 6);
const afterWarm = samples.filter(([t]) => t >= warm).map(([, r]) => r);
const requests = (name) => [...metrics.matchAll(new RegExp(`ferry_requests_total\\{model="${name}",version="1",outcome="(\\w+)"\\} (\\d+)`, 'g'))].map((m) => `${m[1]}=${m[2]}`).join(' ');
console.log(`# soak: ${minutes} min; ferry bench at fixed rates: breast_cancer HTTP JSON ${args['tabular-rate']}/s, image_cnn HTTP binary ${args['image-rate']}/s, mlp gRPC ${args['grpc-rate']}/s; ${new Date().toISOString()}`);
console.log(`machine: ${execFileSync('nproc').toString().trim()} cores, node ${process.version}`);
console.log('| minute | RSS MB |\n|---|---|');
for (let m = 0; m <= minutes; m += Math.max(1, Math.round(minutes / 15))) console.log(`| ${m} | ${at(m * 60)[1].toFixed(1)} |`);
console.log(`\nafter warm-up (${(warm / 60).toFixed(0)} min): min ${Math.min(...afterWarm).toFixed(1)} MB, max ${Math.max(...afterWarm).toFixed(1)} MB, first ${afterWarm[0]?.toFixed(1)} MB, last ${afterWarm.at(-1)?.toFixed(1)} MB`);
console.log(`requests: breast_cancer ${requests('breast_cancer')}; image_cnn ${requests('image_cnn')}`);
for (const r of results) {
  try {
    const report = JSON.parse(r);
    for (const level of report.levels) console.log(`${report.model} ${report.protocol}: ${level.requests} requests, ${level.throughput.requestsPerS.toFixed(0)} req/s, p50 ${level.latencyMs.p50.toFixed(2)} ms, p99 ${level.latencyMs.p99.toFixed(2)} ms, errors ${level.errors}`);
  } catch {
    console.log(`a load generator did not report: ${r.slice(0, 200)}`);
  }
}
console.log(`samples: ${args.out}`);
