#!/usr/bin/env node
/**
 * The cold-start floor: Node loads onnxruntime-node and creates an InferenceSession for every model version in the
 * repository, with the options ferry gives a model's first session (src/runtime/load.ts and onnx-runtime.ts: one
 * intra-op thread, thread pools that do not spin, warnings and errors only), and nothing else. With onnxruntime's
 * default options instead (a spinning pool on every core per session) the same sessions took about 1.5x as long
 * here (21 alternating runs: median 248 vs 157 ms on 2 busy cores), which made ferry look closer to the floor than
 * it was. Prints "READY <json>" when done and then waits (so its
 * resident memory can be read from /proc) until stdin closes or it gets SIGTERM.
 *
 *   node bench/floor-start.mjs examples/models
 */
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';

const root = process.argv[2];
const files = [];
for (const model of readdirSync(root, { withFileTypes: true })) {
  if (!model.isDirectory()) continue;
  for (const version of readdirSync(join(root, model.name))) {
    const file = join(root, model.name, version, 'model.onnx');
    if (/^\d+$/.test(version) && existsSync(file)) files.push(file);
  }
}
const options = {
  logSeverityLevel: 3,
  intraOpNumThreads: 1,
  extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
};
const sessions = await Promise.all(files.map((f) => ort.InferenceSession.create(f, options)));
process.stdout.write(`READY ${JSON.stringify({ sessions: sessions.length, uptimeMs: process.uptime() * 1000, rssBytes: process.memoryUsage().rss })}\n`);
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
