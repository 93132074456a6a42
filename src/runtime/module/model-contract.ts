/**
 * The contract of a model written in JavaScript or TypeScript: a version folder holding `model.mjs`, `model.js` or
 * `model.ts` that exports `load` (or a default export with `load`). ferry imports the module, calls `load` once per
 * instance with the version folder, and serves what it returns through the same protocols, batching, placement,
 * metrics and hot reload as an ONNX model. These types are exported from the `ferry` package for a model's author:
 *
 *   import type { LoadModel } from 'ferry';
 *   export const load: LoadModel = async ({ dir }) => ({ inputs: [...], outputs: [...], predict(inputs) {...} });
 */
import type { Datatype, TensorData } from '../../tensor/datatypes.js';

/** An input or output as a model declares it: -1 marks a dimension of any size (the first one is the batch). */
export interface TensorDeclaration {
  readonly name: string;
  readonly datatype: Datatype;
  readonly shape: readonly number[];
}

/** A tensor handed to or returned by a model: flat row-major data (string[] for BYTES, typed arrays otherwise). */
export interface ModelTensor {
  readonly datatype: Datatype;
  readonly shape: readonly number[];
  readonly data: TensorData;
}

/** What a model returns per output: a tensor, or plain values (shape and datatype then come from the declaration). */
export type ReturnedTensor = ModelTensor | { readonly data: ArrayLike<unknown>; readonly shape?: readonly number[]; readonly datatype?: Datatype };

/** An ONNX model loaded for a JavaScript model to call (a pre/post-processing hook around it). */
export interface OnnxModel {
  readonly inputs: readonly TensorDeclaration[];
  readonly outputs: readonly TensorDeclaration[];
  run(inputs: Readonly<Record<string, ModelTensor>>, outputNames?: readonly string[]): Promise<Record<string, ModelTensor>>;
}

export interface ModelContext {
  /** The version folder, where the model's own files are. */
  readonly dir: string;
  /** The model's name and version. */
  readonly name: string;
  readonly version: number;
  /** config.yaml's `parameters`. */
  readonly parameters: Readonly<Record<string, string>>;
  /** Loads an ONNX file of the version folder (default model.onnx) on the thread the model runs on; released with it. */
  loadOnnx(file?: string): Promise<OnnxModel>;
}

interface ModelBase {
  readonly inputs: readonly TensorDeclaration[];
  readonly outputs: readonly TensorDeclaration[];
  /** Class labels per output, shown as a classifier's are. */
  readonly labels?: Readonly<Record<string, readonly (string | number)[]>>;
  /** Called once when the version is unloaded. */
  release?(): void | Promise<void>;
}

/** Takes and returns named tensors, a whole batch at a time (rows along the first dimension). */
export interface TensorModel extends ModelBase {
  predict(inputs: Readonly<Record<string, ModelTensor>>, outputNames: readonly string[]): Record<string, ReturnedTensor> | Promise<Record<string, ReturnedTensor>>;
}

/**
 * Takes records and returns one record per record: a field per input (a number, bigint, string or boolean for a
 * [-1] input; an array for [-1, k]), a field per output. ferry turns the batch's tensors into records and back.
 */
export interface RecordModel extends ModelBase {
  predictRecords(records: readonly Record<string, unknown>[]): readonly Record<string, unknown>[] | Promise<readonly Record<string, unknown>[]>;
}

export type FerryModel = TensorModel | RecordModel;

export type LoadModel = (context: ModelContext) => FerryModel | Promise<FerryModel>;
