/**
 * One version of a model as the registry holds it, with its state said out loud (Triton's model lifecycle):
 * LOADING, READY, UNAVAILABLE (with the reason), UNLOADING.
 */
import type { ModelRuntime } from '../runtime/runtime.js';
import type { TensorSpec } from '../tensor/tensor.js';

export type ModelState = 'LOADING' | 'READY' | 'UNAVAILABLE' | 'UNLOADING';

export class ModelVersion {
  state: ModelState = 'LOADING';
  reason: string | undefined;
  private loaded: ModelRuntime | undefined;
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
    return this.loaded;
  }

  markReady(runtime: ModelRuntime): void {
    this.loaded = runtime;
    this.inputsByName = new Map(runtime.inputs.map((s) => [s.name, s]));
    this.outputsByName = new Map(runtime.outputs.map((s) => [s.name, s]));
    this.allOutputNames = runtime.outputs.map((s) => s.name);
    this.state = 'READY';
    this.reason = undefined;
  }

  markUnavailable(reason: string): void {
    this.state = 'UNAVAILABLE';
    this.reason = reason;
  }

  async unload(): Promise<void> {
    const runtime = this.loaded;
    this.state = 'UNLOADING';
    this.loaded = undefined;
    if (runtime) await runtime.release();
    this.markUnavailable('unloaded');
  }
}
