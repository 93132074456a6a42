/**
 * What a V2 client sends and gets back, whichever transport carries it (HTTP JSON, HTTP with the binary tensor
 * extension, gRPC). Tensors are ferry's own `Tensor` (flat, row-major typed arrays), so an application and the
 * server share one representation and no per-element conversion happens in between.
 */
import type { Tensor } from '../tensor/tensor.js';

// The metadata and output-selection shapes are the protocol's, the same the server's data plane answers with: one
// definition (type-only, so the client carries no server code).
export type { ModelMetadata, RequestedOutput, TensorMetadata } from '../dataplane/types.js';
import type { RequestedOutput } from '../dataplane/types.js';

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
