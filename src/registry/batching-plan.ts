/**
 * Turns a model's config and its runtime's inputs and outputs into the batcher's settings, checking that the
 * config fits the model (an input named in the config must exist; batching needs a dynamic first dimension).
 * The batcher batches what the runtime's `run` takes (runInputsOf: after features or generated lengths).
 */
import type { ModelConfig } from '../config/model-config.js';
import type { BatcherOptions } from '../batching/dynamic-batcher.js';
import type { PadValue } from '../batching/concat-split.js';
import { runInputsOf, type ModelRuntime } from '../runtime/runtime.js';
import type { TensorSpec } from '../tensor/tensor.js';

/** Rows per batch when the config does not say; enough to absorb bursts of single-row requests. */
export const DEFAULT_MAX_BATCH_SIZE = 64;
/** Requests waiting per model version before new ones are refused with 429. */
export const DEFAULT_MAX_QUEUE_SIZE = 1024;

export interface BatchingPlan {
  readonly options: BatcherOptions;
}

export function planBatching(runtime: ModelRuntime, config: ModelConfig, label: string): BatchingPlan {
  const batched = runInputsOf(runtime);
  const byName = new Map(batched.map((s) => [s.name, s]));
  const names = () => batched.map((s) => `'${s.name}'`).join(', ');
  const pad = new Map<string, PadValue>();
  for (const c of config.input ?? []) {
    if (!byName.has(c.name)) throw new Error(`config input '${c.name}' is not an input of the model (its inputs: ${names()})`);
    if (c.pad_value !== undefined) pad.set(c.name, c.pad_value);
  }
  const firstDimDynamic = (s: TensorSpec) => s.shape !== undefined && s.shape.length > 0 && s.shape[0] === -1;
  const notBatchable = [...batched, ...runtime.outputs].find((s) => !firstDimDynamic(s));
  const maxBatchSize = config.max_batch_size ?? runtime.defaultMaxBatchSize ?? (notBatchable ? 0 : DEFAULT_MAX_BATCH_SIZE);
  if (maxBatchSize > 0 && notBatchable) {
    throw new Error(`max_batch_size ${maxBatchSize} needs a dynamic first dimension on every input and output, but '${notBatchable.name}' has shape [${notBatchable.shape?.join(',') ?? 'any'}] (set max_batch_size: 0)`);
  }
  const db = config.dynamic_batching ?? {};
  return {
    options: {
      label,
      batching: maxBatchSize > 0,
      maxBatchSize: Math.max(1, maxBatchSize),
      maxQueueDelayMs: (db.max_queue_delay_microseconds ?? 0) / 1000,
      preferredBatchSizes: db.preferred_batch_size ?? [],
      maxQueueSize: db.max_queue_size ?? DEFAULT_MAX_QUEUE_SIZE,
      maxInFlight: runtime.concurrency,
      pad,
    },
  };
}

export function describePlan(plan: BatchingPlan, placement: string): string {
  const o = plan.options;
  const kind = placement === 'thread' ? 'thread' : 'process';
  const plural = o.maxInFlight === 1 ? '' : kind === 'thread' ? 's' : 'es';
  const where = placement === 'main' ? 'the main thread' : `${o.maxInFlight} worker ${kind}${plural}`;
  return o.batching ? `batches up to ${o.maxBatchSize} rows, on ${where}` : `no batching (each request runs as sent), on ${where}`;
}
