/**
 * A model with its config's feature engineering around it (features, postprocess, drift): a runtime wrapper chosen
 * at load, so REST, gRPC, the V1 records API and `ferry batch` all share it. Features run per request before
 * batching (prepare), the answer fields per batch after the model; the model itself stays wherever its placement
 * put it (a worker thread, a child process), while these cheap steps stay on the thread that batches.
 */
import type { ModelConfig } from '../config/model-config.js';
import type { Tensor, TensorSpec } from '../tensor/tensor.js';
import { runInputsOf, type ModelRuntime } from '../runtime/runtime.js';
import { compileAnswer, type AnswerPlan } from './answer-plan.js';
import { DEFAULT_DRIFT_WINDOW, DriftWindows, type FeatureDriftReport } from './drift.js';
import { compileFeatures, type FeaturePlan } from './feature-plan.js';

export class FeatureRuntime implements ModelRuntime {
  readonly inputs: readonly TensorSpec[];
  readonly runInputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  readonly labels: ReadonlyMap<string, readonly (string | number)[]>;
  private readonly drift: DriftWindows | undefined;
  private readonly features: FeaturePlan | undefined;
  private readonly answer: AnswerPlan | undefined;

  constructor(
    private readonly model: ModelRuntime,
    config: ModelConfig,
  ) {
    const window = config.drift?.window ?? DEFAULT_DRIFT_WINDOW;
    this.drift = config.features && window > 0 ? new DriftWindows(config.features, window) : undefined;
    this.features = config.features ? compileFeatures(config.features, model.inputs, this.drift) : undefined;
    this.answer = config.postprocess ? compileAnswer(config.postprocess, model) : undefined;
    this.inputs = this.features?.inputs ?? model.inputs;
    this.runInputs = this.features ? model.inputs : runInputsOf(model);
    this.outputs = this.answer?.outputs ?? model.outputs;
    this.labels = this.answer ? new Map([...model.labels, ...this.answer.labels]) : model.labels;
  }

  get platform() { return this.model.platform; }
  get concurrency() { return this.model.concurrency; }
  get placement() { return this.model.placement; }
  get defaultMaxBatchSize() { return this.model.defaultMaxBatchSize; }
  get warmUp() { return this.model.warmUp; }

  featureDrift(): FeatureDriftReport[] {
    return this.drift?.report() ?? [];
  }

  prepare(inputs: readonly Tensor[]): Tensor[] {
    if (this.features) return this.features.prepare(inputs);
    return this.model.prepare ? this.model.prepare(inputs) : (inputs as Tensor[]);
  }

  run(inputs: readonly Tensor[], outputNames: readonly string[]): Promise<Tensor[]> {
    return this.answer ? this.answer.run(this.model, inputs, outputNames) : this.model.run(inputs, outputNames);
  }

  release(): Promise<void> {
    return this.model.release();
  }
}

/** The model as its config's features and postprocess present it (itself when the config has neither). */
export function withFeatures(model: ModelRuntime, config: ModelConfig): ModelRuntime {
  return config.features || config.postprocess ? new FeatureRuntime(model, config) : model;
}
