/**
 * The V2 service definition for grpc-js's addService() surface, built from proto/grpc_predict_v2.json (the .proto
 * as a protobufjs descriptor, made by scripts/proto-json.mjs): the same methods and (de)serializers that
 * @grpc/proto-loader makes with LOADER_OPTIONS, without loading proto-loader and the .proto parser (about 30 ms of
 * start-up). The method table is read from the JSON at once; the (de)serializers (v2-codecs.ts, protobufjs) load on
 * demand: the server holds a V2 call until `prepare()` has loaded them, and ferry loads them a moment after it is
 * ready (server.ts), so readiness does not wait for them. Reflection, loaded on its first call, still uses proto-loader
 * (lazy-services.ts). test/protocol/v2-service.test.ts checks both against proto-loader's.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type * as grpc from '@grpc/grpc-js';
import type { Options as LoaderOptions } from '@grpc/proto-loader';
import type { INamespace } from 'protobufjs';
import type { MethodCodecs } from './v2-codecs.js';

export const V2_PROTO = fileURLToPath(new URL('../../../proto/grpc_predict_v2.proto', import.meta.url));
export const V2_DESCRIPTOR = fileURLToPath(new URL('../../../proto/grpc_predict_v2.json', import.meta.url));

/** keepCase: fields keep the .proto's names; longs as strings: 64-bit integers stay exact. */
export const LOADER_OPTIONS: LoaderOptions = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

export const V2_SERVICE = 'inference.GRPCInferenceService';
/** ferry's own service in the same file: an experiment's feedback and results. */
export const EXPERIMENT_SERVICE = 'inference.FerryExperimentService';

export interface LazyServiceDefinition {
  readonly definition: grpc.ServiceDefinition;
  /** Undefined once the (de)serializers are loaded; until then the load in progress (started by the first call). */
  prepare(): Promise<void> | undefined;
}

interface MethodDescriptor {
  readonly requestType: string;
  readonly responseType: string;
  readonly requestStream?: boolean;
  readonly responseStream?: boolean;
}

/** A service of proto/grpc_predict_v2.json (the V2 one unless named), its (de)serializers loaded on demand. */
export function v2Service(service = V2_SERVICE): LazyServiceDefinition {
  const descriptor = JSON.parse(readFileSync(V2_DESCRIPTOR, 'utf8')) as INamespace;
  // Each method's codecs, filled in when they load; a call reads its slot (no lookup by name per message).
  const slots = new Map<string, { codecs?: MethodCodecs }>();
  let loaded = false;
  let loading: Promise<void> | undefined;
  const prepare = (): Promise<void> | undefined => {
    if (loaded) return undefined;
    return (loading ??= import('./v2-codecs.js').then((m) => {
      const codecs = m.methodCodecs(descriptor, service);
      for (const [name, slot] of slots) slot.codecs = codecs.get(name);
      loaded = true;
    }));
  };
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(serviceMethods(descriptor, service))) {
    const slot: { codecs?: MethodCodecs } = {};
    slots.set(name, slot);
    const codecs = (): MethodCodecs => slot.codecs ?? notLoaded(name);
    definition[name] = {
      path: `/${service}/${name}`,
      requestStream: !!method.requestStream,
      responseStream: !!method.responseStream,
      requestSerialize: (value) => codecs().requestSerialize(value),
      requestDeserialize: (bytes) => codecs().requestDeserialize(bytes),
      responseSerialize: (value) => codecs().responseSerialize(value),
      responseDeserialize: (bytes) => codecs().responseDeserialize(bytes),
      originalName: name.charAt(0).toLowerCase() + name.slice(1),
    };
  }
  return { definition: definition as grpc.ServiceDefinition, prepare };
}

function notLoaded(method: string): never {
  throw new Error(`the V2 message codecs are not loaded yet (${method}): await prepare() first`);
}

/** The V2 service definition with its (de)serializers loaded. */
export async function loadV2Service(): Promise<grpc.ServiceDefinition> {
  const service = v2Service();
  await service.prepare();
  return service.definition;
}

/** A service's methods in a protobufjs JSON descriptor, found by its fully qualified name. */
function serviceMethods(descriptor: INamespace, service: string): Record<string, MethodDescriptor> {
  let at: INamespace | undefined = descriptor;
  for (const part of service.split('.')) at = at?.nested?.[part] as INamespace | undefined;
  const methods = (at as { methods?: Record<string, MethodDescriptor> } | undefined)?.methods;
  if (!methods) throw new Error(`${V2_DESCRIPTOR} has no service ${service}`);
  return methods;
}
