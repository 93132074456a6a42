import type { Datatype, TensorData } from './datatypes.js';

/** A named tensor as the data plane sees it, whatever wire format it came in. */
export interface Tensor {
  readonly name: string;
  readonly datatype: Datatype;
  readonly shape: readonly number[];
  readonly data: TensorData;
  readonly parameters?: Readonly<Record<string, unknown>>;
}

/** What a model declares for one of its inputs or outputs. -1 marks a dimension of any size. */
export interface TensorSpec {
  readonly name: string;
  readonly datatype: Datatype;
  /** undefined when the model does not say (any rank); otherwise one entry per dimension. */
  readonly shape: readonly number[] | undefined;
  /**
   * A value may be missing (a model's feature, config `features`): NaN for a number, "" for a text. Fronts that read
   * records (the V1 API, `ferry batch`) then take an absent, null or empty value as missing rather than refusing it.
   */
  readonly missing?: boolean;
}

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function formatShape(shape: readonly number[] | undefined): string {
  return shape === undefined ? '[any]' : `[${shape.join(',')}]`;
}

/** True when `shape` fits `spec` (same rank, equal wherever the spec fixes a size). */
export function shapeMatches(spec: readonly number[] | undefined, shape: readonly number[]): boolean {
  if (spec === undefined) return true;
  if (spec.length !== shape.length) return false;
  for (let i = 0; i < spec.length; i++) {
    const want = spec[i] as number;
    if (want !== -1 && want !== shape[i]) return false;
  }
  return true;
}
