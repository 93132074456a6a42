/**
 * The V2 gRPC service ferry serves is built from proto/grpc_predict_v2.json with protobufjs (proto.ts), not by
 * @grpc/proto-loader from the .proto: the JSON must be what scripts/proto-json.mjs makes from the .proto now, and the
 * methods and (de)serializers must match proto-loader's, message for message.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { LOADER_OPTIONS, V2_DESCRIPTOR, V2_PROTO, loadV2Service } from '../../src/protocol/v2-grpc/proto.js';

const SCRIPT = fileURLToPath(new URL('../../scripts/proto-json.mjs', import.meta.url));

function protoLoaderService(): grpc.ServiceDefinition {
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(V2_PROTO, LOADER_OPTIONS));
  return ((pkg.inference as grpc.GrpcObject).GRPCInferenceService as grpc.ServiceClientConstructor).service;
}

const REQUESTS: Record<string, object[]> = {
  ModelInfer: [
    {
      model_name: 'm', model_version: '2', id: 'x',
      parameters: { a: { bool_param: true }, b: { int64_param: '-9007199254740993' }, c: { string_param: 's' }, d: { double_param: 0.5 }, e: { uint64_param: '18446744073709551615' } },
      inputs: [
        { name: 'i', datatype: 'INT64', shape: ['2', '3'], contents: { int64_contents: ['1', '-2', '9223372036854775807', '0', '5', '6'] } },
        { name: 'u', datatype: 'UINT64', shape: [1], contents: { uint64_contents: ['18446744073709551615'] } },
        { name: 'f', datatype: 'FP32', shape: [2], contents: { fp32_contents: [1.5, -2] }, parameters: { binary_data_size: { int64_param: 8 } } },
        { name: 's', datatype: 'BYTES', shape: [1], contents: { bytes_contents: [Buffer.from('héllo\0')] } },
      ],
      outputs: [{ name: 'o', parameters: { binary_data: { bool_param: false } } }],
      raw_input_contents: [Buffer.from([1, 2, 3, 4])],
    },
    {},
  ],
  ModelReady: [{ name: 'm', version: '1' }, {}],
  ModelMetadata: [{ name: 'm' }],
  ServerLive: [{}],
};

const RESPONSES: Record<string, object[]> = {
  ModelInfer: [
    {
      model_name: 'm', model_version: '1', id: 'x', parameters: { p: { string_param: 'v' } },
      outputs: [{ name: 'o', datatype: 'FP32', shape: ['-1', '3'], contents: { fp32_contents: [0.25] } }],
      raw_output_contents: [Buffer.alloc(12, 7)],
    },
  ],
  ModelMetadata: [{ name: 'm', versions: ['1'], platform: 'p', inputs: [{ name: 'i', datatype: 'FP32', shape: ['-1', '30'] }], outputs: [] }],
  ServerMetadata: [{ name: 'ferry', version: '0.1.0', extensions: ['binary_tensor_data'] }],
  ServerReady: [{ ready: true }, { ready: false }],
};

describe('the V2 gRPC service definition', () => {
  it('proto/grpc_predict_v2.json is what scripts/proto-json.mjs makes from proto/grpc_predict_v2.proto (run it after editing the .proto)', () => {
    assert.equal(readFileSync(V2_DESCRIPTOR, 'utf8'), execFileSync(process.execPath, [SCRIPT, '--print'], { encoding: 'utf8' }));
  });

  it("has proto-loader's methods: paths, streaming kinds, original names", async () => {
    const ours = await loadV2Service();
    const theirs = protoLoaderService();
    assert.deepEqual(Object.keys(ours), Object.keys(theirs));
    for (const [name, m] of Object.entries(theirs)) {
      const o = ours[name]!;
      assert.deepEqual([o.path, o.requestStream, o.responseStream, o.originalName], [m.path, m.requestStream, m.responseStream, m.originalName], name);
    }
  });

  it("serializes and deserializes as proto-loader's, byte for byte and field for field", async () => {
    const ours = await loadV2Service();
    const theirs = protoLoaderService();
    const check = (method: string, messages: object[], side: 'request' | 'response') => {
      const o = ours[method]!;
      const t = theirs[method]!;
      const [serialize, deserialize] = side === 'request' ? ['requestSerialize', 'requestDeserialize'] as const : ['responseSerialize', 'responseDeserialize'] as const;
      for (const message of messages) {
        const bytes = t[serialize](message);
        assert.deepEqual(o[serialize](message), bytes, `${method} ${side} bytes`);
        assert.deepEqual(o[deserialize](bytes), t[deserialize](bytes), `${method} ${side} object`);
      }
      assert.throws(() => o[serialize]([]), /expected object/);
    };
    for (const [method, messages] of Object.entries(REQUESTS)) check(method, messages, 'request');
    for (const [method, messages] of Object.entries(RESPONSES)) check(method, messages, 'response');
  });
});
