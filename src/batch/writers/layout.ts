/**
 * The row layout every writer shares: `id`, one column per model output (named after it), `model`, `model_version`.
 *
 * Whether an output is a per-row scalar or a per-row array is decided once, from the model's declared shape, so a
 * column never changes kind halfway through a file: an output whose rows hold exactly one element by declaration
 * ([-1], [-1,1], [N,1,1]) is a scalar; anything else (more elements, a -1 past the batch dimension, or no declared
 * shape at all) is an array holding the row's elements flat, in row-major order.
 */
import { internal, invalid } from '../../errors.js';
import { DATATYPES, type Datatype, type DatatypeInfo } from '../../tensor/datatypes.js';
import type { TensorSpec } from '../../tensor/tensor.js';
import type { ScoredBatch, WriterOptions } from '../types.js';

/** The column names ferry adds around the model's outputs. */
export const ID_COLUMN = 'id';
export const MODEL_COLUMN = 'model';
export const VERSION_COLUMN = 'model_version';

export interface OutputColumn {
  readonly name: string;
  readonly datatype: Datatype;
  readonly kind: DatatypeInfo['kind'];
  /** True: one value per row. False: the row's values as an array. */
  readonly scalar: boolean;
}

export interface Layout {
  readonly outputs: readonly OutputColumn[];
  /** All column names in order: id, outputs..., model, model_version. */
  readonly columnNames: readonly string[];
}

/** True when the spec promises exactly one element per row. */
function isScalarSpec(shape: readonly number[] | undefined): boolean {
  if (shape === undefined) return false;
  for (let i = 1; i < shape.length; i++) if (shape[i] !== 1) return false;
  return true;
}

export function makeLayout(options: WriterOptions, caseInsensitive = false): Layout {
  if (options.outputs.length === 0) throw invalid('the writer needs at least one model output');
  const key = (s: string): string => (caseInsensitive ? s.toLowerCase() : s);
  const seen = new Map<string, string>([ID_COLUMN, MODEL_COLUMN, VERSION_COLUMN].map((c) => [key(c), 'a column ferry adds']));
  const outputs = options.outputs.map((spec: TensorSpec): OutputColumn => {
    const clash = seen.get(key(spec.name));
    if (clash !== undefined) {
      throw invalid(`output '${spec.name}' cannot be written: its column name clashes with ${clash === 'a column ferry adds' ? clash : `output '${clash}'`}${caseInsensitive ? ' (column names are case-insensitive here)' : ''}`);
    }
    seen.set(key(spec.name), spec.name);
    return { name: spec.name, datatype: spec.datatype, kind: DATATYPES[spec.datatype].kind, scalar: isScalarSpec(spec.shape) };
  });
  return { outputs, columnNames: [ID_COLUMN, ...outputs.map((o) => o.name), MODEL_COLUMN, VERSION_COLUMN] };
}

/** One output's data for a batch, checked against the layout. */
export interface OutputData {
  readonly column: OutputColumn;
  readonly data: ArrayLike<unknown>;
  /** Elements per row (1 for scalars). */
  readonly perRow: number;
}

/**
 * Finds each output's tensor in the batch and checks it holds one row per id, with the declared datatype and,
 * for a scalar column, exactly one element per row. Throws before anything is written, so a bad batch leaves the
 * output untouched.
 */
export function checkBatch(layout: Layout, batch: ScoredBatch): OutputData[] {
  const rows = batch.ids.length;
  return layout.outputs.map((column) => {
    const tensor = batch.outputs.find((t) => t.name === column.name);
    if (tensor === undefined) throw internal(`scored batch has no output '${column.name}'`);
    if (tensor.datatype !== column.datatype) {
      throw internal(`output '${column.name}' is ${tensor.datatype}, but the model declares ${column.datatype}`);
    }
    if (tensor.shape.length === 0 || tensor.shape[0] !== rows) {
      throw internal(`output '${column.name}' has shape [${tensor.shape.join(',')}], expected ${rows} rows (one per id)`);
    }
    const n = tensor.data.length;
    const perRow = rows === 0 ? (column.scalar ? 1 : 0) : n / rows;
    if (!Number.isInteger(perRow) || (column.scalar && perRow !== 1)) {
      throw internal(`output '${column.name}' holds ${n} elements for ${rows} rows; expected ${column.scalar ? 'one per row' : 'the same number per row'}`);
    }
    return { column, data: tensor.data as ArrayLike<unknown>, perRow };
  });
}
