/**
 * Random inputs that fit a model's metadata, made once per run. Values are chosen to be valid for typical models,
 * not just for the datatype: integers are small and non-negative (0..4) because integer inputs are usually
 * categories or embedding indices, and strings come from a small vocabulary because string inputs are usually
 * categories too. Any dimension of any size (-1) must be fixed: the first by --batch, others by --shape.
 */
import { DATATYPES, isDatatype, type TensorData } from '../tensor/datatypes.js';
import { toHalfBits } from '../tensor/fp16.js';
import { elementCount, formatShape, type Tensor } from '../tensor/tensor.js';
import type { InferRequest, ModelMetadata, TensorMetadata } from '../client/index.js';
import { BenchError } from './bench-error.js';

const LARGEST_HALF_BELOW_ONE = 0x3bff;
const LARGEST_FLOAT32_BELOW_ONE = 1 - 2 ** -24;

/** Colours (what the example text model knows) and a few everyday words. */
export const BYTES_VOCABULARY: readonly string[] = ['red', 'green', 'blue', 'yellow', 'black', 'white', 'small', 'large'];

export interface RandomInputOptions {
  /** Rows per request: the size of every input's first dimension where the model leaves it free. */
  readonly batch: number;
  /** Whole shapes, by input name, for inputs with other free dimensions (or to override the batch rule). */
  readonly shapes: Readonly<Record<string, readonly number[]>>;
}

export interface PreparedRequest {
  readonly request: InferRequest;
  /** Rows per request: the first dimension of the first input (1 for a scalar). */
  readonly rows: number;
}

export function randomRequest(metadata: ModelMetadata, options: RandomInputOptions): PreparedRequest {
  const names = metadata.inputs.map((i) => i.name);
  for (const name of Object.keys(options.shapes)) {
    if (!names.includes(name)) {
      throw new BenchError(`--shape ${name}=...: model '${metadata.name}' has no input '${name}' (its inputs: ${names.map((n) => `'${n}'`).join(', ')})`);
    }
  }
  if (metadata.inputs.length === 0) throw new BenchError(`model '${metadata.name}' declares no inputs in its metadata`);
  const inputs = metadata.inputs.map((spec) => randomTensor(spec, resolveShape(spec, options)));
  return { request: { inputs }, rows: rowsOf(inputs) };
}

export function rowsOf(inputs: readonly Tensor[]): number {
  return inputs[0]?.shape[0] ?? 1;
}

function resolveShape(spec: TensorMetadata, options: RandomInputOptions): number[] {
  const what = `input '${spec.name}' (shape ${formatShape(spec.shape)})`;
  const given = options.shapes[spec.name];
  if (given) {
    const fits = given.length === spec.shape.length && spec.shape.every((d, i) => d < 0 || d === given[i]);
    if (!fits) throw new BenchError(`--shape ${spec.name}=${given.join(',')} does not fit ${what}: give every dimension, equal to the model's where it fixes one`);
    return [...given];
  }
  return spec.shape.map((d, i) => {
    if (d >= 0) {
      if (i === 0 && options.batch !== 1 && spec.shape.length > 0) {
        throw new BenchError(`--batch ${options.batch} cannot apply to ${what}: its first dimension is fixed at ${d} (use --shape to set shapes yourself)`);
      }
      return d;
    }
    if (i === 0) return options.batch;
    throw new BenchError(`${what}: dimension ${i} can be any size; give the whole shape with --shape ${spec.name}=${spec.shape.map((x, j) => (j === 0 && x < 0 ? options.batch : x < 0 ? 'N' : x)).join(',')}`);
  });
}

function randomTensor(spec: TensorMetadata, shape: number[]): Tensor {
  if (!isDatatype(spec.datatype)) {
    throw new BenchError(`input '${spec.name}' has datatype ${JSON.stringify(spec.datatype)}, which is not a V2 datatype the bench can generate`);
  }
  const datatype = spec.datatype;
  const n = elementCount(shape);
  const info = DATATYPES[datatype];
  let data: TensorData;
  switch (info.kind) {
    case 'float': {
      const a = new (info.array as Float32ArrayConstructor)(n);
      // Math.random() just under 1 rounds to 1.0 in float32; keep values in [0, 1) as documented.
      for (let i = 0; i < n; i++) a[i] = Math.min(Math.random(), LARGEST_FLOAT32_BELOW_ONE);
      data = a;
      break;
    }
    case 'fp16': {
      const a = new Uint16Array(n);
      // Anything above 1 - 2^-12 rounds to half 1.0 (0x3c00): cap at the largest half below 1.
      for (let i = 0; i < n; i++) a[i] = Math.min(toHalfBits(Math.random()), LARGEST_HALF_BELOW_ONE);
      data = a;
      break;
    }
    case 'int':
    case 'bool': {
      const a = new (info.array as Int32ArrayConstructor)(n);
      const values = info.kind === 'bool' ? 2 : 5;
      for (let i = 0; i < n; i++) a[i] = Math.floor(Math.random() * values);
      data = a;
      break;
    }
    case 'bigint': {
      const a = new (info.array as BigInt64ArrayConstructor)(n);
      for (let i = 0; i < n; i++) a[i] = BigInt(Math.floor(Math.random() * 5));
      data = a;
      break;
    }
    case 'bytes':
      data = Array.from({ length: n }, () => BYTES_VOCABULARY[Math.floor(Math.random() * BYTES_VOCABULARY.length)] as string);
      break;
  }
  return { name: spec.name, datatype, shape, data };
}
