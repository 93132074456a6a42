#!/usr/bin/env node
/**
 * The floor for the image CNN's latency: onnxruntime-node's `session.run` on one 1x3x128x128 FP32 image in a bare
 * loop, in-process (no HTTP, no JSON, no threads of ours), default session options. Prints one JSON line.
 *
 *   node bench/bare-session.mjs MODEL.onnx IMAGE.bin [WARMUP_S] [DURATION_S] [INTRA_OP_THREADS]
 * IMAGE.bin: 3*128*128 little-endian float32 (what the binary request body carries). INTRA_OP_THREADS: leave out
 * for onnxruntime's default.
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';

const [file, imageFile, warmupS = '2', durationS = '10', threads] = process.argv.slice(2);
const session = await ort.InferenceSession.create(file, threads ? { intraOpNumThreads: Number(threads) } : {});
const bytes = readFileSync(imageFile);
const image = new Float32Array(new Uint8Array(bytes).buffer);
const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', image, [1, 3, 128, 128]) };

const end = (s) => performance.now() + Number(s) * 1000;
for (const stop = end(warmupS); performance.now() < stop; ) await session.run(feeds);
const ms = [];
for (const stop = end(durationS); performance.now() < stop; ) {
  const t = performance.now();
  await session.run(feeds);
  ms.push(performance.now() - t);
}
ms.sort((a, b) => a - b);
const at = (q) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))];
const mean = ms.reduce((a, b) => a + b, 0) / ms.length;
process.stdout.write(`${JSON.stringify({ runs: ms.length, mean, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: ms[ms.length - 1] })}\n`);
await session.release();
