#!/usr/bin/env node
/**
 * What system shared memory saves for the image CNN (FP32 [1,3,128,128], 196,608 bytes in, 40 bytes out), against
 * binary HTTP, both from a local client on this machine (issue 18):
 *
 * - binary: the image as raw bytes after a JSON header (Inference-Header-Content-Length), the logits back raw;
 * - shm:    the client writes the image into its slot of a /dev/shm region and posts only the JSON header naming it;
 *           ferry reads it there and writes the logits into an output region, which the client reads back.
 *
 * One ferry (--allow-client-shm) serves both; the modes alternate round by round (--rounds), each for --seconds at
 * each concurrency, on keep-alive connections. Reported: requests/s, latency p50/p99, and ferry's CPU per request
 * (utime+stime of its process from /proc), which is where the copies and parsing it skips show.
 *
 *   node bench/shared-memory.mjs [--rounds 3] [--seconds 8] [--concurrency 1,4] [--batch 1] [--ferry-dir .]
 *
 * --batch N sends N images per request ([N,3,128,128]): the bigger the tensors, the more the socket costs.
 *
 * The client is Node, which has no mmap: it fills and reads the regions with pwrite/pread on the /dev/shm file (a
 * C or Python client maps them and copies with memcpy, which costs it less still).
 */
import { closeSync, cpSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startServer } from './lib/servers.mjs';
import { freePort, machineInfo, stopAll } from './lib/procs.mjs';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '8' },
    concurrency: { type: 'string', default: '1,4' },
    batch: { type: 'string', default: '1' },
    'ferry-dir': { type: 'string', default: '.' },
  },
});
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const concurrencies = values.concurrency.split(',').map(Number);
const ferryDir = resolve(values['ferry-dir']);

const BATCH = Number(values.batch);
const IMAGE_BYTES = BATCH * 3 * 128 * 128 * 4;
const OUT_BYTES = BATCH * 40;
const SHAPE = [BATCH, 3, 128, 128];
const SLOTS = Math.max(...concurrencies);
const TAG = `ferry-bench-${process.pid}`;

const repo = mkdtempSync(join(tmpdir(), 'ferry-shm-bench-'));
cpSync(join(ferryDir, 'examples/models/image_cnn'), join(repo, 'image_cnn'), { recursive: true });
const image = new Float32Array(IMAGE_BYTES / 4).map((_, i) => ((i * 7919) % 1000) / 1000);
const imageBytes = new Uint8Array(image.buffer);

const management = await freePort();
const server = await startServer('ferry', { ferryDir, repo }, { repo, extraArgs: ['--allow-client-shm', '--management-port', String(management)] });
const agent = new http.Agent({ keepAlive: true, maxSockets: SLOTS });

function post(path, body, headers = {}) {
  return new Promise((resolvePost, reject) => {
    const req = http.request(`${server.url}${path}`, { method: 'POST', agent, headers: { 'Content-Length': body.length, ...headers } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => (res.statusCode === 200 ? resolvePost(Buffer.concat(chunks)) : reject(new Error(`${res.statusCode} ${Buffer.concat(chunks)}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

// The regions: one slot per concurrent client loop in each.
const inFile = `/dev/shm/${TAG}-in`;
const outFile = `/dev/shm/${TAG}-out`;
writeFileSync(inFile, new Uint8Array(IMAGE_BYTES * SLOTS));
writeFileSync(outFile, new Uint8Array(OUT_BYTES * SLOTS));
const inFd = openSync(inFile, 'r+');
const outFd = openSync(outFile, 'r+');
await post('/v2/systemsharedmemory/region/bench_in/register', Buffer.from(JSON.stringify({ key: `/${TAG}-in`, byte_size: IMAGE_BYTES * SLOTS })));
await post('/v2/systemsharedmemory/region/bench_out/register', Buffer.from(JSON.stringify({ key: `/${TAG}-out`, byte_size: OUT_BYTES * SLOTS })));

const binaryHeader = Buffer.from(JSON.stringify({
  inputs: [{ name: 'image', datatype: 'FP32', shape: SHAPE, parameters: { binary_data_size: IMAGE_BYTES } }],
  outputs: [{ name: 'logits', parameters: { binary_data: true } }],
}));
const binaryBody = Buffer.concat([binaryHeader, imageBytes]);
const shmBodies = Array.from({ length: SLOTS }, (_, slot) => Buffer.from(JSON.stringify({
  inputs: [{ name: 'image', datatype: 'FP32', shape: SHAPE, parameters: { shared_memory_region: 'bench_in', shared_memory_offset: slot * IMAGE_BYTES, shared_memory_byte_size: IMAGE_BYTES } }],
  outputs: [{ name: 'logits', parameters: { shared_memory_region: 'bench_out', shared_memory_offset: slot * OUT_BYTES, shared_memory_byte_size: OUT_BYTES } }],
})));

/** One request in each mode; each returns the logits, so both modes do the client's whole job. */
const MODES = {
  binary: async () => {
    const answer = await post('/v2/models/image_cnn/infer', binaryBody, { 'Inference-Header-Content-Length': binaryHeader.length });
    return new Float32Array(answer.buffer.slice(answer.byteOffset + answer.length - OUT_BYTES, answer.byteOffset + answer.length));
  },
  shm: async (slot) => {
    writeSync(inFd, imageBytes, 0, IMAGE_BYTES, slot * IMAGE_BYTES);
    await post('/v2/models/image_cnn/infer', shmBodies[slot]);
    const logits = new Float32Array(OUT_BYTES / 4);
    readSync(outFd, new Uint8Array(logits.buffer), 0, OUT_BYTES, slot * OUT_BYTES);
    return logits;
  },
};

function cpuTicks(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks (1/100 s)
}

async function measure(mode, concurrency, durationS) {
  const latencies = [];
  const end = performance.now() + durationS * 1000;
  const ticks = cpuTicks(server.proc.pid);
  await Promise.all(Array.from({ length: concurrency }, async (_, slot) => {
    while (performance.now() < end) {
      const t0 = performance.now();
      const logits = await MODES[mode](slot);
      latencies.push(performance.now() - t0);
      if (!(Math.abs(logits[0]) < 100)) throw new Error(`${mode}: implausible logits ${logits}`);
    }
  }));
  const cpuMs = (cpuTicks(server.proc.pid) - ticks) * 10;
  latencies.sort((a, b) => a - b);
  const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  return { rps: latencies.length / durationS, p50: q(0.5), p99: q(0.99), cpuUsPerReq: (cpuMs * 1000) / latencies.length };
}

// The two modes must answer the same logits.
const [a, b] = [await MODES.binary(0), await MODES.shm(0)];
for (let i = 0; i < a.length; i++) if (Math.abs(a[i] - b[i]) > 1e-6) throw new Error(`binary and shm answers differ at ${i}: ${a[i]} vs ${b[i]}`);

const info = machineInfo();
console.log(`# image_cnn, ${BATCH} image(s) per request (${IMAGE_BYTES} bytes), through system shared memory vs binary HTTP; ${info.cpus} x ${info.cpuModel}, Node ${process.version}`);
console.log(`# ${rounds} rounds x ${seconds} s per mode and concurrency, modes alternating; ferry: ${server.command} --allow-client-shm`);
const results = {};
for (const c of concurrencies) for (const mode of Object.keys(MODES)) await measure(mode, c, 1); // warm up
for (let r = 0; r < rounds; r++) {
  for (const c of concurrencies) {
    for (const mode of r % 2 === 0 ? ['binary', 'shm'] : ['shm', 'binary']) {
      const m = await measure(mode, c, seconds);
      (results[`${c}/${mode}`] ??= []).push(m);
      console.log(`round ${r + 1} concurrency ${c} ${mode.padEnd(6)} ${m.rps.toFixed(0).padStart(6)} req/s  p50 ${m.p50.toFixed(2)} ms  p99 ${m.p99.toFixed(2)} ms  ferry CPU ${m.cpuUsPerReq.toFixed(0)} us/req`);
    }
  }
}

const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
console.log('\n| concurrency | mode | req/s (median) | p50 ms | p99 ms | ferry CPU us/req | shm / binary req/s |');
console.log('|---|---|---|---|---|---|---|');
for (const c of concurrencies) {
  const ratios = results[`${c}/shm`].map((m, i) => m.rps / results[`${c}/binary`][i].rps);
  for (const mode of Object.keys(MODES)) {
    const ms = results[`${c}/${mode}`];
    const ratio = mode === 'shm' ? `${median(ratios).toFixed(3)} (rounds: ${ratios.map((x) => x.toFixed(3)).join(', ')})` : '';
    console.log(`| ${c} | ${mode} | ${median(ms.map((m) => m.rps)).toFixed(0)} | ${median(ms.map((m) => m.p50)).toFixed(2)} | ${median(ms.map((m) => m.p99)).toFixed(2)} | ${median(ms.map((m) => m.cpuUsPerReq)).toFixed(0)} | ${ratio} |`);
  }
}

agent.destroy();
closeSync(inFd);
closeSync(outFd);
rmSync(inFile, { force: true });
rmSync(outFile, { force: true });
await server.stop();
await stopAll();
rmSync(repo, { recursive: true, force: true });
