#!/usr/bin/env node
/**
 * What waking a thread costs on this machine, which sets the floor under any server's single-request latency:
 *
 * 1. Thread round trip: the main thread posts to a worker thread, which busy-works WORK ms and posts back (as ferry
 *    hands a run to a worker model), after the main thread has slept (timer) between round trips. The overhead is
 *    the round trip minus WORK; "spin" is the same with the main thread spinning on a shared flag for the answer
 *    instead of sleeping in the event loop.
 * 2. onnxruntime's pool after a pause: `session.run` with the thread asleep GAP ms between runs (a server's pause
 *    between requests) against back-to-back runs (the bare loop).
 *
 *   node bench/wake-cost.mjs [MODEL.onnx IMAGE.bin]   (part 2 only with a model; IMAGE.bin: 3x128x128 float32)
 */
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

const [modelFile, imageFile] = process.argv.slice(2);
const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function threadRoundTrips(workMs, spin, count = 400) {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(
    `const { parentPort } = require('node:worker_threads');
     parentPort.on('message', ({ seq, workMs, flag }) => {
       const end = performance.now() + workMs;
       while (performance.now() < end);
       Atomics.store(flag, 0, seq);
       parentPort.postMessage(seq);
     });`,
    { eval: true },
  );
  const overheadsUs = [];
  for (let seq = 1; seq <= count; seq++) {
    await sleep(2);
    const started = performance.now();
    const answered = new Promise((resolve) => worker.once('message', resolve));
    worker.postMessage({ seq, workMs, flag });
    if (spin) while (Atomics.load(flag, 0) !== seq);
    else await answered;
    overheadsUs.push((performance.now() - started - workMs) * 1000);
    if (spin) await answered;
  }
  await worker.terminate();
  return { p50: quantile(overheadsUs, 0.5), p90: quantile(overheadsUs, 0.9) };
}

for (const workMs of [0, 2, 7]) {
  for (const spin of [false, true]) {
    const r = await threadRoundTrips(workMs, spin);
    console.log(`thread round trip, worker busy ${workMs} ms, main ${spin ? 'spinning' : 'asleep  '}: overhead p50 ${r.p50.toFixed(0)} us, p90 ${r.p90.toFixed(0)} us`);
  }
}

if (modelFile && imageFile) {
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(modelFile);
  const image = new Float32Array(new Uint8Array(readFileSync(imageFile)).buffer);
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', image, [1, 3, 128, 128]) };
  const asleep = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < 30; i++) await session.run(feeds);
  for (const gapMs of [0, 0.4, 1, 3, 0, 0.4, 1, 3]) {
    const ms = [];
    for (const end = performance.now() + 3000; performance.now() < end; ) {
      if (gapMs > 0) Atomics.wait(asleep, 0, 0, gapMs); // the thread sleeps, as a server's does between requests
      const t = performance.now();
      await session.run(feeds);
      ms.push(performance.now() - t);
    }
    console.log(`session.run after ${gapMs} ms asleep: p50 ${quantile(ms, 0.5).toFixed(2)} ms, mean ${(ms.reduce((a, b) => a + b, 0) / ms.length).toFixed(2)} ms`);
  }
  await session.release();
}
