/**
 * k-nearest neighbours on iris, written in TypeScript: a model ferry serves with no ONNX file. Its training data
 * (scaled points, classes, k) is neighbours.json beside it, written by examples/knn/train.py, so the data and the
 * code that reads it are versioned together. Votes of the k nearest points are its class probabilities, as
 * scikit-learn's KNeighborsClassifier (uniform weights) gives them.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LoadModel, ModelTensor } from 'ferry';

interface Neighbours {
  k: number;
  labels: string[];
  mean: number[];
  scale: number[];
  points: number[][];
  classes: number[];
}

export const load: LoadModel = async ({ dir }) => {
  const n = JSON.parse(await readFile(join(dir, 'neighbours.json'), 'utf8')) as Neighbours;
  const width = n.mean.length;
  const points = Float64Array.from(n.points.flat());
  const classes = n.labels.length;
  return {
    inputs: [{ name: 'measurements', datatype: 'FP32', shape: [-1, width] }],
    outputs: [
      { name: 'label', datatype: 'BYTES', shape: [-1] },
      { name: 'probabilities', datatype: 'FP32', shape: [-1, classes] },
    ],
    labels: { probabilities: n.labels },
    predict({ measurements }) {
      const x = (measurements as ModelTensor).data as Float32Array;
      const rows = x.length / width;
      const probabilities = new Float32Array(rows * classes);
      const label: string[] = [];
      const distances = new Float64Array(n.classes.length);
      const order = Array.from(n.classes, (_, i) => i);
      for (let r = 0; r < rows; r++) {
        for (let p = 0; p < n.classes.length; p++) {
          let d = 0;
          for (let j = 0; j < width; j++) {
            const diff = (x[r * width + j]! - n.mean[j]!) / n.scale[j]! - points[p * width + j]!;
            d += diff * diff;
          }
          distances[p] = d;
        }
        order.sort((a, b) => distances[a]! - distances[b]! || a - b);
        for (let i = 0; i < n.k; i++) probabilities[r * classes + n.classes[order[i]!]!]! += 1 / n.k;
        let best = 0;
        for (let c = 1; c < classes; c++) if (probabilities[r * classes + c]! > probabilities[r * classes + best]!) best = c;
        label.push(n.labels[best]!);
      }
      return { label: { data: label }, probabilities: { data: probabilities } };
    },
  };
};
