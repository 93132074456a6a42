#!/usr/bin/env node
/**
 * Memory across model reloads (issue 12's target; Triton and TorchServe users report growth here): ferry serves the
 * image CNN under explicit model control, and the management API loads and unloads it --cycles times, a few
 * requests after each load. The ferry process's resident memory (VmRSS, its child processes included) is read after
 * each unload, once it has settled; the report gives the curve and the last reading against the first.
 * Before the cycles, one load serves --warmup-requests requests and is unloaded, uncounted: V8's heap grows to its
 * working size with traffic, not with reloads (measured: heap used flat at 12-13 MB over 100 cycles, heap total
 * 21 -> 31 MB over the first 30 when they start cold), and a server whose models are reloaded has served before.
 *
 *   node bench/reload-cycles.mjs [--cycles 100] [--warmup-requests 500] [--execution main,thread,process] [--start bin|node] [--out FILE]
 * --start node runs `node dist/cli/main.js` with MALLOC_MMAP_THRESHOLD_ unset, to show what the threshold is for.
 * Needs a built ferry (npm run build).
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Proc, freePort, killAllNow, machineInfo, memoryMb, request, sleep, stopAll } from './lib/procs.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: o } = parseArgs({
  options: {
    cycles: { type: 'string', default: '100' },
    'warmup-requests': { type: 'string', default: '500' },
    execution: { type: 'string', default: 'main,thread,process' },
    /** bin: started as users start it (bin/ferry fixes glibc's mmap threshold); node: node dist/cli/main.js without it. */
    start: { type: 'string', default: 'bin' },
    out: { type: 'string' },
  },
});
const CYCLES = Number(o.cycles);
const work = mkdtempSync(join(tmpdir(), 'ferry-reload-'));
process.on('SIGINT', () => {
  killAllNow();
  process.exit(130);
});

const n = 3 * 128 * 128;
const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 3, 128, 128], parameters: { binary_data_size: n * 4 } }] }));
const body = Buffer.concat([header, Buffer.from(new Float32Array(n).fill(0.5).buffer)]);

async function run(execution) {
  const repo = join(work, execution);
  cpSync(join(root, 'examples/models/image_cnn/1'), join(repo, 'cnn', '1'), { recursive: true });
  writeFileSync(join(repo, 'cnn', 'config.yaml'), `execution: ${execution}\n`);
  const mport = await freePort();
  const port = await freePort();
  const args = ['serve', repo, '--host', '127.0.0.1', '--http-port', String(port), '--grpc-port', String(await freePort()),
    '--management-port', String(mport), '--model-control-mode', 'explicit', '--log-level', 'warn'];
  const { MALLOC_MMAP_THRESHOLD_: _, ...plainEnv } = process.env;
  const ferry = o.start === 'bin'
    ? new Proc('ferry', join(root, 'bin/ferry'), args)
    : new Proc('ferry', process.execPath, [join(root, 'dist/cli/main.js'), ...args], { env: plainEnv });
  ferry.child.stdin.end();
  await ferry.waitForOutput(/server is ready/, 60_000).catch(() => undefined);
  await sleep(500);
  const mgmt = `http://127.0.0.1:${mport}/v2/repository/models/cnn`;
  const readings = [];
  const cycle = async (c, requests) => {
    const load = await request(`${mgmt}/load`, { method: 'POST', timeoutMs: 60_000 });
    if (load.status !== 200) throw new Error(`load ${c}: ${load.status} ${load.body}`);
    for (let i = 0; i < requests; i++) {
      const r = await request(`http://127.0.0.1:${port}/v2/models/cnn/infer`, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) } });
      if (r.status !== 200) throw new Error(`infer after load ${c}: ${r.status} ${r.body}`);
    }
    const unload = await request(`${mgmt}/unload`, { method: 'POST', timeoutMs: 60_000 });
    if (unload.status !== 200) throw new Error(`unload ${c}: ${unload.status} ${unload.body}`);
  };
  const warm = Number(o['warmup-requests']);
  if (warm > 0) await cycle(0, warm);
  const started = performance.now();
  for (let c = 1; c <= CYCLES; c++) {
    await cycle(c, 5);
    await sleep(50);
    readings.push(Math.round(memoryMb(ferry.pid).rssMb * 10) / 10);
    if (c % 10 === 0) process.stderr.write(`${execution}: ${c} cycles, RSS ${readings.at(-1)} MB\n`);
  }
  const seconds = (performance.now() - started) / 1000;
  await ferry.stop();
  const first = readings[0];
  const last = readings.at(-1);
  const curve = readings.filter((_, i) => i === 0 || (i + 1) % 10 === 0);
  const result = { execution, cycles: CYCLES, rssAfterFirstMb: first, rssAfterLastMb: last, ratio: last / first, peakMb: Math.max(...readings), curveEvery10: curve, seconds: Math.round(seconds), command: `${o.start === 'bin' ? 'bin/ferry' : 'node dist/cli/main.js'} ${args.join(' ')}` };
  process.stdout.write(`| ${execution} | ${CYCLES} | ${first} | ${last} | **${result.ratio.toFixed(3)}x** | ${result.peakMb} | ${curve.join(', ')} |\n`);
  return result;
}

const m = machineInfo();
process.stdout.write(`reload cycles of the image CNN: ${CYCLES} x (load, 5 requests, unload) after an uncounted one with ${o['warmup-requests']} requests, RSS after each unload; started with ${o.start === 'bin' ? 'bin/ferry' : 'node dist/cli/main.js, MALLOC_MMAP_THRESHOLD_ unset'}; ${m.cpuModel}, ${m.cpus} CPUs, Node ${process.version}\n\n`);
process.stdout.write('| execution | cycles | RSS after cycle 1 (MB) | after the last | last / first | peak | curve (cycle 1, 10, 20, ...) |\n|---|---|---|---|---|---|---|\n');
const results = [];
try {
  for (const e of o.execution.split(',')) results.push(await run(e));
} finally {
  await stopAll();
  rmSync(work, { recursive: true, force: true });
}
const out = o.out ?? join(root, 'bench', 'results', `reload-cycles-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}.json`);
writeFileSync(out, `${JSON.stringify({ machine: m, node: process.version, options: o, results }, null, 1)}\n`);
process.stdout.write(`\nraw results: ${out.replace(root + '/', '')}\n`);
