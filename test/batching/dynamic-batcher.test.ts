/**
 * The batcher's own rules, with a plain function as the model (it doubles every input row and reports the batch
 * it was given): merging and splitting, shape groups, padding with lengths, limits and deadlines.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DynamicBatcher, type BatcherOptions, type BatchRunner } from '../../src/batching/dynamic-batcher.js';
import { concatPadded, splitRows } from '../../src/batching/concat-split.js';
import { FerryError } from '../../src/errors.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import type { ModelRuntime } from '../../src/runtime/runtime.js';
import { withGeneratedInputs } from '../../src/runtime/generated-inputs.js';

const x = (rows: number[][]): Tensor => ({ name: 'x', datatype: 'FP32', shape: [rows.length, rows[0]!.length], data: Float32Array.from(rows.flat()) });

function options(over: Partial<BatcherOptions> = {}): BatcherOptions {
  return {
    label: "model 'm' version 1", batching: true, maxBatchSize: 64, maxQueueDelayMs: 0, preferredBatchSizes: [],
    maxQueueSize: 0, maxInFlight: 1, pad: new Map(), ...over,
  };
}

/** A model that doubles its input and records each batch's shape; `gate` holds runs until released. */
function doubler() {
  const batches: number[][] = [];
  let release: () => void = () => {};
  let gate: Promise<void> | undefined;
  const runner: BatchRunner = async (inputs) => {
    batches.push([...inputs[0]!.shape]);
    if (gate) await gate;
    const t = inputs[0]!;
    return [{ name: 'y', datatype: 'FP32', shape: t.shape, data: (t.data as Float32Array).map((v) => v * 2) }];
  };
  return {
    runner,
    batches,
    hold() {
      gate = new Promise((r) => (release = r));
    },
    release() {
      gate = undefined;
      release();
    },
  };
}

describe('DynamicBatcher', () => {
  it('merges concurrent requests into one run and gives each caller its own rows', async () => {
    const model = doubler();
    const b = new DynamicBatcher(options(), model.runner);
    const answers = await Promise.all([b.infer([x([[1, 2]])], ['y']), b.infer([x([[3, 4], [5, 6]])], ['y']), b.infer([x([[7, 8]])], ['y'])]);
    assert.deepEqual(model.batches, [[4, 2]]);
    assert.deepEqual(answers.map((a) => [...(a[0]!.data as Float32Array)]), [[2, 4], [6, 8, 10, 12], [14, 16]]);
    assert.deepEqual(answers.map((a) => a[0]!.shape), [[1, 2], [2, 2], [1, 2]]);
  });

  it('groups requests by shape in the same cycle and never mixes them', async () => {
    const model = doubler();
    const b = new DynamicBatcher(options(), model.runner);
    const answers = await Promise.all([b.infer([x([[1, 2]])], ['y']), b.infer([x([[1, 2, 3]])], ['y']), b.infer([x([[3, 4]])], ['y']), b.infer([x([[4, 5, 6]])], ['y'])]);
    assert.deepEqual(model.batches, [[2, 2], [2, 3]]);
    assert.deepEqual([...(answers[1]![0]!.data as Float32Array)], [2, 4, 6]);
    assert.deepEqual([...(answers[3]![0]!.data as Float32Array)], [8, 10, 12]);
  });

  it('keeps a batch within max_batch_size rows, and runs a larger request alone', async () => {
    const model = doubler();
    const b = new DynamicBatcher(options({ maxBatchSize: 3 }), model.runner);
    await Promise.all([b.infer([x([[1], [2]])], ['y']), b.infer([x([[3], [4]])], ['y']), b.infer([x([[5], [6], [7], [8]])], ['y'])]);
    assert.deepEqual(model.batches, [[2, 1], [2, 1], [4, 1]]);
  });

  it('pads a configured input to the longest request, with the true lengths filled in before (generated inputs)', async () => {
    const seen: Tensor[][] = [];
    const runner: BatchRunner = async (inputs) => {
      seen.push(inputs);
      const rows = inputs[0]!.shape[0]!;
      return [{ name: 'n', datatype: 'INT64', shape: [rows], data: inputs[1]!.data }];
    };
    const model: ModelRuntime = {
      platform: 'test', concurrency: 1, placement: 'main', labels: new Map(), run: runner, release: async () => {},
      inputs: [{ name: 'tokens', datatype: 'INT64', shape: [-1, -1] }, { name: 'lengths', datatype: 'INT64', shape: [-1] }],
      outputs: [{ name: 'n', datatype: 'INT64', shape: [-1] }],
    };
    const wrapped = withGeneratedInputs(model, [{ name: 'lengths', lengths_of: 'tokens' }]);
    assert.deepEqual(wrapped.inputs.map((s) => s.name), ['tokens'], 'clients do not send the lengths');
    const b = new DynamicBatcher(options({ pad: new Map([['tokens', -1]]) }), runner);
    const tokens = (rows: number[][]): Tensor => ({ name: 'tokens', datatype: 'INT64', shape: [rows.length, rows[0]!.length], data: BigInt64Array.from(rows.flat(), BigInt) });
    const [a, c] = await Promise.all([b.infer(wrapped.prepare!([tokens([[1, 2, 3]])]), ['n']), b.infer(wrapped.prepare!([tokens([[4], [5]])]), ['n'])]);
    assert.equal(seen.length, 1, 'different lengths share one run when padded');
    assert.deepEqual(seen[0]![0]!.shape, [3, 3]);
    assert.deepEqual([...(seen[0]![0]!.data as BigInt64Array)], [1n, 2n, 3n, 4n, -1n, -1n, 5n, -1n, -1n]);
    assert.deepEqual([...(seen[0]![1]!.data as BigInt64Array)], [3n, 1n, 1n]);
    assert.deepEqual([...(a![0]!.data as BigInt64Array)], [3n]);
    assert.deepEqual([...(c![0]!.data as BigInt64Array)], [1n, 1n]);
  });

  it('runs each request of a failed batch again alone, so only the one the model refuses fails', async () => {
    let runs = 0;
    const runner: BatchRunner = async (inputs) => {
      runs++;
      const data = inputs[0]!.data as Float32Array;
      if (data.includes(-1)) throw new Error('the model cannot take -1');
      return [{ name: 'y', datatype: 'FP32', shape: [...inputs[0]!.shape], data: data.map((v) => v * 2) }];
    };
    const b = new DynamicBatcher(options(), runner);
    const results = await Promise.allSettled([b.infer([x([[1]])], ['y']), b.infer([x([[-1]])], ['y']), b.infer([x([[3]])], ['y'])]);
    assert.equal(results[0]!.status, 'fulfilled');
    assert.deepEqual([...((results[0] as PromiseFulfilledResult<Tensor[]>).value[0]!.data as Float32Array)], [2]);
    assert.equal(results[1]!.status, 'rejected');
    assert.match(String((results[1] as PromiseRejectedResult).reason), /cannot take -1/);
    assert.deepEqual([...((results[2] as PromiseFulfilledResult<Tensor[]>).value[0]!.data as Float32Array)], [6]);
    assert.equal(runs, 4, 'one batched run, then three alone');
  });

  it('refuses at once when the queue is full (RESOURCE_EXHAUSTED)', async () => {
    const model = doubler();
    model.hold();
    const b = new DynamicBatcher(options({ maxQueueSize: 2 }), model.runner);
    const running = b.infer([x([[1]])], ['y']);
    await new Promise((r) => setImmediate(r)); // the first request is now running, the queue is empty
    const queued = [b.infer([x([[2]])], ['y']), b.infer([x([[3]])], ['y'])];
    await assert.rejects(b.infer([x([[4]])], ['y']), (e: FerryError) => e.code === 'RESOURCE_EXHAUSTED' && /queue is full \(2 requests waiting\)/.test(e.message));
    model.release();
    await Promise.all([running, ...queued]);
  });

  it('drops a request whose deadline passes while it waits, and never runs it (DEADLINE_EXCEEDED)', async () => {
    const model = doubler();
    model.hold();
    const b = new DynamicBatcher(options(), model.runner);
    const running = b.infer([x([[1]])], ['y']);
    await new Promise((r) => setImmediate(r));
    const late = b.infer([x([[2]])], ['y'], performance.now() + 20);
    const patient = b.infer([x([[3]])], ['y']);
    await assert.rejects(late, (e: FerryError) => e.code === 'DEADLINE_EXCEEDED' && /deadline passed after \d+ ms in the queue; it was not run/.test(e.message));
    model.release();
    await Promise.all([running, patient]);
    assert.deepEqual(model.batches, [[1, 1], [1, 1]], 'the expired request was never part of a run');
  });

  it('waits up to max_queue_delay for a fuller batch', async () => {
    const model = doubler();
    const b = new DynamicBatcher(options({ maxQueueDelayMs: 30 }), model.runner);
    const first = b.infer([x([[1]])], ['y']);
    await new Promise((r) => setTimeout(r, 5));
    const second = b.infer([x([[2]])], ['y']);
    await Promise.all([first, second]);
    assert.deepEqual(model.batches, [[2, 1]]);
  });

  it('rejects every waiter of a failed batch with the error', async () => {
    const b = new DynamicBatcher(options(), async () => {
      throw new FerryError('INTERNAL', 'boom');
    });
    const results = await Promise.allSettled([b.infer([x([[1]])], ['y']), b.infer([x([[2]])], ['y'])]);
    assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
  });

  it('without batching, each request runs alone as sent', async () => {
    const model = doubler();
    const b = new DynamicBatcher(options({ batching: false }), model.runner);
    await Promise.all([b.infer([x([[1]])], ['y']), b.infer([x([[2]])], ['y'])]);
    assert.deepEqual(model.batches, [[1, 1], [1, 1]]);
  });

  it('stop() answers everything queued, then refuses new requests', async () => {
    const model = doubler();
    model.hold();
    const b = new DynamicBatcher(options(), model.runner);
    const pending = [b.infer([x([[1]])], ['y']), b.infer([x([[2]])], ['y'])];
    const stopped = b.stop();
    await assert.rejects(b.infer([x([[3]])], ['y']), /is stopping/);
    model.release();
    await Promise.all(pending);
    await stopped;
  });

  it('refuses inputs that disagree on the batch dimension', async () => {
    const b = new DynamicBatcher(options(), doubler().runner);
    const z: Tensor = { name: 'z', datatype: 'FP32', shape: [2, 1], data: new Float32Array(2) };
    await assert.rejects(async () => b.infer([x([[1]]), z], ['y']), /inputs disagree on the batch dimension \(dimension 0\): 'x' has 1 rows, 'z' has 2/);
  });
});

describe('concat and split', () => {
  it('pads rank-3 parts and splits outputs back as views', () => {
    const a: Tensor = { name: 'a', datatype: 'FP32', shape: [1, 1, 2], data: Float32Array.from([1, 2]) };
    const c: Tensor = { name: 'a', datatype: 'FP32', shape: [1, 2, 1], data: Float32Array.from([3, 4]) };
    const joined = concatPadded([a, c], 0);
    assert.deepEqual(joined.shape, [2, 2, 2]);
    assert.deepEqual([...(joined.data as Float32Array)], [1, 2, 0, 0, 3, 0, 4, 0]);
    const [first, second] = splitRows([joined], [1, 1]);
    assert.deepEqual(first![0]!.shape, [1, 2, 2]);
    assert.deepEqual([...(second![0]!.data as Float32Array)], [3, 0, 4, 0]);
  });

  it('refuses to split an output that is not batched along dimension 0', () => {
    const out: Tensor = { name: 'scalar', datatype: 'FP32', shape: [1], data: new Float32Array(1) };
    assert.throws(() => splitRows([out], [1, 1]), /output 'scalar' has shape \[1\], not 2 rows along dimension 0.*max_batch_size: 0/);
  });
});
