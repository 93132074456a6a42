#!/usr/bin/env node
/**
 * A light gRPC load generator for ModelInfer on node:http2 (no grpc-js on the client side, so the generator takes
 * less of the CPU it shares with the server). The request is encoded once (raw_input_contents, like `ferry bench`'s
 * default). A call counts as successful only when the answer is HTTP/2 200 with content-type application/grpc, at
 * least one length-prefixed message, and a grpc-status trailer (or trailers-only header) of 0; anything else is an
 * error, named by its grpc-status and grpc-message.
 *
 *   node bench/grpc-load.mjs --address 127.0.0.1:8081 --model breast_cancer --input request.json \
 *        [--streams 32] [--connections 4] [--duration 10] [--warmup 3]
 * Prints one JSON line: { requests, rps, errors, errorDetail, p50, p90, p99, mean, max } (ms).
 *
 *   node bench/grpc-load.mjs --model breast_cancer --input request.json --write-frame FILE
 * Writes the length-prefixed request (what goes in the HTTP/2 DATA frame) to FILE and exits: the body h2load sends.
 */
import http2 from 'node:http2';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import protobuf from 'protobufjs';

const { values: a } = parseArgs({
  options: {
    address: { type: 'string' },
    model: { type: 'string' },
    input: { type: 'string' },
    streams: { type: 'string', default: '32' },
    connections: { type: 'string', default: '4' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    'write-frame': { type: 'string' },
  },
});

const root = new protobuf.Root().loadSync(fileURLToPath(new URL('../proto/grpc_predict_v2.proto', import.meta.url)), { keepCase: true });
const ModelInferRequest = root.lookupType('inference.ModelInferRequest');
const body = JSON.parse(readFileSync(a.input, 'utf8'));
const raw = [];
const inputs = body.inputs.map((i) => {
  if (i.datatype !== 'FP32') throw new Error('grpc-load sends FP32 inputs only');
  raw.push(Buffer.from(Float32Array.from(i.data.flat(Infinity)).buffer));
  return { name: i.name, datatype: i.datatype, shape: i.shape };
});
const message = ModelInferRequest.encode(ModelInferRequest.fromObject({ model_name: a.model, inputs, raw_input_contents: raw })).finish();
const frame = Buffer.alloc(5 + message.length);
frame.writeUInt32BE(message.length, 1);
Buffer.from(message).copy(frame, 5);
if (a['write-frame']) {
  writeFileSync(a['write-frame'], frame);
  process.exit(0);
}

const HEADERS = {
  ':method': 'POST',
  ':path': '/inference.GRPCInferenceService/ModelInfer',
  'content-type': 'application/grpc',
  te: 'trailers',
};

const sessions = Array.from({ length: Number(a.connections) }, () => http2.connect(`http://${a.address}`));
await Promise.all(sessions.map((s) => new Promise((resolve, reject) => s.once('connect', resolve).once('error', reject))));

const start = performance.now();
const windowStart = start + Number(a.warmup) * 1000;
const windowEnd = windowStart + Number(a.duration) * 1000;
const latencies = [];
const errors = new Map();
let inFlight = 0;

function call(session, done) {
  const sent = performance.now();
  const req = session.request(HEADERS);
  let httpStatus = 0;
  let contentType = '';
  let grpcStatus;
  let grpcMessage = '';
  let bytes = 0;
  const status = (h) => {
    if (h['grpc-status'] !== undefined) grpcStatus = String(h['grpc-status']);
    if (h['grpc-message'] !== undefined) grpcMessage = decodeURIComponent(String(h['grpc-message']));
  };
  req.on('response', (h) => {
    httpStatus = Number(h[':status']);
    contentType = String(h['content-type'] ?? '');
    status(h); // trailers-only answers carry the status here
  });
  req.on('trailers', status);
  req.on('data', (c) => (bytes += c.length));
  req.on('error', (e) => {
    grpcStatus = undefined;
    grpcMessage = e.message;
  });
  req.on('close', () => {
    let failure;
    if (httpStatus !== 200) failure = `HTTP ${httpStatus || 'no response'}${grpcMessage ? `: ${grpcMessage}` : ''}`;
    else if (!contentType.startsWith('application/grpc')) failure = `content-type ${contentType}`;
    else if (grpcStatus === undefined) failure = `no grpc-status${grpcMessage ? ` (${grpcMessage})` : ''}`;
    else if (grpcStatus !== '0') failure = `grpc-status ${grpcStatus}: ${grpcMessage}`;
    else if (bytes < 5) failure = 'no response message';
    done(sent, failure);
  });
  req.end(frame);
}

await new Promise((resolve) => {
  let next = 0;
  const issue = () => {
    inFlight++;
    call(sessions[next++ % sessions.length], (sent, failure) => {
      inFlight--;
      const now = performance.now();
      if (now >= windowStart && now <= windowEnd) {
        if (failure) errors.set(failure, (errors.get(failure) ?? 0) + 1);
        else latencies.push(now - sent);
      }
      if (now < windowEnd) issue();
      else if (inFlight === 0) resolve();
    });
  };
  for (let i = 0; i < Number(a.streams); i++) issue();
});
for (const s of sessions) s.close();

latencies.sort((x, y) => x - y);
const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
const errorCount = [...errors.values()].reduce((x, y) => x + y, 0);
process.stdout.write(`${JSON.stringify({
  requests: latencies.length + errorCount,
  rps: latencies.length / Number(a.duration),
  errors: errorCount,
  errorDetail: [...errors].map(([k, n]) => `${n} x ${k}`).join('; '),
  p50: at(0.5), p90: at(0.9), p99: at(0.99),
  mean: latencies.reduce((x, y) => x + y, 0) / latencies.length,
  max: latencies.at(-1),
})}\n`);
