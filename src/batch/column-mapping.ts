/**
 * Which source columns feed which model input. Defaults: a column named after an input feeds it; a model with one
 * input takes every other column in order (the id column aside) or, from a typed source (Parquet, PostgreSQL), every
 * numeric column in order, so a text column (a name, a date) is not fed to the model. `--map INPUT=a,b,c` says it
 * explicitly.
 */
import type { TensorSpec } from '../tensor/tensor.js';
import type { InputMapping } from './types.js';

export interface MappingOptions {
  /** INPUT -> column names, from --map. */
  readonly map?: Readonly<Record<string, readonly string[]>>;
  readonly idColumn?: string;
  /** JSON Lines, Parquet, PostgreSQL: one column may hold a whole row of an input as an array. */
  readonly arrayColumns?: boolean;
  /** Typed sources: which columns hold numbers (or arrays of numbers); only these feed an input by default. */
  readonly numeric?: readonly boolean[];
}

export function mapColumns(
  header: readonly string[],
  inputs: readonly TensorSpec[],
  options: MappingOptions,
): { mappings: InputMapping[]; idColumn: number | undefined } {
  const index = new Map(header.map((name, i) => [name, i]));
  const columnsText = () => header.map((h) => `'${h}'`).join(', ');
  const column = (name: string, why: string): number => {
    const i = index.get(name);
    if (i === undefined) throw new Error(`${why}: no column '${name}' (columns: ${columnsText()})`);
    return i;
  };
  const idColumn = options.idColumn === undefined ? undefined : column(options.idColumn, '--id-column');
  for (const name of Object.keys(options.map ?? {})) {
    if (!inputs.some((s) => s.name === name)) throw new Error(`--map ${name}=...: the model has no input '${name}' (its inputs: ${inputs.map((s) => `'${s.name}'`).join(', ')})`);
  }
  const mappings = inputs.map((spec): InputMapping => {
    const shape = spec.shape ?? [-1, -1];
    let rowShape = shape.slice(1);
    const fixed = rowShape.every((d) => d >= 0);
    const elements = rowShape.reduce((a, b) => a * Math.max(b, 1), 1);
    let columns: number[];
    const named = options.map?.[spec.name];
    if (named) columns = named.map((c) => column(c, `--map ${spec.name}`));
    else if (index.has(spec.name) && (elements === 1 || options.arrayColumns)) columns = [index.get(spec.name)!];
    else if (inputs.length === 1) columns = header.map((_, i) => i).filter((i) => i !== idColumn && (options.numeric?.[i] ?? true));
    else throw new Error(`model input '${spec.name}' (shape [${shape.join(',')}]) has no column of its name; say which columns feed it with --map ${spec.name}=COL1,COL2,...`);
    const arrayColumn = options.arrayColumns && columns.length === 1 && (elements > 1 || !fixed);
    if (!fixed && !arrayColumn) {
      if (rowShape.length !== 1) throw new Error(`model input '${spec.name}' has shape [${shape.join(',')}]; only inputs of one dimension per row can be read from columns`);
      rowShape = [columns.length];
    } else if (!arrayColumn && columns.length !== elements) {
      throw new Error(`model input '${spec.name}' takes ${elements} values per row (shape [${shape.join(',')}]) but ${columns.length} columns feed it${named ? '' : ` (${columns.map((i) => `'${header[i]}'`).join(', ')}); choose them with --map ${spec.name}=...`}`);
    }
    return { input: spec.name, datatype: spec.datatype, columns, rowShape, ...(spec.missing ? { missing: true } : {}) };
  });
  return { mappings, idColumn };
}

/** Parses repeated `--map INPUT=a,b,c` values. */
export function parseMapFlags(values: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0 || eq === v.length - 1) throw new Error(`--map takes INPUT=COLUMN[,COLUMN...], got '${v}'`);
    out[v.slice(0, eq)] = v.slice(eq + 1).split(',').map((c) => c.trim()).filter((c) => c !== '');
  }
  return out;
}
