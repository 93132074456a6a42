/**
 * One load of one version of a model, with its state said out loud (Triton's model lifecycle): LOADING, READY,
 * UNAVAILABLE (with the reason), UNLOADING. A reload of the same version number (its files or its config changed) is
 * a new ModelVersion, loaded beside this one and swapped in once READY; this one then drains.
 */
import type { ModelConfig } from '../config/model-config.js';
import type { ModelRuntime } from '../runtime/runtime.js';
import type { Tensor, TensorSpec } from '../tensor/tensor.js';
import type { DynamicBatcher } from '../batching/dynamic-batcher.js';
import type { VersionMetrics } from '../observe/metrics.js';
import type { Experiment } from '../experiment/experiment.js';

export type ModelState = 'LOADING' | 'READY' | 'UNAVAILABLE' | 'UNLOADING';

/** What answers a request: the version, and the traffic split variant that chose it (undefined without a split). */
export interface Route {
  readonly version: ModelVersion;
  readonly variant: string | undefined;
  /** The model's experiment, which records the answer (undefined: none, or a version named in the request). */
  readonly experiment?: Experiment;
}

export class ModelVersion {
  state: ModelState = 'LOADING';
  /** Why it is UNAVAILABLE; for a READY one, a problem with a newer state of the model that left it serving. */
  reason: string | undefined;
  private loaded: { runtime: ModelRuntime; batcher: DynamicBatcher } | undefined;
  private unloading: Promise<void> | undefined;
  metrics: VersionMetrics | undefined;
  /** The inputs clients send, in model order (the model's, less those the server fills in). */
  inputs: readonly TensorSpec[] = [];
  /** Precompiled lookups, built once at load so the per-request check is a map read. */
  inputsByName: ReadonlyMap<string, TensorSpec> = new Map();
  outputsByName: ReadonlyMap<string, TensorSpec> = new Map();
  /** The inputs as metadata says them (a shape the model leaves open as [-1]), made once. */
  inputsMetadata: readonly { readonly name: string; readonly datatype: string; readonly shape: readonly number[] }[] = [];
  /** The same, with whether a record may leave each out (dataplane RecordInput), for the fronts that read records. */
  recordInputs: readonly { readonly name: string; readonly datatype: string; readonly shape: readonly number[]; readonly missing: boolean }[] = [];
  /** The output names in model order, the default when a request asks for none. */
  allOutputNames: readonly string[] = [];
  /** This version as the route of a request that no split chose: made once, so routing allocates nothing. */
  readonly route: Route = { version: this, variant: undefined };
  /** The runtime's per-request step before batching (features, generated lengths); undefined when it has none. */
  prepare: ((inputs: readonly Tensor[]) => Tensor[]) | undefined;
  /** The version as answers carry it ("model_version": "3"). */
  readonly versionText: string;

  constructor(
    readonly modelName: string,
    readonly version: number,
    readonly file: string,
    /** The config it is loaded with. */
    readonly config: ModelConfig,
    /** What its files looked like when it was loaded (repository/version-files.ts); a change means a reload. */
    readonly fingerprint: string,
  ) {
    this.versionText = String(version);
  }

  get label(): string {
    return `model '${this.modelName}' version ${this.version}`;
  }

  get runtime(): ModelRuntime {
    if (!this.loaded) throw new Error(`${this.label} is not loaded`);
    return this.loaded.runtime;
  }

  get batcher(): DynamicBatcher {
    if (!this.loaded) throw new Error(`${this.label} is not loaded`);
    return this.loaded.batcher;
  }

  markReady(runtime: ModelRuntime, batcher: DynamicBatcher): void {
    const clientInputs = runtime.inputs;
    this.loaded = { runtime, batcher };
    this.prepare = runtime.prepare?.bind(runtime);
    this.inputs = clientInputs;
    this.inputsMetadata = clientInputs.map((s) => ({ name: s.name, datatype: s.datatype, shape: s.shape ?? [-1] }));
    this.recordInputs = clientInputs.map((s) => ({ name: s.name, datatype: s.datatype, shape: s.shape ?? [-1], missing: s.missing === true }));
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

  /**
   * Drains: new requests are refused at once (the state leaves READY in this same tick, so the registry routes no
   * more to it), queued and running ones are answered, then the runtime is released (a worker thread is never ended
   * mid-run). Calling it again returns the same drain.
   */
  unload(reason = 'unloaded'): Promise<void> {
    this.unloading ??= (async () => {
      const loaded = this.loaded;
      this.state = 'UNLOADING';
      this.reason = reason;
      if (loaded) {
        await loaded.batcher.stop();
        await loaded.runtime.release();
      }
      this.loaded = undefined;
      this.markUnavailable(reason);
    })();
    return this.unloading;
  }
}
