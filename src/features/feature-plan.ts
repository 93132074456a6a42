/**
 * Records -> model tensors: the `features` of a model's config compiled against the model's inputs at load. Each
 * feature is an input clients send (a column: FP64 for a number, BYTES for a category or a text; a missing value
 * is NaN or an empty string), and the plan fills every model input from them: numbers and categories side by side
 * in feature order into a float input, a text's token ids into an integer input of its own. Layout mistakes (a
 * width that does not match the model, an input no feature fills) fail the load with the field named.
 *
 * It runs per request, before batching (the data plane calls `prepare`), so a bad row fails only its own request
 * and its message names the row and the feature.
 */
import type { FeatureConfig } from '../config/feature-config-schema.js';
import { invalid } from '../errors.js';
import { formatShape, type Tensor, type TensorSpec } from '../tensor/tensor.js';
import { newTypedArray } from '../tensor/small-arrays.js';
import { categoryColumns, numberColumns, textTokens, type ColumnWriter, type CompiledTokens } from './feature-steps.js';
import type { DriftWindows } from './drift.js';

interface ColumnsPart {
  readonly feature: number;
  readonly at: number;
  readonly write: ColumnWriter;
}

/** How one model input is filled. */
type Filler =
  | { readonly kind: 'columns'; readonly spec: TensorSpec; readonly width: number; readonly parts: readonly ColumnsPart[] }
  | { readonly kind: 'tokens'; readonly spec: TensorSpec; readonly feature: number; readonly tokens: CompiledTokens };

export interface FeaturePlan {
  /** What clients send: one input per feature, in config order. */
  readonly inputs: readonly TensorSpec[];
  /** The checked feature columns of one request (in `inputs` order) -> the model's inputs, in model order. */
  prepare(columns: readonly Tensor[]): Tensor[];
}

const FLOAT_TYPES = new Set(['FP32', 'FP64']);
const ID_TYPES = new Set(['INT64', 'INT32']);

export function compileFeatures(features: readonly FeatureConfig[], model: readonly TensorSpec[], drift?: DriftWindows): FeaturePlan {
  const byName = new Map(model.map((s) => [s.name, s]));
  const names = model.map((s) => `'${s.name}'`).join(', ');
  const groups = new Map<string, number[]>();
  features.forEach((f, i) => {
    const into = f.into ?? model[0]!.name;
    if (!byName.has(into)) throw new Error(`features[${i}] ('${f.name}'): into '${into}' is not an input of the model (its inputs: ${names})`);
    groups.set(into, [...(groups.get(into) ?? []), i]);
  });
  const fillers: Filler[] = model.map((spec) => {
    const members = groups.get(spec.name);
    if (!members) throw new Error(`model input '${spec.name}' is not filled by any feature (give a feature into: ${spec.name})`);
    const texts = members.filter((i) => (features[i]!.type ?? 'number') === 'text');
    if (texts.length > 0) return tokensFiller(spec, members, texts[0]!, features);
    return columnsFiller(spec, members, features);
  });
  const inputs: TensorSpec[] = features.map((f) => ({ name: f.name, datatype: (f.type ?? 'number') === 'number' ? 'FP64' : 'BYTES', shape: [-1], missing: true }));
  // Drift's slots, reused by every request: prepare runs to its end synchronously, and a typed array of over 64 bytes
  // made per request would cost a native allocation each (tensor/small-arrays.ts says why).
  let scratch = new Float64Array(features.length * 2 * 64);
  return {
    inputs,
    prepare(columns) {
      const rows = columns[0]!.shape[0]!;
      for (const c of columns) {
        if (c.shape[0] !== rows) throw invalid(`features disagree on the number of rows: '${columns[0]!.name}' has ${rows}, '${c.name}' has ${c.shape[0]}`);
      }
      // What drift sees, kept until every feature of the request is through: a refused request counts for nothing.
      if (drift && scratch.length < features.length * rows * 2) scratch = new Float64Array(features.length * rows * 2);
      const seen = drift ? scratch : undefined;
      const out = fillers.map((filler) => (filler.kind === 'columns' ? fillColumns(filler, columns, rows, seen) : fillTokens(filler, columns, rows, seen)));
      if (seen) drift!.observe(seen, rows);
      return out;
    },
  };
}

function columnsFiller(spec: TensorSpec, members: readonly number[], features: readonly FeatureConfig[]): Filler {
  if (!FLOAT_TYPES.has(spec.datatype)) throw new Error(`model input '${spec.name}' is ${spec.datatype}: number and category features fill FP32 or FP64 inputs`);
  let width = 0;
  const parts = members.map((i) => {
    const f = features[i]!;
    const compiled = (f.type ?? 'number') === 'number' ? numberColumns(f) : categoryColumns(f);
    const part = { feature: i, at: width, write: compiled.write };
    width += compiled.width;
    return part;
  });
  const shape = spec.shape;
  const fits = shape === undefined || (shape.length === 2 && (shape[1] === -1 || shape[1] === width)) || (shape.length === 1 && width === 1);
  if (!fits) {
    const list = members.map((i) => `'${features[i]!.name}'`).join(', ');
    throw new Error(`features ${list} fill ${width} column${width === 1 ? '' : 's'} of model input '${spec.name}', whose shape is ${formatShape(shape)}`);
  }
  return { kind: 'columns', spec, width, parts };
}

function tokensFiller(spec: TensorSpec, members: readonly number[], text: number, features: readonly FeatureConfig[]): Filler {
  const f = features[text]!;
  if (members.length > 1) throw new Error(`text feature '${f.name}' fills model input '${spec.name}' alone, but ${members.length - 1} other feature(s) name it too`);
  if (!ID_TYPES.has(spec.datatype)) throw new Error(`text feature '${f.name}': model input '${spec.name}' is ${spec.datatype}, token ids need INT64 or INT32`);
  const tokens = textTokens(f);
  const shape = spec.shape;
  if (shape !== undefined && !(shape.length === 2 && (shape[1] === -1 || shape[1] === tokens.length))) {
    throw new Error(`text feature '${f.name}' gives ${tokens.length} token ids a row, and model input '${spec.name}' has shape ${formatShape(shape)}`);
  }
  return { kind: 'tokens', spec, feature: text, tokens };
}

/** `seen`: per feature and row, two slots for drift (drift.ts DriftWindows.observe). */
function fillColumns(filler: Extract<Filler, { kind: 'columns' }>, columns: readonly Tensor[], rows: number, seen: Float64Array | undefined): Tensor {
  const { spec, width, parts } = filler;
  const out = spec.datatype === 'FP64' ? newTypedArray(Float64Array, rows * width) : newTypedArray(Float32Array, rows * width);
  for (const part of parts) {
    const data = columns[part.feature]!.data as ArrayLike<number | string>;
    const at = part.feature * rows * 2;
    for (let r = 0; r < rows; r++) {
      const code = part.write(data[r]!, r, out, r * width + part.at);
      if (seen) seen[at + r * 2] = code;
    }
  }
  const shape = spec.shape?.length === 1 ? [rows] : [rows, width];
  return { name: spec.name, datatype: spec.datatype, shape, data: out };
}

function fillTokens(filler: Extract<Filler, { kind: 'tokens' }>, columns: readonly Tensor[], rows: number, seen: Float64Array | undefined): Tensor {
  const { spec, tokens, feature } = filler;
  const n = tokens.length;
  const out = spec.datatype === 'INT64' ? newTypedArray(BigInt64Array, rows * n) : newTypedArray(Int32Array, rows * n);
  const data = columns[feature]!.data as string[];
  const at = feature * rows * 2;
  for (let r = 0; r < rows; r++) {
    const [unknown, total] = tokens.write(data[r]!, r, out, r * n);
    if (seen) {
      seen[at + r * 2] = unknown;
      seen[at + r * 2 + 1] = total;
    }
  }
  return { name: spec.name, datatype: spec.datatype, shape: [rows, n], data: out };
}
