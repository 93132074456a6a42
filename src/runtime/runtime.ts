/**
 * The contract every model runtime meets: an ONNX file, a JavaScript model, a pipeline of models, and the wrappers
 * a config adds around them (features, postprocess, generated lengths). A runtime knows nothing of protocols,
 * routing or batching: it is handed checked tensors and returns tensors.
 */
import type { Tensor, TensorSpec } from '../tensor/tensor.js';
import type { FeatureDriftReport } from '../features/drift.js';

export interface ModelRuntime {
  /** e.g. "onnxruntime_onnx", shown as `platform` in model metadata. */
  readonly platform: string;
  /** What clients send. */
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  /**
   * Per request, before batching: the checked client inputs -> what `run` takes (runInputs), such as records'
   * features -> the model's tensors. Throws INVALID_ARGUMENT naming the row and field; one request's mistake then
   * fails that request only. Absent: `run` takes the client inputs as they are.
   */
  prepare?(inputs: readonly Tensor[]): Tensor[];
  /** What `run` takes when `prepare` is there (the batcher batches these); default: `inputs`. */
  readonly runInputs?: readonly TensorSpec[];
  /** The live feature distributions against training, for a model with features (features/drift.ts). */
  featureDrift?(): FeatureDriftReport[];
  /** False: no synthetic warm-up runs (a pipeline's would be real requests to its steps' models). */
  readonly warmUp?: boolean;
  /** Rows per batch when the config does not say; a pipeline says 0 (its steps batch on their own). */
  readonly defaultMaxBatchSize?: number;
  /** How many runs it can take at once (its instances); the batcher keeps that many in flight. */
  readonly concurrency: number;
  /** Where runs happen: 'main' (the server's thread), 'thread' (worker threads) or 'process' (child processes). */
  readonly placement: string;
  /** Class labels per output, when the model carries them (a scikit-learn classifier's ZipMap). */
  readonly labels: ReadonlyMap<string, readonly (string | number)[]>;
  /**
   * Runs the model. `inputs` are complete and match `this.runInputs ?? this.inputs` (checked and prepared);
   * `outputNames` is a non-empty subset of `this.outputs`, in the order wanted back.
   */
  run(inputs: readonly Tensor[], outputNames: readonly string[]): Promise<Tensor[]>;
  /** Frees native memory. The runtime is unusable after. */
  release(): Promise<void>;
}

/** What a runtime's `run` takes. */
export function runInputsOf(runtime: ModelRuntime): readonly TensorSpec[] {
  return runtime.runInputs ?? runtime.inputs;
}
