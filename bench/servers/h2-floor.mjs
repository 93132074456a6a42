#!/usr/bin/env node
/**
 * The node:http2 floor (an extra baseline for the gRPC table): a bare node:http2 server that reads each call's
 * request and answers a fixed, already framed ModelInferResponse (breast_cancer's outputs, raw) with grpc-status 0.
 * No protobuf decoding, no gRPC machinery, no model: what any gRPC server on node:http2 pays per call at least.
 *
 *   node bench/servers/h2-floor.mjs PORT
 */
import http2 from 'node:http2';
import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs/light.js';

const port = Number(process.argv[2] ?? 0);
const descriptor = JSON.parse(readFileSync(new URL('../../proto/grpc_predict_v2.json', import.meta.url), 'utf8'));
const Response = protobuf.Root.fromJSON(descriptor).lookupType('inference.ModelInferResponse');
const message = Response.encode({
  model_name: 'breast_cancer',
  model_version: '1',
  outputs: [{ name: 'output_label', datatype: 'INT64', shape: [1] }, { name: 'output_probability', datatype: 'FP32', shape: [1, 2] }],
  raw_output_contents: [Buffer.alloc(8), Buffer.from(new Float32Array([0.9999966, 0.0000034]).buffer)],
}).finish();
const frame = Buffer.alloc(5 + message.length);
frame.writeUInt32BE(message.length, 1);
frame.set(message, 5);

const server = http2.createServer();
server.on('stream', (stream) => {
  stream.on('error', () => {});
  stream.on('data', () => {});
  stream.on('end', () => {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc+proto' }, { waitForTrailers: true });
    stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.end(frame);
  });
});
server.listen(port, '127.0.0.1', () => process.stderr.write(`h2 floor listening on ${server.address().port}\n`));
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
