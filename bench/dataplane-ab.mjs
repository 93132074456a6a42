#!/usr/bin/env node
/**
 * The data plane's own cost per request, without HTTP: a built ferry's startServer() in this process, breast_cancer
 * (one row of 30 FP32), 32 requests at a time straight into dataplane.infer (route, check, batch, run, split), after a
 * warm-up. For A/B of a change on the request path beside bench/run.sh's wrk numbers, which vary more on a shared VM:
 *   node bench/dataplane-ab.mjs . /tmp/ferry-old     # each build, alternating, three times
 */
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const dirs = process.argv.slice(2).map((d) => resolve(d));
if (dirs.length === 0) {
  process.stderr.write('usage: node bench/dataplane-ab.mjs FERRY_DIR [FERRY_DIR ...] (each built: dist/server.js)\n');
  process.exit(2);
}
const root = resolve(new URL('..', import.meta.url).pathname);
const { pino } = await import(pathToFileURL(join(root, 'node_modules/pino/pino.js')).href);

async function measure(dir) {
  const { startServer } = await import(pathToFileURL(join(dir, 'dist/server.js')).href + `?${Math.random()}`);
  const s = await startServer({ modelRepository: join(root, 'examples/models'), host: '127.0.0.1', httpPort: 0, grpcPort: 0, managementPort: 0, logger: pino({ level: 'silent' }) });
  await s.loaded;
  const data = new Float32Array(30).fill(0.5);
  const burst = () => Promise.all(Array.from({ length: 32 }, () => s.dataplane.infer({ modelName: 'breast_cancer', inputs: [{ name: 'float_input', datatype: 'FP32', shape: [1, 30], data }] })));
  for (let i = 0; i < 3000; i++) await burst();
  const n = 3000;
  const t = performance.now();
  for (let i = 0; i < n; i++) await burst();
  const us = ((performance.now() - t) * 1000) / (n * 32);
  await s.stop();
  return us;
}

for (let round = 1; round <= 3; round++) {
  for (const dir of dirs) process.stdout.write(`round ${round}  ${dir}  ${(await measure(dir)).toFixed(2)} us per request\n`);
}
process.exit(0);
