#!/usr/bin/env node
/**
 * Memory across model reloads (issue 12's target; Triton and TorchServe users report growth here): ferry serves the
 * image CNN under explicit model control, and the management API loads and unloads it --cycles times, a few
 * requests after each load. The ferry process's resident memory (VmRSS, its child processes included) is read after
 * each unload, once it has settled; the report gives the curve and the last reading against the first.
 *
 *   node bench/reload-cycles.mjs [--cycles 100] [--execution main,thread,process] [--out FILE]
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
    execution: { type: 'string', default: 'main,thread,process' },
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
  const args = [join(root, 'dist/cli/main.js'), 'serve', repo, '--host', '127.0.0.1', '--http-port', String(port), '--grpc-port', String(await freePort()),
    '--management-port', String(mport), '--model-control-mode', 'explicit', '--log-level', 'warn'];
  const ferry = new Proc('ferry', process.execPath, args);
  ferry.child.stdin.end();
  await ferry.waitForOutput(/server is ready/, 60_000).catch(() => undefined);
  await sleep(500);
  const mgmt = `http://127.0.0.1:${mport}/v2/repository/models/cnn`;
  const readings = [];
  const started = performance.now();
  for (let c = 1; c <= CYCLES; c++) {
    const load = await request(`${mgmt}/load`, { method: 'POST', timeoutMs: 60_000 });
    if (load.status !== 200) throw new Error(`load ${c}: ${load.status} ${load.body}`);
    for (let i = 0; i < 5; i++) {
      const r = await request(`http://127.0.0.1:${port}/v2/models/cnn/infer`, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) } });
      if (r.status !== 200) throw new Error(`infer after load ${c}: ${r.status} ${r.body}`);
    }
    const unload = await request(`${mgmt}/unload`, { method: 'POST', timeoutMs: 60_000 });
    if (unload.status !== 200) throw new Error(`unload ${c}: ${unload.status} ${unload.body}`);
    await sleep(50);
    readings.push(Math.round(memoryMb(ferry.pid).rssMb * 10) / 10);
    if (c % 10 === 0) process.stderr.write(`${execution}: ${c} cycles, RSS ${readings.at(-1)} MB\n`);
  }
  const seconds = (performance.now() - started) / 1000;
  await ferry.stop();
  const first = readings[0];
  const last = readings.at(-1);
  const curve = readings.filter((_, i) => i === 0 || (i + 1) % 10 === 0);
  const result = { execution, cycles: CYCLES, rssAfterFirstMb: first, rssAfterLastMb: last, ratio: last / first, peakMb: Math.max(...readings), curveEvery10: curve, seconds: Math.round(seconds), command: `node ${args.join(' ').replace(root + '/', '')}` };
  process.stdout.write(`| ${execution} | ${CYCLES} | ${first} | ${last} | **${result.ratio.toFixed(3)}x** | ${result.peakMb} | ${curve.join(', ')} |\n`);
  return result;
}

const m = machineInfo();
process.stdout.write(`reload cycles of the image CNN: ${CYCLES} x (load, 5 requests, unload), RSS after each unload; ${m.cpuModel}, ${m.cpus} CPUs, Node ${process.version}\n\n`);
process.stdout.write('| execution | cycles | RSS after cycle 1 (MB) | after the last | last / first | peak | curve (cycle 1, 10, 20, ...) |\n|---|---|---|---|---|---|---|\n');
const results = [];
try {
  for (const e of o.execution.split(',')) results.push(await run(e));
} finally {
  await stopAll();
  rmSync(work, { recursive: true, force: true });
}
const out = o.out ?? join(root, 'bench', 'results', `reload-cycles-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}.json`);
writeFileSync(out, `${JSON.stringify({ machine: m, node: process.version, results }, null, 1)}\n`);
process.stdout.write(`\nraw results: ${out.replace(root + '/', '')}\n`);
