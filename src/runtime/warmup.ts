/**
 * Warm-up: a few runs on synthetic input right after load, so the first real request does not pay onnxruntime's
 * first-run costs (Triton's model_warmup), and so the measured run time can decide where inference runs.
 */
import { DATATYPES } from '../tensor/datatypes.js';
import { elementCount, type Tensor, type TensorSpec } from '../tensor/tensor.js';
import { runInputsOf, type ModelRuntime } from './runtime.js';

/** Zeros (empty strings for BYTES) for every input: `rows` along a dynamic first dimension, other dynamic ones 1. */
export function syntheticInputs(specs: readonly TensorSpec[], rows = 1): Tensor[] {
  return specs.map((s) => {
    const shape = (s.shape ?? [1]).map((d, i) => (d >= 0 ? d : i === 0 ? rows : 1));
    const n = elementCount(shape);
    const info = DATATYPES[s.datatype];
    const data = info.kind === 'bytes' ? new Array<string>(n).fill('') : new info.array!(n);
    return { name: s.name, datatype: s.datatype, shape, data };
  });
}

/**
 * Fastest of `runs` runs after `untimed` untimed ones, in milliseconds (Infinity when `runs` is 0: a warm-up only);
 * throws if the model refuses the synthetic input.
 * The minimum, not the median: other models load and warm up at the same time, and their work lands inside this
 * wall-clock measurement; the fastest run is the one closest to the model's own cost.
 */
export async function measureRun(runtime: ModelRuntime, rows = 1, runs = 5, untimed = 1): Promise<number> {
  const inputs = syntheticInputs(runInputsOf(runtime), rows);
  const outputs = runtime.outputs.map((o) => o.name);
  // One model measures at a time, so their runs do not land inside each other's timings.
  const turn = measuring.then(async () => {
    for (let i = 0; i < untimed; i++) await runtime.run(inputs, outputs);
    let fastest = Infinity;
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      await runtime.run(inputs, outputs);
      fastest = Math.min(fastest, performance.now() - t);
    }
    return fastest;
  });
  measuring = turn.catch(() => 0);
  return turn;
}

let measuring: Promise<unknown> = Promise.resolve();

/**
 * Runs the model once at each batch size, every instance at once (a pool's instances each get a run), so that a
 * version swapped in under load meets no first run at a size it has not seen: onnxruntime grows its memory arena
 * for the largest batch on first sight, and GPU providers pick kernels per shape. Throws if the model refuses a
 * synthetic input.
 */
export async function warmUpBatchSizes(runtime: ModelRuntime, sizes: readonly number[]): Promise<void> {
  const outputs = runtime.outputs.map((o) => o.name);
  for (const rows of sizes) {
    const inputs = syntheticInputs(runInputsOf(runtime), rows);
    await Promise.all(Array.from({ length: runtime.concurrency }, () => runtime.run(inputs, outputs)));
  }
}

/** The batch sizes a batcher of at most `max` rows builds most: every power of two up to it, and it. */
export function typicalBatchSizes(max: number, preferred: readonly number[] = []): number[] {
  const sizes = new Set<number>();
  for (let n = 1; n < max; n *= 2) sizes.add(n);
  sizes.add(Math.max(1, max));
  for (const p of preferred) if (p <= max) sizes.add(p);
  return [...sizes].sort((a, b) => a - b);
}
