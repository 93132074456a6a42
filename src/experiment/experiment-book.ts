/**
 * The server's experiments, one per model whose traffic config asks for one, each with its store in
 * DATA_DIR/experiments/MODEL/ (or in memory without --data-dir). A config change keeps the experiment and what it
 * learnt (results are per variant name); removing the outcome and shadows, or unloading the model, closes it with a
 * last checkpoint, and loading it again picks up where it stopped.
 */
import { join } from 'node:path';
import { Experiment, type ExperimentLimits } from './experiment.js';
import type { ExperimentPlan } from './experiment-plan.js';
import type { Logger } from '../observe/logger.js';

export interface ExperimentStoreSettings extends ExperimentLimits {
  /** --data-dir: where experiments keep their predictions and outcomes; undefined: in memory only. */
  readonly dataDir: string | undefined;
  /** Why experiments cannot run in this process (several server processes), or undefined. */
  readonly unsupported?: string;
}

export const DEFAULT_PREDICTION_MAX_RECORDS = 500_000;
export const DEFAULT_PREDICTION_RETENTION_HOURS = 168;

export class ExperimentBook {
  private readonly experiments = new Map<string, Experiment>();
  /** Experiments being closed, by model: one opened again for the same model waits for its files. */
  private readonly closing = new Map<string, Promise<void>>();
  /** Models told once that their experiment does not run in this process. */
  private readonly refused = new Set<string>();

  constructor(
    readonly settings: ExperimentStoreSettings,
    private readonly log?: Logger,
  ) {}

  /** The model's experiment for this plan: the running one (its plan updated), a new one, or none (closed). */
  forModel(model: string, plan: ExperimentPlan | undefined): Experiment | undefined {
    const running = this.experiments.get(model);
    if (plan !== undefined && this.settings.unsupported !== undefined && !this.refused.has(model)) {
      this.refused.add(model);
      this.log?.info({ model }, `model '${model}': its traffic split asks for an experiment, which does not run here: ${this.settings.unsupported}`);
    }
    if (plan === undefined || this.settings.unsupported !== undefined) {
      if (running) {
        this.experiments.delete(model);
        const closed: Promise<void> = running.close().catch(() => undefined).finally(() => {
          if (this.closing.get(model) === closed) this.closing.delete(model);
        });
        this.closing.set(model, closed);
      }
      return undefined;
    }
    if (running) {
      running.plan = plan;
      return running;
    }
    const dir = this.settings.dataDir === undefined ? undefined : join(this.settings.dataDir, 'experiments', model);
    const experiment = new Experiment(model, plan, dir, this.settings, this.closing.get(model));
    this.experiments.set(model, experiment);
    experiment.ready.then(
      () => this.log?.info({ model, store: dir ?? 'memory' }, `model '${model}': experiment recording ${dir ? `in ${dir}` : 'in memory (start with --data-dir to keep it across restarts)'}${experiment.indexed ? `, ${experiment.indexed} predictions restored` : ''}`),
      (e: unknown) => this.log?.error({ model }, `model '${model}': the experiment cannot open its store, so nothing is recorded: ${(e as Error).message}`),
    );
    return experiment;
  }

  get(model: string): Experiment | undefined {
    return this.experiments.get(model);
  }

  all(): Experiment[] {
    return [...this.experiments.values()];
  }

  /** Closes every experiment with a last checkpoint (a graceful stop). */
  async closeAll(): Promise<void> {
    const all = [...this.experiments.values()];
    this.experiments.clear();
    await Promise.all([...all.map((e) => e.close().catch(() => undefined)), ...this.closing.values()]);
  }
}
