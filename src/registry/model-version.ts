/**
 * One version of a model as the registry holds it, with its state said out loud (Triton's model lifecycle):
 * LOADING, READY, UNAVAILABLE (with the reason), UNLOADING.
 */
import type { ModelRuntime } from '../runtime/runtime.js';
import type { TensorSpec } from '../tensor/tensor.js';
import type { DynamicBatcher } from '../batching/dynamic-batcher.js';
import type { VersionMetrics } from '../observe/metrics.js';

export type ModelState = 'LOADING' | 'READY' | 'UNAVAILABLE' | 'UNLOADING';

export class ModelVersion {
  state: ModelState = 'LOADING';
  reason: string | undefined;
  private loaded: { runtime: ModelRuntime; batcher: DynamicBatcher } | undefined;
  metrics: VersionMetrics | undefined;
  /** The inputs clients send, in model order (the model's, less those the server fills in). */
  inputs: readonly TensorSpec[] = [];
  /** Precompiled lookups, built once at load so the per-request check is a map read. */
  inputsByName: ReadonlyMap<string, TensorSpec> = new Map();
  outputsByName: ReadonlyMap<string, TensorSpec> = new Map();
  /** The output names in model order, the default when a request asks for none. */
  allOutputNames: readonly string[] = [];

  constructor(
    readonly modelName: string,
    readonly version: number,
    readonly file: string,
  ) {}

  get runtime(): ModelRuntime {
    if (!this.loaded) throw new Error(`model '${this.modelName}' version ${this.version} is not loaded`);
    return this.loaded.runtime;
  }

  get batcher(): DynamicBatcher {
    if (!this.loaded) throw new Error(`model '${this.modelName}' version ${this.version} is not loaded`);
    return this.loaded.batcher;
  }

  markReady(runtime: ModelRuntime, batcher: DynamicBatcher, clientInputs: readonly TensorSpec[]): void {
    this.loaded = { runtime, batcher };
    this.inputs = clientInputs;
    this.inputsByName = new Map(clientInputs.map((s) => [s.name, s]));
    this.outputsByName = new Map(runtime.outputs.map((s) => [s.name, s]));
    this.allOutputNames = runtime.outputs.map((s) => s.name);
    this.state = 'READY';
    this.reason = undefined;
  }

  markUnavailable(reason: string): void {
    this.state = 'UNAVAILABLE';
    this.reason = reason;
  }

  /** Drains: queued and running requests are answered, then the runtime is released. */
  async unload(): Promise<void> {
    const loaded = this.loaded;
    this.state = 'UNLOADING';
    if (loaded) {
      await loaded.batcher.stop();
      await loaded.runtime.release();
    }
    this.loaded = undefined;
    this.markUnavailable('unloaded');
  }
}
