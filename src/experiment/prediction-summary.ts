/**
 * What an experiment keeps of one answer: per row, the label (a label output, or the argmax of the probabilities)
 * and the scores (the first floating-point output's row). Enough to judge it against an outcome later and to
 * compare two variants on the same request, and small enough to keep hundreds of thousands of in memory.
 */
import type { Tensor } from '../tensor/tensor.js';
import type { TensorData } from '../tensor/datatypes.js';

export type Label = string | number;

/** One row of an answer, as stored (short keys: it is written once per prediction). */
export interface RowPrediction {
  /** The label: classification's answer, or a label output of any model. */
  readonly l?: Label;
  /** The scores: probabilities of a classifier, the value(s) of a regressor. */
  readonly s?: readonly number[];
}

/** Rows with more scores than this keep their label but not their scores: a 1000-class model is not stored whole. */
const MAX_SCORES = 64;

/**
 * The rows of an answer. `labels`: classification's class labels in column order, used to name an argmax. An
 * answer with no output this understands gives rows with neither field (still counted; never an error).
 */
export function summarize(outputs: readonly Tensor[], classification: boolean, labels?: readonly Label[]): RowPrediction[] {
  const labelOutput = outputs.find(isLabelOutput);
  // FP16 data holds half-precision bit patterns: not scores as they stand, and rare for a model's answer.
  const scoreOutput = outputs.find((t) => (t.datatype === 'FP32' || t.datatype === 'FP64') && t.shape.length >= 1);
  const rows = (labelOutput ?? scoreOutput)?.shape[0] ?? 0;
  const summary: RowPrediction[] = new Array(rows);
  const width = scoreOutput ? scoreOutput.data.length / Math.max(rows, 1) : 0;
  for (let r = 0; r < rows; r++) {
    const scores = scoreOutput && width <= MAX_SCORES ? rowOf(scoreOutput.data, r, width) : undefined;
    let label = labelOutput ? labelAt(labelOutput.data, r) : undefined;
    if (label === undefined && classification && scoreOutput) label = argmaxLabel(rowOf(scoreOutput.data, r, width), labels);
    summary[r] = label === undefined ? (scores ? { s: scores } : {}) : scores ? { l: label, s: scores } : { l: label };
  }
  return summary;
}

/** The probability of `truth` in a row's scores, when the scores are probabilities; undefined otherwise. */
export function probabilityOf(row: RowPrediction, truth: Label, labels?: readonly Label[]): number | undefined {
  const s = row.s;
  if (!s || s.length === 0) return undefined;
  if (s.length === 1) {
    // One column: a binary classifier's probability of the positive class (the second label, or 1).
    const p = s[0] as number;
    if (!(p >= 0 && p <= 1)) return undefined;
    const positive = labels ? labels[1] : 1;
    return sameLabel(truth, positive as Label) ? p : 1 - p;
  }
  let sum = 0;
  for (const p of s) {
    if (!(p >= 0 && p <= 1)) return undefined;
    sum += p;
  }
  if (Math.abs(sum - 1) > 1e-3) return undefined; // logits or scores, not probabilities
  // Without labels the columns are 0, 1, ...: a truth sent as text ("2", as gRPC's truth_labels carry it) is one too.
  const column = labels ? labels.findIndex((l) => sameLabel(l, truth)) : typeof truth === 'number' ? truth : /^\d+$/.test(truth) ? Number(truth) : Number.NaN;
  return Number.isInteger(column) && column >= 0 && column < s.length ? (s[column] as number) : undefined;
}

/** Labels compare as text: a truth sent as "1" matches a label output of 1. */
export function sameLabel(a: Label | undefined, b: Label | undefined): boolean {
  return a !== undefined && b !== undefined && String(a) === String(b);
}

function isLabelOutput(t: Tensor): boolean {
  const rows = t.shape[0] ?? 0;
  const integer = t.datatype.startsWith('INT') || t.datatype.startsWith('UINT') || t.datatype === 'BYTES';
  return integer && rows > 0 && t.data.length === rows;
}

function labelAt(data: TensorData, row: number): Label | undefined {
  const v = data[row];
  if (typeof v === 'string' || typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return undefined;
}

function rowOf(data: TensorData, row: number, width: number): number[] {
  const out = new Array<number>(width);
  for (let i = 0; i < width; i++) out[i] = Number(data[row * width + i]);
  return out;
}

function argmaxLabel(scores: readonly number[], labels?: readonly Label[]): Label | undefined {
  if (scores.length === 0) return undefined;
  if (scores.length === 1) {
    const positive = (scores[0] as number) >= 0.5;
    return labels ? labels[positive ? 1 : 0] : positive ? 1 : 0;
  }
  let best = 0;
  for (let i = 1; i < scores.length; i++) if ((scores[i] as number) > (scores[best] as number)) best = i;
  return labels?.[best] ?? best;
}
