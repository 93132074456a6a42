/**
 * The V2 service definition for grpc-js. It is built from proto/grpc_predict_v2.json (the .proto as a protobufjs
 * descriptor, made by scripts/proto-json.mjs) with protobufjs's light build, with the (de)serializers
 * @grpc/proto-loader makes with LOADER_OPTIONS: the same messages, without loading proto-loader and the .proto
 * parser, parsing, and building descriptors that only reflection reads (about 30 ms of start-up). Reflection, loaded
 * on its first call, still uses proto-loader (lazy-services.ts). test/protocol/v2-service.test.ts checks both.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type * as grpc from '@grpc/grpc-js';
import type { Options as LoaderOptions } from '@grpc/proto-loader';
import protobuf from 'protobufjs/light.js';

export const V2_PROTO = fileURLToPath(new URL('../../../proto/grpc_predict_v2.proto', import.meta.url));
export const V2_DESCRIPTOR = fileURLToPath(new URL('../../../proto/grpc_predict_v2.json', import.meta.url));

/** keepCase: fields keep the .proto's names; longs as strings: 64-bit integers stay exact. */
export const LOADER_OPTIONS: LoaderOptions = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

export const V2_SERVICE = 'inference.GRPCInferenceService';

export function loadV2Service(): grpc.ServiceDefinition {
  const root = protobuf.Root.fromJSON(JSON.parse(readFileSync(V2_DESCRIPTOR, 'utf8')) as protobuf.INamespace);
  root.resolveAll();
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const method of root.lookupService(V2_SERVICE).methodsArray) {
    const request = method.resolvedRequestType!;
    const response = method.resolvedResponseType!;
    definition[method.name] = {
      path: `/${V2_SERVICE}/${method.name}`,
      requestStream: !!method.requestStream,
      responseStream: !!method.responseStream,
      requestSerialize: serializer(request),
      requestDeserialize: deserializer(request),
      responseSerialize: serializer(response),
      responseDeserialize: deserializer(response),
      originalName: method.name.charAt(0).toLowerCase() + method.name.slice(1),
    };
  }
  return definition as grpc.ServiceDefinition;
}

/** As proto-loader's: a plain object in, checked and converted by fromObject. */
function serializer(type: protobuf.Type): (value: unknown) => Buffer {
  return (value) => {
    if (Array.isArray(value)) throw new Error(`Failed to serialize message: expected object with ${type.name} structure, got array instead`);
    return type.encode(type.fromObject(value as Record<string, unknown>)).finish() as Buffer;
  };
}

/** As proto-loader's: a plain object out, converted with LOADER_OPTIONS. */
function deserializer(type: protobuf.Type): (bytes: Buffer) => unknown {
  return (bytes) => type.toObject(type.decode(bytes), LOADER_OPTIONS as protobuf.IConversionOptions);
}
