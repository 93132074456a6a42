#!/usr/bin/env node
/**
 * The gRPC ceiling (an extra baseline, not one the issue names): @grpc/grpc-js serving KServe's
 * GRPCInferenceService from proto/grpc_predict_v2.proto, with ModelInfer answering a fixed breast_cancer response
 * (raw_output_contents, as ferry answers a raw request) after grpc-js has decoded the request. No model runs. It
 * shows how much of the gRPC gap is grpc-js itself. ModelMetadata answers too, since `ferry bench` reads it first.
 *
 *   node bench/servers/grpc-ceiling.mjs PORT
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';

const port = Number(process.argv[2] ?? 0);
const proto = fileURLToPath(new URL('../../proto/grpc_predict_v2.proto', import.meta.url));
const definition = protoLoader.loadSync(proto, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
const service = grpc.loadPackageDefinition(definition).inference.GRPCInferenceService.service;

const label = Buffer.alloc(8); // INT64 [1] = 0
const proba = Buffer.from(new Float32Array([0.9999966, 0.0000034]).buffer);
const RESPONSE = {
  model_name: 'breast_cancer',
  model_version: '1',
  outputs: [
    { name: 'output_label', datatype: 'INT64', shape: [1] },
    { name: 'output_probability', datatype: 'FP32', shape: [1, 2] },
  ],
  raw_output_contents: [label, proba],
};
const METADATA = {
  name: 'breast_cancer',
  versions: ['1'],
  platform: 'onnxruntime_onnx',
  inputs: [{ name: 'float_input', datatype: 'FP32', shape: [-1, 30] }],
  outputs: [
    { name: 'output_label', datatype: 'INT64', shape: [-1] },
    { name: 'output_probability', datatype: 'FP32', shape: [-1, 2] },
  ],
};

const server = new grpc.Server();
server.addService(service, {
  ServerLive: (_call, cb) => cb(null, { live: true }),
  ServerReady: (_call, cb) => cb(null, { ready: true }),
  ModelReady: (_call, cb) => cb(null, { ready: true }),
  ServerMetadata: (_call, cb) => cb(null, { name: 'grpc-ceiling', version: '0', extensions: [] }),
  ModelMetadata: (_call, cb) => cb(null, METADATA),
  ModelInfer: (call, cb) => {
    if (call.request.inputs.length !== 1) return cb({ code: grpc.status.INVALID_ARGUMENT, details: 'one input expected' });
    cb(null, RESPONSE);
  },
});
server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => {
  if (err) throw err;
  process.stderr.write(`grpc-ceiling listening on ${bound}\n`);
});
process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
