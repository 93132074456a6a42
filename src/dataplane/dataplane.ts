/**
 * The data plane: the one entry for predictions and metadata, whatever protocol a request came in by.
 * validate -> route (registry) -> run (runtime) -> response. Fronts only translate wire formats to these calls.
 */
import type { ModelRegistry, IndexEntry } from '../registry/registry.js';
import type { TensorSpec } from '../tensor/tensor.js';
import { checkRequest } from './check-request.js';
import { invalid, isFerryError } from '../errors.js';
import type { InferenceRequest, InferenceResponse, ModelMetadata, ServerMetadata, TensorMetadata } from './types.js';

export interface DataPlaneOptions {
  readonly serverName: string;
  readonly serverVersion: string;
  readonly extensions: readonly string[];
  readonly strictReadiness: boolean;
}

/** The repository index as the model control keeps it (models on disk but not loaded included). */
export type IndexSource = (readyOnly: boolean) => Promise<IndexEntry[]>;

export class DataPlane {
  /** False once a graceful stop has begun: readiness goes down first so load balancers move away. */
  private accepting = true;
  private started = false;

  constructor(
    readonly registry: ModelRegistry,
    private readonly options: DataPlaneOptions,
    private readonly indexSource: IndexSource = async (readyOnly) => registry.index().filter((e) => !readyOnly || e.state === 'READY'),
  ) {}

  /** Called when the start-up load has finished (whatever its outcome). */
  markStarted(): void {
    this.started = true;
  }

  markStopping(): void {
    this.accepting = false;
  }

  ready(): boolean {
    return this.notReadyReason() === undefined;
  }

  /** Why the server is not ready, or undefined when it is. */
  notReadyReason(): string | undefined {
    if (!this.accepting) return 'server is stopping';
    if (!this.started) return 'server is not ready: models are still loading';
    if (this.options.strictReadiness && !this.registry.allReady) {
      const down = this.registry.index().filter((e) => e.state !== 'READY');
      return `server is not ready (strict readiness): ${down.map((e) => `${e.name}${e.version ? ` version ${e.version}` : ''} is ${e.state}`).join('; ')}`;
    }
    return undefined;
  }

  serverMetadata(): ServerMetadata {
    return { name: this.options.serverName, version: this.options.serverVersion, extensions: this.options.extensions };
  }

  modelMetadata(name: string, version?: string): ModelMetadata {
    const v = this.registry.resolve(name, version);
    const model = this.registry.model(name);
    const versions = version
      ? [String(v.version)]
      : [...model.versions.values()].filter((x) => x.state === 'READY').map((x) => x.version).sort((a, b) => a - b).map(String);
    return {
      name,
      versions,
      platform: v.runtime.platform,
      inputs: v.inputs.map(toMetadata),
      outputs: v.runtime.outputs.map(toMetadata),
    };
  }

  /** Throws (NOT_FOUND, UNAVAILABLE with the reason) unless the model version is ready. */
  modelReady(name: string, version?: string): void {
    this.registry.resolve(name, version);
  }

  /** Triton's repository index: every model and version with its state and, when not READY, why. */
  /**
   * For a request that could not be read: the NOT_FOUND of an unknown model or version if it is one (the more useful
   * answer: nothing the client could fix in the body would help), else the reading's own error. Asked only after a
   * failure, so a good request pays nothing for it.
   */
  unknownModelOr(error: unknown, name: string, version?: string): unknown {
    try {
      this.registry.resolve(name, version);
    } catch (e) {
      if (isFerryError(e) && e.code === 'NOT_FOUND') return e;
    }
    return error;
  }

  repositoryIndex(readyOnly = false): Promise<IndexEntry[]> {
    return this.indexSource(readyOnly);
  }

  async infer(request: InferenceRequest): Promise<InferenceResponse> {
    const { version, variant } = this.registry.route(request.modelName, request.modelVersion, request);
    const started = performance.now();
    let outputs;
    try {
      const { inputs, outputNames } = checkRequest(version, request);
      outputs = await version.batcher.infer(inputs, outputNames, deadlineOf(request, started));
    } catch (e) {
      version.metrics?.requestDone(performance.now() - started, isFerryError(e) ? e.code : 'INTERNAL');
      throw e;
    }
    version.metrics?.requestDone(performance.now() - started);
    return {
      modelName: version.modelName,
      modelVersion: String(version.version),
      ...(request.id !== undefined ? { id: request.id } : {}),
      variant, // a plain property, undefined without a split: no second spread on every answer
      outputs,
    };
  }
}

/**
 * The earlier of the front's deadline and the request's `timeout` parameter (microseconds, as Triton's clients
 * send it), as a performance.now() time.
 */
function deadlineOf(request: InferenceRequest, now: number): number | undefined {
  const timeout = request.parameters?.timeout;
  let deadline = request.deadline;
  if (timeout !== undefined) {
    const us = Number(timeout);
    if (!Number.isFinite(us) || us < 0) throw invalid(`parameter 'timeout' must be a non-negative number of microseconds, got ${JSON.stringify(timeout)}`);
    if (us > 0) deadline = Math.min(deadline ?? Infinity, now + us / 1000);
  }
  return deadline;
}

function toMetadata(spec: TensorSpec): TensorMetadata {
  return { name: spec.name, datatype: spec.datatype, shape: spec.shape ?? [-1] };
}
