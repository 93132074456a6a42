/**
 * What a V2 client sends and gets back, whichever transport carries it (HTTP JSON, HTTP with the binary tensor
 * extension, gRPC). Tensors are ferry's own `Tensor` (flat, row-major typed arrays), so an application and the
 * server share one representation and no per-element conversion happens in between.
 */
import type { Tensor } from '../tensor/tensor.js';

/** A model input or output as model metadata declares it; -1 marks a dimension of any size. */
export interface TensorMetadata {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
}

export interface ModelMetadata {
  readonly name: string;
  readonly versions: readonly string[];
  readonly platform: string;
  readonly inputs: readonly TensorMetadata[];
  readonly outputs: readonly TensorMetadata[];
}

export interface RequestedOutput {
  readonly name: string;
  readonly parameters?: Readonly<Record<string, unknown>>;
}

/** One inference request, before it is put on a wire. */
export interface InferRequest {
  readonly inputs: readonly Tensor[];
  /** Outputs wanted back; undefined or empty asks for all of them. */
  readonly outputs?: readonly RequestedOutput[];
  /** Request-level parameters; values are booleans, integers or strings (what gRPC's InferParameter holds). */
  readonly parameters?: Readonly<Record<string, unknown>>;
  readonly id?: string;
}

export interface InferResult {
  readonly modelName: string;
  readonly modelVersion: string;
  readonly id?: string;
  readonly outputs: readonly Tensor[];
}
