/** The data plane's own request and response types: what every protocol front translates to and from. */
import type { Tensor } from '../tensor/tensor.js';

export interface RequestedOutput {
  readonly name: string;
  readonly parameters?: Readonly<Record<string, unknown>>;
}

export interface InferenceRequest {
  readonly modelName: string;
  /** The version named in the request; undefined for "the model's default version". */
  readonly modelVersion?: string;
  readonly id?: string;
  readonly parameters?: Readonly<Record<string, unknown>>;
  readonly inputs: readonly Tensor[];
  /** Outputs wanted back; undefined or empty means all of them. */
  readonly outputs?: readonly RequestedOutput[];
  /** performance.now() time after which the request must not start (a front's timeout header or gRPC deadline). */
  readonly deadline?: number;
  /** The request's headers (lower-case names), where a sticky traffic split reads its key. */
  readonly headers?: Readonly<Record<string, string | string[] | undefined>>;
  /**
   * Set by a front when an input's or output's parameters name a shared memory region (shared_memory_region): the
   * data plane then reads those inputs from their regions and writes those outputs into theirs. Such an input comes
   * with empty data.
   */
  readonly sharedMemory?: boolean;
}

/** An output written into a shared memory region rather than carried in the answer: what its entry says instead. */
export interface PlacedOutput {
  readonly shared_memory_region: string;
  /** The bytes written. */
  readonly shared_memory_byte_size: number;
}

export interface InferenceResponse {
  /** Who answered: the model named, or another model its traffic split chose. */
  readonly modelName: string;
  readonly modelVersion: string;
  /** The traffic split variant that answered; undefined without a split (or with a version named). */
  readonly variant?: string;
  /** The request's id, or one ferry made for an answer an experiment recorded (feedback names it). */
  readonly id?: string;
  /** True when an experiment recorded the answer under `id` (the REST front then says it in X-Request-Id). */
  readonly recorded?: boolean;
  readonly outputs: readonly Tensor[];
  /** Outputs written into shared memory, by name: their entries carry this instead of data. */
  readonly placed?: ReadonlyMap<string, PlacedOutput>;
}

export interface TensorMetadata {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
}

/** An input as a front that reads records sees it: may a record leave it out (a feature, config `features`)? */
export interface RecordInput extends TensorMetadata {
  /** A missing value is allowed: NaN for a number, "" for a text (TensorSpec.missing). */
  readonly missing: boolean;
}

export interface ModelMetadata {
  readonly name: string;
  readonly versions: readonly string[];
  readonly platform: string;
  readonly inputs: readonly TensorMetadata[];
  readonly outputs: readonly TensorMetadata[];
}

export interface ServerMetadata {
  readonly name: string;
  readonly version: string;
  readonly extensions: readonly string[];
}

/** A type with its readonly fields writable: what a converter fills in field by field before handing it on. */
export type Mutable<T> = { -readonly [K in keyof T]: T[K] };
