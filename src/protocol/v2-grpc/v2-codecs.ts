/**
 * The V2 messages' (de)serializers, built with protobufjs's light build from proto/grpc_predict_v2.json, as
 * @grpc/proto-loader makes them with LOADER_OPTIONS. Loaded on demand (proto.ts): protobufjs and building the
 * message types are about 8 ms of start-up on Node 24 that a server answering only HTTP never needs.
 */
import protobuf from 'protobufjs/light.js';
import { LOADER_OPTIONS } from './proto.js';

export interface MethodCodecs {
  readonly requestSerialize: (value: unknown) => Buffer;
  readonly requestDeserialize: (bytes: Buffer) => unknown;
  readonly responseSerialize: (value: unknown) => Buffer;
  readonly responseDeserialize: (bytes: Buffer) => unknown;
}

/** The codecs of every method of `service` (a fully qualified name) in the descriptor, by method name. */
export function methodCodecs(descriptor: protobuf.INamespace, service: string): Map<string, MethodCodecs> {
  const root = protobuf.Root.fromJSON(descriptor);
  root.resolveAll();
  const codecs = new Map<string, MethodCodecs>();
  for (const method of root.lookupService(service).methodsArray) {
    const request = method.resolvedRequestType!;
    const response = method.resolvedResponseType!;
    codecs.set(method.name, {
      requestSerialize: serializer(request),
      requestDeserialize: deserializer(request),
      responseSerialize: serializer(response),
      responseDeserialize: deserializer(response),
    });
  }
  return codecs;
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
