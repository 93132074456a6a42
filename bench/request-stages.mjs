#!/usr/bin/env node
/**
 * Where a tabular request's main-thread time goes, stage by stage, without HTTP: the JSON.parse a bare server does
 * too, ferry's parse into tensors (parseInferRequest), the data plane (route, check, batch, the run's share, split;
 * 32 requests at a time, as wrk -c32 keeps in flight), and the answer's JSON (inferResponseJson). Each stage is timed
 * alone in a loop after a warm-up, three times, in a built ferry (dist/); give several folders to compare builds
 * (the per-request budget in docs/performance.md is read from this and bench/run.sh's wrk numbers):
 *   node bench/request-stages.mjs . [/tmp/ferry-old]
 */
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const dirs = process.argv.slice(2).map((d) => resolve(d));
if (dirs.length === 0) {
  process.stderr.write('usage: node bench/request-stages.mjs FERRY_DIR [FERRY_DIR ...] (each built: dist/)\n');
  process.exit(2);
}
const root = resolve(new URL('..', import.meta.url).pathname);
const { pino } = await import(pathToFileURL(join(root, 'node_modules/pino/pino.js')).href);

/** The tabular benchmark's body: breast_cancer, one row of 30 FP32 (bench/suite.mjs makes the same). */
const BODY = Buffer.from(JSON.stringify({ inputs: [{ name: 'float_input', datatype: 'FP32', shape: [1, 30], data: Array.from({ length: 30 }, (_, i) => 0.1 + i / 7) }] }));

/** Microseconds per call of `fn` over `n` calls (after as many to warm up). */
async function time(n, fn) {
  for (let i = 0; i < n; i++) await fn();
  const t = performance.now();
  for (let i = 0; i < n; i++) await fn();
  return ((performance.now() - t) * 1000) / n;
}

async function stages(dir) {
  const load = (path) => import(pathToFileURL(join(dir, 'dist', path)).href + `?${Math.random()}`);
  const { startServer } = await load('server.js');
  const { parseInferRequest, inferResponseJson } = await load('protocol/v2-rest/infer-json.js');
  const s = await startServer({ modelRepository: join(root, 'examples/models'), host: '127.0.0.1', httpPort: 0, grpcPort: 0, managementPort: 0, logger: pino({ level: 'silent' }) });
  await s.loaded;
  const request = parseInferRequest(BODY, 'breast_cancer', undefined);
  const response = await s.dataplane.infer(request);
  const burst = () => Promise.all(Array.from({ length: 32 }, () => s.dataplane.infer(parseInferRequest(BODY, 'breast_cancer', undefined))));
  const result = {
    'JSON.parse (a bare server does this too)': await time(200_000, () => JSON.parse(BODY.toString('utf8'))),
    'parse into tensors (parseInferRequest)': await time(200_000, () => parseInferRequest(BODY, 'breast_cancer', undefined)),
    'data plane, 32 in flight (parse included)': (await time(3000, burst)) / 32,
    'answer JSON (inferResponseJson)': await time(200_000, () => inferResponseJson(response)),
  };
  await s.stop();
  return result;
}

const rows = new Map();
for (let round = 1; round <= 3; round++) {
  for (const dir of dirs) {
    for (const [stage, us] of Object.entries(await stages(dir))) {
      const key = `${stage}|${dir}`;
      rows.set(key, [...(rows.get(key) ?? []), us]);
    }
  }
}
process.stdout.write('| stage | build | us per request, three rounds |\n|---|---|---|\n');
for (const [key, values] of rows) {
  const [stage, dir] = key.split('|');
  process.stdout.write(`| ${stage} | ${dir} | ${values.map((v) => v.toFixed(2)).join(', ')} |\n`);
}
process.exit(0);
