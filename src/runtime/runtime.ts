/**
 * The contract every model runtime meets (ONNX today; TypeScript modules and pipelines later).
 * A runtime knows nothing of protocols, routing or batching: it is handed checked tensors and returns tensors.
 */
import type { Tensor, TensorSpec } from '../tensor/tensor.js';

export interface ModelRuntime {
  /** e.g. "onnxruntime_onnx", shown as `platform` in model metadata. */
  readonly platform: string;
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  /** How many runs it can take at once (its instances); the batcher keeps that many in flight. */
  readonly concurrency: number;
  /** Where runs happen: 'main' (the server's thread), 'thread' (worker threads) or 'process' (child processes). */
  readonly placement: string;
  /** Class labels per output, when the model carries them (a scikit-learn classifier's ZipMap). */
  readonly labels: ReadonlyMap<string, readonly (string | number)[]>;
  /**
   * Runs the model. `inputs` are complete and match `this.inputs` (the data plane checked them);
   * `outputNames` is a non-empty subset of `this.outputs`, in the order wanted back.
   */
  run(inputs: readonly Tensor[], outputNames: readonly string[]): Promise<Tensor[]>;
  /** Frees native memory. The runtime is unusable after. */
  release(): Promise<void>;
}
