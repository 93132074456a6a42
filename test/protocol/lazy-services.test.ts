/**
 * The lazily loaded gRPC services (reflection, grpc.health.v1) are registered at start from hand-written method
 * shapes: these must match what the real libraries register, or a call would be routed wrongly or not at all.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import { HEALTH_METHODS, REFLECTION_METHODS, addLazyService, loadReflectedDefinition, type MethodShape } from '../../src/protocol/v2-grpc/lazy-services.js';

type Registered = { definition: grpc.ServiceDefinition; handlers: grpc.UntypedServiceImplementation };

function collect(addToServer: (server: grpc.Server) => void): Registered[] {
  const all: Registered[] = [];
  addToServer({ addService: (definition: grpc.ServiceDefinition, handlers: grpc.UntypedServiceImplementation) => all.push({ definition, handlers }) } as unknown as grpc.Server);
  return all;
}

function shapes(definition: grpc.ServiceDefinition): Record<string, MethodShape> {
  return Object.fromEntries(
    Object.entries(definition).map(([name, m]) => [name, { path: m.path, requestStream: m.requestStream, responseStream: m.responseStream, originalName: m.originalName as string }]),
  );
}

describe('lazy gRPC services', () => {
  it('health: the stand-in methods are the real grpc.health.v1.Health methods', () => {
    const [real] = collect((s) => new HealthImplementation({}).addToServer(s));
    assert.deepEqual(HEALTH_METHODS, shapes(real!.definition));
  });

  it('reflection: the stand-in methods are the real v1 and v1alpha ServerReflection methods', () => {
    const real = collect((s) => new ReflectionService(loadReflectedDefinition()).addToServer(s));
    const expected = Object.fromEntries(real.map((r) => {
      const path = Object.values(r.definition)[0]!.path;
      return [path.slice(1, path.lastIndexOf('/')), shapes(r.definition)];
    }));
    assert.deepEqual(REFLECTION_METHODS, expected);
  });

  it('loads the real service once, on the first message, and delegates to it', () => {
    let loads = 0;
    const [real] = collect((s) => new HealthImplementation({ x: 'SERVING' }).addToServer(s));
    const [lazy] = collect((s) => addLazyService(s, HEALTH_METHODS, () => (loads++, real!)));
    assert.equal(loads, 0);
    const check = lazy!.definition.Check!;
    const bytes = check.requestSerialize({ service: 'x' });
    assert.deepEqual(check.requestDeserialize(bytes), real!.definition.Check!.requestDeserialize(bytes));
    assert.equal(loads, 1);
    let answer: unknown;
    (lazy!.handlers.Check as grpc.handleUnaryCall<unknown, unknown>)({ request: { service: 'x' } } as never, (_e, r) => (answer = r));
    assert.deepEqual(answer, { status: 'SERVING' });
    assert.equal(loads, 1);
  });
});
