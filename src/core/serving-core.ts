/**
 * The serving core, built in one place for `ferry serve` and `ferry batch`: repository -> registry -> data plane,
 * and the model control mode that keeps the registry in step with the repository (Triton's names):
 * - poll (the default): everything at start, then the repository is read every few seconds and changes are applied
 *   as they complete (repository-poller.ts), each without a failed request (registry/model-entry.ts);
 * - explicit: only the models asked for at start (`--load-model`), then what the management API loads;
 * - none: everything at start, nothing after.
 * The management API's load and unload are model-control.ts, on top of this.
 */
import { DataPlane, type DataPlaneOptions } from '../dataplane/dataplane.js';
import { messageOf } from '../errors.js';
import type { Logger } from '../observe/logger.js';
import type { Metrics } from '../observe/metrics.js';
import { describeApply, type ApplyResult } from '../registry/model-entry.js';
import { ModelRegistry, type LoadRound } from '../registry/registry.js';
import { scanRepository, type ModelOnDisk } from '../repository/model-repository.js';
import { notARepository } from '../repository/repository-shape.js';
import { RepositoryPoller } from '../repository/repository-poller.js';
import { loadRuntime, type RuntimeLoader } from '../runtime/load.js';
import type { ModelControlMode } from '../config/server-config.js';
import { ModelControl, NOT_LOADED_EXPLICIT } from './model-control.js';
import { modelCallsOf } from './model-calls.js';
import { DEFAULT_PREDICTION_MAX_RECORDS, DEFAULT_PREDICTION_RETENTION_HOURS, ExperimentBook, type ExperimentStoreSettings } from '../experiment/experiment-book.js';

export interface CoreOptions {
  /** A repository folder, or one .onnx file served as one model. */
  readonly repository: string;
  /** The model's name when `repository` is one file. */
  readonly modelName?: string;
  readonly controlMode: ModelControlMode;
  /** Poll mode: how often the repository is read. */
  readonly pollMs: number;
  /** Explicit mode: the models loaded at start ('*': all). */
  readonly loadModels?: readonly string[];
  /** Start with a repository that holds no model yet (poll mode then waits for them). */
  readonly allowEmpty?: boolean;
  readonly loader?: RuntimeLoader;
  readonly log: Logger;
  readonly metrics?: Metrics;
  readonly dataplane: Omit<DataPlaneOptions, 'log'>;
  /** Where experiments keep predictions and outcomes, and for how long (default: in memory, the default bounds). */
  readonly experiments?: ExperimentStoreSettings;
  /** Called after any change to what is served (readiness may have changed: the gRPC health service follows it). */
  readonly onChange?: () => void;
}

export class ServingCore {
  readonly registry: ModelRegistry;
  readonly dataplane: DataPlane;
  readonly control: ModelControl;
  readonly experiments: ExperimentBook;
  private readonly poller: RepositoryPoller | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private stopped = false;

  private constructor(
    private readonly options: CoreOptions,
    private readonly found: readonly ModelOnDisk[],
  ) {
    this.experiments = new ExperimentBook(options.experiments ?? { dataDir: undefined, maxPredictions: DEFAULT_PREDICTION_MAX_RECORDS, retentionMs: DEFAULT_PREDICTION_RETENTION_HOURS * 3_600_000 }, options.log);
    const loader = options.loader ?? loadRuntime;
    // A pipeline's steps call the other models through the data plane (made just below; called only once loading).
    const models = modelCallsOf(() => this.registry, () => this.dataplane);
    this.registry = new ModelRegistry((file, context) => loader(file, { ...context, models }), options.log, options.metrics, this.experiments);
    // A load on request is logged by the management port, with who asked; only the poller's changes are logged here.
    this.control = new ModelControl(this.registry, options, (source, round, retry) => this.applyModel(source, round, retry, false));
    const experimentsOff = options.experiments?.unsupported;
    this.dataplane = new DataPlane(this.registry, { ...options.dataplane, log: options.log, ...(experimentsOff !== undefined ? { experimentsOff } : {}) }, (readyOnly) => this.control.index(readyOnly));
    this.poller = options.controlMode === 'poll' ? new RepositoryPoller(options.repository, options.modelName, options.log) : undefined;
  }

  /**
   * Reads the repository. Throws, before any port opens: a missing repository, a --load-model it does not hold, and
   * a repository with no model in it (unless that is meant: explicit model control, or `allowEmpty` for a volume
   * filled later), which says what it found instead.
   */
  static async open(options: CoreOptions): Promise<ServingCore> {
    const found = await scanRepository(options.repository, options.modelName);
    if (options.controlMode !== 'explicit' && !options.allowEmpty) {
      const problem = await notARepository(options.repository, found);
      if (problem) throw new Error(problem);
    }
    if (options.controlMode === 'explicit') {
      for (const name of options.loadModels ?? []) {
        if (name !== '*' && !found.some((m) => m.name === name)) {
          throw new Error(`no model '${name}' in ${options.repository} (models there: ${found.map((m) => m.name).join(', ') || 'none'})`);
        }
      }
    } else if (options.loadModels?.length) {
      throw new Error(`--load-model needs --model-control-mode explicit (the mode is ${options.controlMode}, which loads every model)`);
    }
    return new ServingCore(options, found);
  }

  /** The start-up load; resolves when every model asked for has loaded or failed. Poll mode starts polling after. */
  async load(): Promise<void> {
    const wanted = new Set(this.options.loadModels ?? []);
    const loadAll = this.options.controlMode !== 'explicit' || wanted.has('*');
    const chosen = this.found.filter((m) => loadAll || wanted.has(m.name));
    for (const m of this.found) if (!chosen.includes(m)) this.registry.markNotLoaded(m.name, NOT_LOADED_EXPLICIT);
    await this.applyRound(chosen, true);
    this.dataplane.markStarted();
    this.options.onChange?.();
    if (this.poller && !this.stopped) {
      this.poller.seed(this.found);
      this.schedulePoll();
    }
  }

  /**
   * Reads the repository again now (SIGHUP): poll mode polls at once (complete files only, as any poll); explicit mode
   * loads each loaded model again, as a management load would; mode none reads nothing. Says what it did.
   */
  async reread(): Promise<string> {
    if (this.stopped) return 'stopping: the repository is not read again';
    if (this.options.controlMode === 'none') return "model control mode none: the repository is not read again (start with --model-control-mode poll or explicit)";
    if (this.options.controlMode === 'poll') {
      await (this.polling ??= this.pollOnce().finally(() => (this.polling = undefined)));
      return 'the repository was polled now';
    }
    const names = this.registry.names();
    const failed: string[] = [];
    for (const name of names) await this.control.load(name).catch((e: unknown) => failed.push(`${name}: ${messageOf(e)}`));
    return `loaded again from the repository: ${names.join(', ') || 'no model (none is loaded)'}${failed.length ? `; failed: ${failed.join('; ')}` : ''}`;
  }

  /** Stops polling, waits for a poll in progress, drains and unloads every model, checkpoints the experiments. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.pollTimer);
    await this.polling;
    await this.registry.unloadAll();
    await this.experiments.closeAll();
  }

  /** Applies models together in one round (their loads time themselves after the round: LoadContext.settled). */
  private async applyRound(models: readonly ModelOnDisk[], startUp: boolean): Promise<void> {
    let settle!: () => void;
    const round: LoadRound = { settled: new Promise<void>((resolve) => (settle = resolve)), startUp };
    await Promise.all(models.map((m) => this.applyModel(m, round, false, !startUp).catch((e: unknown) => this.options.log.error({ model: m.name }, `model '${m.name}': ${messageOf(e)}`))));
    settle();
  }

  private async applyModel(source: ModelOnDisk, round: LoadRound, retryFailures: boolean, logChanges: boolean): Promise<ApplyResult> {
    const result = await this.registry.apply(source, round, { retryFailures });
    if (logChanges && (result.loaded.length || result.failed.length || result.unloaded.length)) {
      this.options.log.info({ model: source.name }, `repository: ${describeApply(source.name, result)}`);
    }
    this.control.applied(source);
    this.options.onChange?.();
    return result;
  }

  private schedulePoll(): void {
    this.pollTimer = setTimeout(() => {
      this.polling = this.pollOnce().finally(() => {
        this.polling = undefined;
        if (!this.stopped) this.schedulePoll();
      });
    }, this.options.pollMs);
    this.pollTimer.unref();
  }

  /** One poll: what changed starts applying; a model busy with an earlier change waits for a later poll. */
  private async pollOnce(): Promise<void> {
    try {
      const { models, gone } = await this.poller!.poll();
      if (this.stopped) return;
      for (const name of gone) {
        void this.control.folderGone(name).then((unloaded) => {
          if (unloaded.length) this.options.log.info({ model: name }, `repository: model '${name}': its folder is gone; unloaded version${unloaded.length > 1 ? 's' : ''} ${unloaded.join(', ')}`);
        });
      }
      const changed = models.map((m) => this.control.toApply(m)).filter((m): m is ModelOnDisk => m !== undefined);
      // Not awaited: a slow load must not hold other models' changes back. A model still changing is skipped by
      // toApply() until its change is over; stop() waits for changes in progress (registry.unloadAll).
      if (changed.length) void this.applyRound(changed, false);
    } catch (e) {
      this.options.log.error(`repository poll failed: ${messageOf(e)}`);
    }
  }
}
