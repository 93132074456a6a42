/**
 * The data plane: the one entry for predictions and metadata, whatever protocol a request came in by.
 * validate -> route (registry) -> run (runtime) -> response. Fronts only translate wire formats to these calls.
 */
import type { ModelRegistry, IndexEntry, Route } from '../registry/registry.js';
import type { Tensor } from '../tensor/tensor.js';
import { ExperimentCalls, type Copies } from './experiment-calls.js';
import type { TensorSpec } from '../tensor/tensor.js';
import type { Logger } from '../observe/logger.js';
import { checkRequest } from './check-request.js';
import { failedPrecondition, invalid, isFerryError, notFound } from '../errors.js';
import type { ModelStatistics } from '../observe/version-stats.js';
import { tritonConfig, type TritonModelConfig } from './triton-config.js';
import type { Experiment, FeedbackResult } from '../experiment/experiment.js';
import { experimentReport, type ExperimentReport } from '../experiment/experiment-report.js';
import { parseFeedback } from '../experiment/feedback-body.js';
import { planOf } from '../experiment/experiment-plan.js';
import type { InferenceRequest, InferenceResponse, ModelMetadata, RecordInput, ServerMetadata, TensorMetadata } from './types.js';
import type { FeatureDriftReport } from '../features/drift.js';
import { SystemSharedMemory } from './shared-memory/system-shared-memory.js';
import type { ClientShmScope } from '../config/server-config.js';
import { SharedMemoryRequest } from './shared-memory/shm-request.js';

/** One ready version's feature drift. */
export interface ModelDrift {
  readonly model: string;
  readonly version: string;
  readonly features: readonly FeatureDriftReport[];
}

export interface DataPlaneOptions {
  readonly serverName: string;
  readonly serverVersion: string;
  readonly extensions: readonly string[];
  readonly strictReadiness: boolean;
  readonly log: Logger;
  /** Why experiments cannot run in this process (several server processes), if so. */
  readonly experimentsOff?: string;
  /** Who may register and use system shared memory regions (--allow-client-shm); 'off' by default. */
  readonly allowClientShm?: ClientShmScope;
  /** The most bytes one request may have read from shared memory regions (--max-body-size). */
  readonly maxSharedMemoryInputBytes?: number;
}

/** The repository index as the model control keeps it (models on disk but not loaded included). */
export type IndexSource = (readyOnly: boolean) => Promise<IndexEntry[]>;

export class DataPlane {
  /** False once a graceful stop has begun: readiness goes down first so load balancers move away. */
  private accepting = true;
  private started = false;
  private readonly experimentCalls: ExperimentCalls;
  /** Triton's system shared memory regions, which requests name for their inputs and outputs. */
  readonly sharedMemory: SystemSharedMemory;

  constructor(
    readonly registry: ModelRegistry,
    private readonly options: DataPlaneOptions,
    private readonly indexSource: IndexSource = async (readyOnly) => registry.index().filter((e) => !readyOnly || e.state === 'READY'),
  ) {
    this.experimentCalls = new ExperimentCalls(registry, options.log);
    this.sharedMemory = new SystemSharedMemory(options.allowClientShm ?? 'off', options.maxSharedMemoryInputBytes);
  }

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
      inputs: v.inputsMetadata,
      outputs: v.runtime.outputs.map(toMetadata),
    };
  }

  /**
   * The inputs clients send to a model (its default version, or the one named), as metadata says them: what a front
   * that builds tensors from records reads per request (so not the whole metadata, with its sorted version list).
   */
  modelInputs(name: string, version?: string): readonly RecordInput[] {
    return this.registry.resolve(name, version).recordInputs;
  }

  /** Triton's model configuration extension: the effective configuration of a ready version, in Triton's shape. */
  modelConfig(name: string, version?: string): { config: TritonModelConfig } {
    return { config: tritonConfig(this.registry.resolve(name, version)) };
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

  /** POST /v2/models/NAME/feedback: outcomes joined with the predictions they are for. */
  async feedback(name: string, body: Record<string, unknown>): Promise<FeedbackResult> {
    const e = this.experimentOf(name);
    const outcome = e.plan.outcome;
    if (!outcome) throw failedPrecondition(`model '${name}' takes no feedback: its traffic config has shadows but no outcome (add outcome: {type: classification|regression|reward})`);
    return e.feedback(parseFeedback(body, outcome.type));
  }

  /** GET /v2/models/NAME/experiment: the experiment's results so far (once its store is read, after a restart). */
  async experiment(name: string): Promise<ExperimentReport> {
    const e = this.experimentOf(name);
    await e.opened();
    return experimentReport(e, this.weightsOf(name));
  }

  /**
   * Feature drift of a model's ready versions (config `features`): each feature's window against training. Without a
   * name, every model's (the ferry_feature_* metrics). A model without features: FAILED_PRECONDITION when named.
   */
  featureDrift(name?: string): ModelDrift[] {
    const drift: ModelDrift[] = [];
    for (const model of name === undefined ? this.registry.names() : [name]) {
      for (const v of this.registry.model(model).versions.values()) {
        const features = v.state === 'READY' ? v.runtime.featureDrift?.() : undefined;
        if (features?.length) drift.push({ model, version: v.versionText, features });
      }
    }
    if (name !== undefined && drift.length === 0) {
      this.registry.resolve(name); // unknown, or not ready: that is the answer
      throw failedPrecondition(`model '${name}' has no features in its config, so no drift is kept (give it features: [...], and leave drift.window above 0)`);
    }
    return drift;
  }

  /**
   * Triton's statistics extension: every loaded version of every model, of one model, or one version (NOT_FOUND for
   * an unknown model, or a version not loaded). Versions loaded without metrics (ferry batch) have none to give.
   */
  modelStatistics(name?: string, version?: string): { model_stats: ModelStatistics[] } {
    const stats: ModelStatistics[] = [];
    for (const model of name === undefined ? this.registry.names() : [name]) {
      const versions = [...this.registry.model(model).versions.values()].sort((a, b) => a.version - b.version);
      const wanted = version === undefined ? versions : versions.filter((v) => v.versionText === version);
      if (version !== undefined && wanted.length === 0) throw notFound(`model '${model}' has no version ${version} loaded`);
      for (const v of wanted) if (v.state !== 'UNAVAILABLE' && v.metrics) stats.push(v.metrics.stats.report(model, v.versionText));
    }
    return { model_stats: stats };
  }

  /** Every running experiment's results (the ferry_experiment_* metrics). */
  experiments(): ExperimentReport[] {
    const reports: ExperimentReport[] = [];
    for (const name of this.registry.names()) {
      const e = this.registry.model(name).experiment;
      if (e) reports.push(experimentReport(e, this.weightsOf(name)));
    }
    return reports;
  }

  /** NOT_FOUND for an unknown model, FAILED_PRECONDITION for one that runs no experiment. */
  checkExperiment(name: string): void {
    this.experimentOf(name);
  }

  private experimentOf(name: string): Experiment {
    const m = this.registry.model(name);
    if (m.experiment) return m.experiment;
    const off = this.options.experimentsOff;
    if (off !== undefined && m.config.traffic && planOf(m.config.traffic)) throw failedPrecondition(`model '${name}': ${off}`);
    throw failedPrecondition(`model '${name}' runs no experiment: give its config.yaml a traffic split with an outcome (traffic: {variants: [...], outcome: {type: classification}}) or a shadow`);
  }

  private weightsOf(name: string): Map<string, number> {
    return new Map((this.registry.model(name).split?.variants ?? []).map((v) => [v.name, v.weight]));
  }

  /**
   * Which version (and split variant) answers a request: for a front that must know before it can build the request
   * (the records API reads the chosen version's inputs), then passes the route to infer.
   */
  route(name: string, version: string | undefined, headers: InferenceRequest['headers']): Route {
    return this.registry.route(name, version, headers ? { headers } : {});
  }

  /** `chosen`: the route a front took with route() (else the request is routed here). */
  async infer(request: InferenceRequest, chosen?: Route): Promise<InferenceResponse> {
    if (request.sharedMemory === true) return this.inferThroughSharedMemory(request, chosen);
    const route = chosen ?? this.registry.route(request.modelName, request.modelVersion, request);
    const { version, variant } = route;
    const started = performance.now();
    let outputs;
    let copies;
    try {
      const { inputs, outputNames } = checkRequest(version, request);
      if (route.experiment !== undefined) copies = this.experimentCalls.copiesFor(route, inputs);
      const prepare = version.prepare;
      outputs = await version.batcher.infer(prepare === undefined ? inputs : prepare(inputs), outputNames, deadlineOf(request, started));
    } catch (e) {
      version.metrics?.requestDone(performance.now() - started, isFerryError(e) ? e.code : 'INTERNAL');
      throw e;
    }
    version.metrics?.requestDone(performance.now() - started);
    if (route.experiment !== undefined) return this.experimentAnswer(route, request, outputs, copies);
    // Every answer has the same fields (id and variant undefined when absent): one object shape, no spread.
    return { modelName: version.modelName, modelVersion: version.versionText, id: request.id, variant, outputs };
  }

  /** A request whose inputs or outputs are in shared memory regions: read, run as any other, written back. */
  private async inferThroughSharedMemory(request: InferenceRequest, chosen: Route | undefined): Promise<InferenceResponse> {
    // Routed first: an unknown model or one not ready is said before any region is read.
    const route = chosen ?? this.registry.route(request.modelName, request.modelVersion, request);
    const shared = new SharedMemoryRequest(this.sharedMemory, request);
    try {
      return shared.place(await this.infer(shared.request, route));
    } finally {
      shared.release();
    }
  }

  /** An answer in an experiment: it gets an id, is recorded before it is returned, then its copies run. */
  private async experimentAnswer(route: Route, request: InferenceRequest, outputs: Tensor[], copies: Copies | undefined): Promise<InferenceResponse> {
    const id = this.experimentCalls.idOf(request);
    await this.experimentCalls.recordAnswer(route, id, outputs);
    if (copies) this.experimentCalls.runCopies(route, request, id, copies);
    return { modelName: route.version.modelName, modelVersion: route.version.versionText, id, variant: route.variant, recorded: true, outputs };
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
