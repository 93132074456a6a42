/**
 * Loads one ModelVersion: the runtime (through the RuntimeLoader, so the registry knows no runtime in particular),
 * its batching plan, its warm-up, its metrics, then READY. A failure leaves it UNAVAILABLE with the reason and
 * nothing held: a runtime that loaded but whose config does not fit is released.
 */
import { access } from 'node:fs/promises';
import { messageOf } from '../errors.js';
import { DynamicBatcher } from '../batching/dynamic-batcher.js';
import type { RuntimeLoader } from '../runtime/load.js';
import type { ModelRuntime } from '../runtime/runtime.js';
import { typicalBatchSizes, warmUpBatchSizes } from '../runtime/warmup.js';
import type { Logger } from '../observe/logger.js';
import type { Metrics } from '../observe/metrics.js';
import { describePlan, planBatching, type BatchingPlan } from './batching-plan.js';
import type { ModelVersion } from './model-version.js';

/** Loads started together: the server's start, or one apply of a model. */
export interface LoadRound {
  /** Resolves when every load of the round is over (timed work waits for it; see LoadContext.settled). */
  readonly settled: Promise<void>;
  /** The server's start: readiness waits for it (see LoadContext.startUp). */
  readonly startUp: boolean;
}

export interface VersionLoaderDeps {
  readonly loader: RuntimeLoader;
  readonly log: Logger;
  readonly metrics?: Metrics;
}

export async function loadVersion(version: ModelVersion, round: LoadRound, deps: VersionLoaderDeps): Promise<void> {
  const what = version.label;
  const fields = { model: version.modelName, version: version.version };
  const started = performance.now();
  try {
    await access(version.file).catch(() => {
      throw new Error(`model file ${version.file} does not exist`);
    });
    const report = (level: 'info' | 'warn' | 'error', message: string) => deps.log[level](fields, message);
    const config = version.config;
    const { runtime, notes, warnings } = await deps.loader(version.file, { config, label: what, model: version.modelName, report, settled: round.settled, startUp: round.startUp });
    let plan: BatchingPlan;
    try {
      plan = planBatching(runtime, config, what);
      const warmed = await warmUp(runtime, plan, config.warmup_batch_sizes ?? (round.startUp ? [] : undefined), warnings);
      if (warmed) notes.push(warmed);
    } catch (e) {
      await runtime.release();
      throw e;
    }
    const metrics = deps.metrics?.forVersion(version.modelName, version.version);
    version.metrics = metrics;
    version.markReady(runtime, new DynamicBatcher(plan.options, (inputs, outputs) => runtime.run(inputs, outputs), metrics));
    notes.push(describePlan(plan, runtime.placement));
    for (const note of notes) deps.log.info(fields, `${what}: ${note}`);
    for (const warning of warnings) deps.log.warn(fields, `${what}: ${warning}`);
    deps.log.info({ ...fields, ms: Math.round(performance.now() - started) }, `${what} is ready`);
  } catch (e) {
    version.markUnavailable(`failed to load: ${messageOf(e)}`);
    deps.log.error(fields, `${what} failed to load: ${messageOf(e)}`);
  }
}

/**
 * Runs the batch sizes `sizes` (undefined: those a batcher of this plan builds most; see typicalBatchSizes), and
 * says what it did. A model that refuses a synthetic input is served anyway, with a warning: its first real
 * requests then pay the first-run cost.
 */
async function warmUp(runtime: ModelRuntime, plan: BatchingPlan, sizes: readonly number[] | undefined, warnings: string[]): Promise<string | undefined> {
  const o = plan.options;
  const wanted = sizes ?? (o.batching ? typicalBatchSizes(o.maxBatchSize, o.preferredBatchSizes) : [1]);
  if (wanted.length === 0 || runtime.warmUp === false) return undefined;
  const started = performance.now();
  try {
    await warmUpBatchSizes(runtime, wanted);
  } catch (e) {
    warnings.push(`warm-up at batch sizes ${wanted.join(', ')} failed: ${messageOf(e)}; its first requests may be slower`);
    return undefined;
  }
  return `warmed up at batch size${wanted.length > 1 ? 's' : ''} ${wanted.join(', ')} in ${Math.round(performance.now() - started)} ms`;
}
