#!/usr/bin/env node
/**
 * The cold-start floor: Node loads onnxruntime-node and creates an InferenceSession (default options) for every
 * model version in the repository, and nothing else. Prints "READY <json>" when done and then waits (so its
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
const sessions = await Promise.all(files.map((f) => ort.InferenceSession.create(f)));
process.stdout.write(`READY ${JSON.stringify({ sessions: sessions.length, uptimeMs: process.uptime() * 1000, rssBytes: process.memoryUsage().rss })}\n`);
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
