/**
 * Turns the checked input mappings into what the CSV scanner works from: one action per header column, the slot
 * each mapped column's value goes to, and copies for a column that feeds more than one element.
 */
import { invalid } from '../../errors.js';
import {
  ACTION_FLOAT,
  ACTION_GENERIC,
  ACTION_INT,
  ACTION_SKIP,
  NUMERIC_BOOL,
  NUMERIC_FLOAT,
  NUMERIC_INT,
  NUMERIC_NONE,
  type CsvScanPlan,
} from '../csv/index.js';
import type { InputPlan } from './input-plan.js';

/** The delimiter as one byte; a quote or a line end cannot be one. */
export function delimiterByte(delimiter: string | undefined): number {
  const d = delimiter ?? ',';
  const code = d.length === 1 ? d.charCodeAt(0) : -1;
  if (code < 1 || code > 127 || d === '"' || d === '\n' || d === '\r') {
    throw invalid(`CSV delimiter ${JSON.stringify(d)} must be one ASCII character other than a quote or a line end`);
  }
  return code;
}

export function csvScanPlan(plan: InputPlan, delimiter: number, shard: { index: number; count: number }): CsvScanPlan {
  const columns = plan.header.length;
  const actions = new Uint8Array(columns);
  const numericKinds = new Uint8Array(columns);
  const numericSlots = new Int32Array(columns).fill(-1);
  const textSlots = new Int32Array(columns).fill(-1);
  const emptyIsNaN = new Uint8Array(columns).fill(1);
  const intMin = new Float64Array(columns).fill(-Infinity);
  const intMax = new Float64Array(columns).fill(Infinity);
  const numericCopies: number[] = [];
  const textCopies: number[] = [];

  for (const { mapping, info, text, offset, missingIsNaN } of plan.inputs) {
    mapping.columns.forEach((c, j) => {
      const slot = offset + j;
      if (!missingIsNaN) emptyIsNaN[c] = 0;
      if (text) {
        if ((textSlots[c] as number) < 0) textSlots[c] = slot;
        else textCopies.push(textSlots[c] as number, slot);
        return;
      }
      const kind = info.kind === 'bool' ? NUMERIC_BOOL : info.kind === 'int' || info.kind === 'bigint' ? NUMERIC_INT : NUMERIC_FLOAT;
      const was = numericKinds[c] as number;
      if (was !== NUMERIC_NONE && (was === NUMERIC_BOOL) !== (kind === NUMERIC_BOOL)) {
        throw invalid(`column '${plan.header[c]}' feeds both a BOOL input and a numeric one (input '${mapping.input}')`);
      }
      // A column that feeds a float input and an integer one must hold integers; two integer types: both ranges.
      numericKinds[c] = Math.max(was, kind);
      if (kind === NUMERIC_INT) {
        intMin[c] = Math.max(intMin[c] as number, info.min as number);
        intMax[c] = Math.min(intMax[c] as number, info.max as number);
      }
      if ((numericSlots[c] as number) < 0) numericSlots[c] = slot;
      else numericCopies.push(numericSlots[c] as number, slot);
    });
  }
  for (let c = 0; c < columns; c++) {
    const kind = numericKinds[c];
    if ((textSlots[c] as number) >= 0 || c === plan.idColumn || kind === NUMERIC_BOOL) actions[c] = ACTION_GENERIC;
    else if (kind === NUMERIC_INT) actions[c] = ACTION_INT;
    else if (kind === NUMERIC_FLOAT) actions[c] = ACTION_FLOAT;
    else actions[c] = ACTION_SKIP;
  }
  return {
    delimiter,
    names: plan.header,
    actions,
    numericKinds,
    emptyIsNaN,
    numericSlots,
    textSlots,
    intMin,
    intMax,
    numericCopies: Int32Array.from(numericCopies),
    textCopies: Int32Array.from(textCopies),
    idColumn: plan.idColumn ?? -1,
    width: plan.width,
    textWidth: plan.textWidth,
    shard,
  };
}
