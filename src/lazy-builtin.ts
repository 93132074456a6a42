/**
 * A Node built-in module loaded on first use instead of at start-up. For modules that only some requests or some
 * configurations need (zlib for compressed bodies, child_process for process workers): each costs about 1 ms of
 * Node 24's start-up when imported (BENCHMARKS.md, cold start). In the bundle an `import` of a built-in runs at load.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export function lazyBuiltin<T>(id: `node:${string}`): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(id) as T);
}
