/**
 * Server reflection and grpc.health.v1, registered at start but loaded on their first call. Loading them costs
 * more than the V2 service itself (measured: @grpc/reflection's import, index and its two reflection protos plus
 * grpc-health-check's import and proto, about 100 ms of a 520 ms cold start; @grpc/proto-loader too, which only
 * reflection needs here), and most processes never get a reflection call. Each method is registered with its real path and streaming kind; its (de)serializers and handler
 * are stand-ins that load the real service, synchronously, when the first message arrives, then delegate to it.
 * test/protocol/lazy-services.test.ts checks the stand-ins against the real definitions.
 */
import { createRequire } from 'node:module';
import type * as protoLoader from '@grpc/proto-loader';
import type * as grpc from '@grpc/grpc-js';
import { LOADER_OPTIONS, V2_PROTO } from './proto.js';

const require = createRequire(import.meta.url);

/** How a method is called: what grpc-js needs to route it before the real definition is loaded. */
export interface MethodShape {
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
  readonly originalName?: string;
}

export const HEALTH_METHODS: Readonly<Record<string, MethodShape>> = {
  Check: { path: '/grpc.health.v1.Health/Check', requestStream: false, responseStream: false, originalName: 'check' },
  Watch: { path: '/grpc.health.v1.Health/Watch', requestStream: false, responseStream: true, originalName: 'watch' },
  List: { path: '/grpc.health.v1.Health/List', requestStream: false, responseStream: false, originalName: 'list' },
};

export const REFLECTION_METHODS: Readonly<Record<string, Readonly<Record<string, MethodShape>>>> = {
  'grpc.reflection.v1.ServerReflection': {
    ServerReflectionInfo: { path: '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo', requestStream: true, responseStream: true, originalName: 'serverReflectionInfo' },
  },
  'grpc.reflection.v1alpha.ServerReflection': {
    ServerReflectionInfo: { path: '/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo', requestStream: true, responseStream: true, originalName: 'serverReflectionInfo' },
  },
};

interface LoadedService {
  readonly definition: grpc.ServiceDefinition;
  readonly handlers: grpc.UntypedServiceImplementation;
}

type AnyFn = (...args: unknown[]) => unknown;

/** Registers `methods` on `server`; `load` runs once, on the first message of any of them. */
export function addLazyService(server: Pick<grpc.Server, 'addService'>, methods: Readonly<Record<string, MethodShape>>, load: () => LoadedService): void {
  let loaded: LoadedService | undefined;
  const real = (): LoadedService => (loaded ??= load());
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  const handlers: Record<string, AnyFn> = {};
  for (const [name, shape] of Object.entries(methods)) {
    const method = (): grpc.MethodDefinition<unknown, unknown> => {
      const m = real().definition[name];
      if (!m || m.path !== shape.path) throw new Error(`the loaded service has no method ${shape.path}`);
      return m;
    };
    definition[name] = {
      ...shape,
      requestSerialize: (value) => method().requestSerialize(value),
      requestDeserialize: (bytes) => method().requestDeserialize(bytes),
      responseSerialize: (value) => method().responseSerialize(value),
      responseDeserialize: (bytes) => method().responseDeserialize(bytes),
    };
    handlers[name] = (...args) => {
      const h = real().handlers;
      const fn = (h[name] ?? (shape.originalName ? h[shape.originalName] : undefined)) as AnyFn | undefined;
      if (!fn) throw new Error(`the loaded service has no handler for ${shape.path}`);
      return fn.apply(h, args);
    };
  }
  server.addService(definition as grpc.ServiceDefinition, handlers as grpc.UntypedServiceImplementation);
}

/** Collects what a library's addToServer registers, instead of registering it. */
function captureServices(addToServer: (server: grpc.Server) => void): Map<string, LoadedService> {
  const services = new Map<string, LoadedService>();
  const collector = {
    addService(definition: grpc.ServiceDefinition, handlers: grpc.UntypedServiceImplementation) {
      const first = Object.values(definition)[0] as grpc.MethodDefinition<unknown, unknown>;
      services.set(first.path.slice(1, first.path.lastIndexOf('/')), { definition, handlers });
    },
  };
  addToServer(collector as unknown as grpc.Server);
  return services;
}

type HealthModule = typeof import('grpc-health-check');
type ServingStatus = 'SERVING' | 'NOT_SERVING';

/** grpc.health.v1 with statuses kept here until the first health call loads grpc-health-check. */
export class LazyHealth {
  private readonly statuses: Map<string, ServingStatus>;
  private health: InstanceType<HealthModule['HealthImplementation']> | undefined;

  constructor(initial: Record<string, ServingStatus>) {
    this.statuses = new Map(Object.entries(initial));
  }

  setStatus(service: string, status: ServingStatus): void {
    this.statuses.set(service, status);
    this.health?.setStatus(service, status);
  }

  addToServer(server: Pick<grpc.Server, 'addService'>): void {
    addLazyService(server, HEALTH_METHODS, () => {
      const { HealthImplementation } = require('grpc-health-check') as HealthModule;
      this.health = new HealthImplementation(Object.fromEntries(this.statuses));
      const captured = captureServices((s) => this.health!.addToServer(s)).get('grpc.health.v1.Health');
      if (!captured) throw new Error('grpc-health-check registered no grpc.health.v1.Health');
      return captured;
    });
  }
}

type ReflectionModule = typeof import('@grpc/reflection');

/** The V2 service and grpc.health.v1, as reflection lists them. */
export function loadReflectedDefinition(): protoLoader.PackageDefinition {
  const { protoPath } = require('grpc-health-check') as HealthModule;
  const { loadSync } = require('@grpc/proto-loader') as typeof protoLoader;
  return loadSync([V2_PROTO, protoPath], LOADER_OPTIONS);
}

/** Server reflection (v1 and v1alpha) over the V2 and health services, built on its first call. */
export function addLazyReflection(server: Pick<grpc.Server, 'addService'>): void {
  let services: Map<string, LoadedService> | undefined;
  const load = (): Map<string, LoadedService> => {
    const { ReflectionService } = require('@grpc/reflection') as ReflectionModule;
    const reflection = new ReflectionService(loadReflectedDefinition());
    return captureServices((s) => reflection.addToServer(s));
  };
  for (const [service, methods] of Object.entries(REFLECTION_METHODS)) {
    addLazyService(server, methods, () => {
      services ??= load();
      const captured = services.get(service);
      if (!captured) throw new Error(`@grpc/reflection registered no ${service}`);
      return captured;
    });
  }
}
