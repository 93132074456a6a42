/**
 * What both readers share: checking the column mappings once, the row store good rows are parsed into, and
 * turning a store into the batch's tensors.
 *
 * Values are parsed into one Float64Array (a row of `width` slots: each numeric input's elements side by side)
 * and texts into one string array, then copied into each input's own typed array when the batch is complete.
 * That copy is a native `TypedArray.set` (a conversion loop in C++), a few percent of the parse, and it keeps the
 * parser's hot loop monomorphic: it writes doubles into one array whatever the inputs' datatypes.
 */
import { invalid } from '../../errors.js';
import { toHalfBits } from '../../tensor/fp16.js';
import { DATATYPES, isDatatype, type DatatypeInfo } from '../../tensor/datatypes.js';
import { elementCount, type Tensor } from '../../tensor/tensor.js';
import type { InputMapping, ReaderOptions, Reject, RowBatch, SourcePosition } from '../types.js';
import type { RowSink } from '../csv/index.js';

export interface InputLayout {
  readonly mapping: InputMapping;
  readonly info: DatatypeInfo;
  /** Values per row: elementCount(rowShape). */
  readonly elements: number;
  /** BYTES: its elements live in the text row. */
  readonly text: boolean;
  /** Its first slot in the numeric row (or the text row). */
  readonly offset: number;
  /**
   * A model's number feature (a float input of one value a row, marked missing): an empty or null value is a missing
   * value, NaN, which the model's config decides about (features' `missing`), as in the V1 records API.
   */
  readonly missingIsNaN: boolean;
  /** A model's category or text feature: an absent or null value is "", missing. */
  readonly missingIsEmpty: boolean;
}

export interface InputPlan {
  readonly header: readonly string[];
  readonly inputs: readonly InputLayout[];
  readonly idColumn: number | undefined;
  /** Slots per row: numeric and text. */
  readonly width: number;
  readonly textWidth: number;
}

/**
 * Calls `mapColumns` and checks what it returned against the header. `oneColumnPerElement`: CSV (each column
 * holds one value); JSON Lines relaxes it, since a column may hold an array that fills several elements.
 */
export function planInputs(header: readonly string[], options: ReaderOptions, oneColumnPerElement: boolean, numeric?: readonly boolean[]): InputPlan {
  const { mappings, idColumn } = options.mapColumns(header, numeric);
  const isColumn = (c: number) => Number.isInteger(c) && c >= 0 && c < header.length;
  if (idColumn !== undefined && !isColumn(idColumn)) throw invalid(`id column ${idColumn} is not a column of the header (${header.length} columns)`);
  let width = 0;
  let textWidth = 0;
  const inputs = mappings.map((mapping): InputLayout => {
    const where = `input '${mapping.input}'`;
    if (!isDatatype(mapping.datatype)) throw invalid(`${where}: unknown datatype ${String(mapping.datatype)}`);
    if (!mapping.rowShape.every((d) => Number.isInteger(d) && d >= 0)) throw invalid(`${where}: row shape [${mapping.rowShape.join(',')}] is not a list of sizes`);
    const elements = elementCount(mapping.rowShape);
    for (const c of mapping.columns) if (!isColumn(c)) throw invalid(`${where}: column ${c} is not a column of the header (${header.length} columns)`);
    const n = mapping.columns.length;
    if (oneColumnPerElement ? n !== elements : n > elements || (n === 0 && elements > 0)) {
      throw invalid(`${where}: ${n} column${n === 1 ? '' : 's'} for a row shape of ${elements} element${elements === 1 ? '' : 's'} [${mapping.rowShape.join(',')}]`);
    }
    const text = mapping.datatype === 'BYTES';
    const offset = text ? textWidth : width;
    if (text) textWidth += elements;
    else width += elements;
    const info = DATATYPES[mapping.datatype];
    const feature = mapping.missing === true && mapping.rowShape.length === 0;
    return { mapping, info, elements, text, offset, missingIsNaN: feature && info.kind === 'float', missingIsEmpty: feature && text };
  });
  return { header, inputs, idColumn, width, textWidth };
}

/** The rows of one batch as they are parsed: good rows' values, and the rejects. */
export class RowStore implements RowSink {
  numbers: Float64Array;
  texts: string[] = [];
  rows = 0;
  rowNumbers: number[] = [];
  ids: string[] = [];
  rejects: Reject[] = [];

  constructor(capacity: number, readonly width: number) {
    this.numbers = new Float64Array(Math.max(1, capacity * width));
  }

  /** Starts the next batch: fresh arrays (the last batch keeps its own), the same numeric scratch. */
  reset(): void {
    this.texts = [];
    this.rows = 0;
    this.rowNumbers = [];
    this.ids = [];
    this.rejects = [];
  }
}

/**
 * The batch of the store's rows (good ones as tensors, rejects as they are), to resume at `next`, counting the
 * `consumed` input rows it stands for (taken, skipped by the shard filter, or rejected); the store is emptied for the next.
 */
export function takeBatch(plan: InputPlan, store: RowStore, next: SourcePosition, consumed: number): RowBatch {
  const batch: RowBatch = { rowNumbers: store.rowNumbers, ids: store.ids, inputs: toTensors(plan, store), rejects: store.rejects, next, consumed };
  store.reset();
  return batch;
}

/** The tensors of the store's good rows, one per mapping, shape [rows, ...rowShape]. */
export function toTensors(plan: InputPlan, store: RowStore): Tensor[] {
  const rows = store.rows;
  return plan.inputs.map(({ mapping, info, elements, text, offset }) => {
    const shape = [rows, ...mapping.rowShape];
    const n = rows * elements;
    if (text) {
      const data = new Array<string>(n);
      for (let r = 0, k = 0; r < rows; r++) {
        const base = r * plan.textWidth + offset;
        for (let j = 0; j < elements; j++) data[k++] = store.texts[base + j] as string;
      }
      return { name: mapping.input, datatype: mapping.datatype, shape, data };
    }
    const src = store.numbers;
    const width = plan.width;
    const Array_ = info.array as NonNullable<DatatypeInfo['array']>;
    if (info.kind === 'bigint' || info.kind === 'fp16') {
      const data = new Array_(n);
      const put =
        info.kind === 'fp16'
          ? (k: number, v: number) => ((data as Uint16Array)[k] = toHalfBits(v))
          : (k: number, v: number) => ((data as BigInt64Array)[k] = BigInt(v));
      for (let r = 0, k = 0; r < rows; r++) {
        const base = r * width + offset;
        for (let j = 0; j < elements; j++) put(k++, src[base + j] as number);
      }
      return { name: mapping.input, datatype: mapping.datatype, shape, data };
    }
    const data = new (Array_ as Float64ArrayConstructor)(n);
    if (elements === width) data.set(src.subarray(0, n));
    else for (let r = 0; r < rows; r++) data.set(src.subarray(r * width + offset, r * width + offset + elements), r * elements);
    return { name: mapping.input, datatype: mapping.datatype, shape, data };
  });
}

/** Checks what every reader checks before it reads a row. */
export function checkReaderOptions(options: ReaderOptions): { index: number; count: number } {
  const { batchSize, shard, startAt } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw invalid(`batch size must be a positive integer, not ${batchSize}`);
  const s = shard ?? { index: 0, count: 1 };
  if (!Number.isInteger(s.count) || s.count < 1 || !Number.isInteger(s.index) || s.index < 0 || s.index >= s.count) {
    throw invalid(`shard ${s.index}/${s.count} is not a shard: it takes an index from 0 to count - 1`);
  }
  if (startAt) checkPosition(startAt);
  return { index: s.index, count: s.count };
}

/**
 * Where a row-addressed source (Parquet, PostgreSQL) starts: `startAt`'s row number. Its byte offset must be 0:
 * anything else is a checkpoint written for a text file.
 */
export function startRow(source: string, startAt: SourcePosition | undefined): number {
  if (!startAt) return 0;
  if (startAt.byteOffset !== 0) {
    throw invalid(`${source}: resume offset ${startAt.byteOffset} is not 0; this source resumes by row number alone, so the checkpoint was written for another input`);
  }
  return startAt.rowNumber;
}

function checkPosition(p: SourcePosition): void {
  if (!Number.isSafeInteger(p.byteOffset) || p.byteOffset < 0 || !Number.isSafeInteger(p.rowNumber) || p.rowNumber < 0) {
    throw invalid(`resume position ${JSON.stringify(p)} is not a byte offset and a row number`);
  }
}

/**
 * Where reading starts: `startAt` (checked to lie in the data part of a file of `size` bytes whose rows start at
 * `dataStart`), or the first row. { byteOffset: 0, rowNumber: 0 } also means the first row, header or not.
 */
export function startPosition(path: string, startAt: SourcePosition | undefined, dataStart: number, size: number): SourcePosition {
  if (!startAt || (startAt.byteOffset <= dataStart && startAt.rowNumber === 0)) return { byteOffset: dataStart, rowNumber: 0 };
  if (startAt.byteOffset < dataStart || startAt.byteOffset > size) {
    throw invalid(`${path}: resume offset ${startAt.byteOffset} lies outside the rows (bytes ${dataStart} to ${size}); was the file changed?`);
  }
  return startAt;
}
