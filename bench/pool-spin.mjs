#!/usr/bin/env node
/**
 * What onnxruntime's pool spinning costs and buys: one CNN run every GAP ms for a few seconds, with the pool threads
 * spinning as onnxruntime does by default, never spinning, or spinning at most N microseconds
 * (`session.intra_op.spin_duration_us`, ferry's default 100). Prints the mean run time and the CPU a run costs.
 *
 *   node bench/pool-spin.mjs MODEL.onnx IMAGE.bin [GAP_MS=10] [SECONDS=3] [MODES=spin,off,100,1000]
 * IMAGE.bin: 3*128*128 little-endian float32 (bench/suite.mjs writes one as WORK/image.bin).
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';

const [file, imageFile, gapArg = '10', secondsArg = '3', modesArg = 'spin,off,100,1000'] = process.argv.slice(2);
const image = new Float32Array(new Uint8Array(readFileSync(imageFile)).buffer);

for (const mode of modesArg.split(',')) {
  const spin = mode === 'off' ? { allow_spinning: '0' } : mode === 'spin' ? {} : { allow_spinning: '1', spin_duration_us: mode };
  const session = await ort.InferenceSession.create(file, { intraOpNumThreads: 2, extra: { session: { intra_op: spin } } });
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', image, [1, 3, 128, 128]) };
  for (let i = 0; i < 50; i++) await session.run(feeds);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let runs = 0;
  let runMs = 0;
  while (performance.now() - t0 < Number(secondsArg) * 1000) {
    await new Promise((r) => setTimeout(r, Number(gapArg)));
    const t = performance.now();
    await session.run(feeds);
    runMs += performance.now() - t;
    runs++;
  }
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const wall = performance.now() - t0;
  process.stdout.write(`${JSON.stringify({ mode, runs, runMs: runMs / runs, cpuMsPerRun: cpuMs / runs, coresBusy: cpuMs / wall })}\n`);
  await session.release();
}
