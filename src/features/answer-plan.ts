/**
 * Model outputs -> named answer fields (config.yaml's `postprocess`): from a classifier's scores ([-1, K]), the
 * label of each row (the best column's, or for two classes the second one's when its score reaches `threshold`),
 * that label's score, and the k best labels with their scores. The model's own outputs are answered too, under
 * their names. Runs per batch, after the model, on the thread that batches: it cannot fail on a client's input.
 */
import type { PostprocessConfig } from '../config/feature-config-schema.js';
import type { Tensor, TensorSpec } from '../tensor/tensor.js';
import type { ModelRuntime } from '../runtime/runtime.js';

export const LABEL = 'label';
export const PROBABILITY = 'probability';
export const TOP_LABELS = 'top_labels';
export const TOP_PROBABILITIES = 'top_probabilities';

export interface AnswerPlan {
  readonly outputs: readonly TensorSpec[];
  /** Labels of the scores output, for whoever shows a classifier's columns. */
  readonly labels: ReadonlyMap<string, readonly (string | number)[]>;
  run(model: ModelRuntime, inputs: readonly Tensor[], outputNames: readonly string[]): Promise<Tensor[]>;
}

export function compileAnswer(config: PostprocessConfig, model: ModelRuntime): AnswerPlan {
  const scores = model.outputs.find((s) => s.name === (config.output ?? model.outputs[0]!.name));
  if (!scores) throw new Error(`postprocess.output '${config.output}' is not an output of the model (its outputs: ${model.outputs.map((s) => `'${s.name}'`).join(', ')})`);
  if (scores.datatype !== 'FP32' && scores.datatype !== 'FP64') throw new Error(`postprocess.output '${scores.name}' is ${scores.datatype}: class scores must be FP32 or FP64`);
  const columns = scores.shape?.length === 2 ? scores.shape[1]! : -1;
  if (scores.shape && scores.shape.length !== 2) throw new Error(`postprocess.output '${scores.name}' has shape [${scores.shape.join(',')}]: class scores are [-1, classes]`);
  const labels = config.labels ?? model.labels.get(scores.name) ?? (columns > 0 ? Array.from({ length: columns }, (_, i) => i) : undefined);
  if (!labels) throw new Error(`postprocess: the number of classes of '${scores.name}' is not fixed; give postprocess.labels`);
  if (columns > 0 && labels.length !== columns) throw new Error(`postprocess.labels has ${labels.length} labels, and output '${scores.name}' has ${columns} columns`);
  const k = labels.length;
  if (config.threshold !== undefined && k !== 2) throw new Error(`postprocess.threshold is for two classes, and '${scores.name}' has ${k}`);
  if (config.top_k !== undefined && config.top_k > k) throw new Error(`postprocess.top_k ${config.top_k} is more than the ${k} classes`);
  const numeric = labels.every((l) => typeof l === 'number' && Number.isInteger(l));
  const labelType = numeric ? 'INT64' : 'BYTES';
  const topK = config.top_k;
  const added: TensorSpec[] = [
    { name: LABEL, datatype: labelType, shape: [-1] },
    { name: PROBABILITY, datatype: scores.datatype, shape: [-1] },
    ...(topK ? [{ name: TOP_LABELS, datatype: labelType, shape: [-1, topK] } as const, { name: TOP_PROBABILITIES, datatype: scores.datatype, shape: [-1, topK] } as const] : []),
  ];
  const addedNames = new Set(added.map((s) => s.name));
  const outputs = [...added, ...model.outputs.filter((s) => !addedNames.has(s.name))];
  const threshold = config.threshold;
  return {
    outputs,
    labels: new Map([[scores.name, labels]]),
    async run(runtime, inputs, outputNames) {
      const wanted = new Set<string>();
      for (const n of outputNames) wanted.add(addedNames.has(n) ? scores.name : n);
      const modelNames = [...wanted];
      const got = await runtime.run(inputs, modelNames);
      const byName = new Map(got.map((t) => [t.name, t]));
      const s = byName.get(scores.name);
      const fields = s && outputNames.some((n) => addedNames.has(n)) ? answerFields(s, labels, numeric, threshold, topK) : undefined;
      return outputNames.map((n) => (addedNames.has(n) ? fields!.get(n)! : byName.get(n)!));
    },
  };
}

function answerFields(s: Tensor, labels: readonly (string | number)[], numeric: boolean, threshold: number | undefined, topK: number | undefined): Map<string, Tensor> {
  const k = labels.length;
  const rows = s.shape[0]!;
  const p = s.data as Float32Array | Float64Array;
  const Floats = p instanceof Float64Array ? Float64Array : Float32Array;
  const best = new Int32Array(rows);
  const bestScore = new Floats(rows);
  for (let r = 0; r < rows; r++) {
    let b = 0;
    if (threshold !== undefined) b = p[r * 2 + 1]! >= threshold ? 1 : 0;
    else for (let c = 1; c < k; c++) if (p[r * k + c]! > p[r * k + b]!) b = c;
    best[r] = b;
    bestScore[r] = p[r * k + b]!;
  }
  const labelData = (indexes: ArrayLike<number>) => (numeric ? BigInt64Array.from(indexes, (i) => BigInt(labels[i] as number)) : Array.from(indexes, (i) => String(labels[i])));
  const datatype = numeric ? 'INT64' : 'BYTES';
  const fields = new Map<string, Tensor>([
    [LABEL, { name: LABEL, datatype, shape: [rows], data: labelData(best) }],
    [PROBABILITY, { name: PROBABILITY, datatype: s.datatype, shape: [rows], data: bestScore }],
  ]);
  if (topK) {
    const order = new Int32Array(rows * topK);
    const top = new Floats(rows * topK);
    const columns = Array.from({ length: k }, (_, c) => c);
    for (let r = 0; r < rows; r++) {
      const ranked = columns.slice().sort((a, b) => p[r * k + b]! - p[r * k + a]! || a - b);
      for (let j = 0; j < topK; j++) {
        order[r * topK + j] = ranked[j]!;
        top[r * topK + j] = p[r * k + ranked[j]!]!;
      }
    }
    fields.set(TOP_LABELS, { name: TOP_LABELS, datatype, shape: [rows, topK], data: labelData(order) });
    fields.set(TOP_PROBABILITIES, { name: TOP_PROBABILITIES, datatype: s.datatype, shape: [rows, topK], data: top });
  }
  return fields;
}
