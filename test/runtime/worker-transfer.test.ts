/**
 * Inputs a request owns alone are moved to an inference worker thread, not copied (tensor/transferable.ts): the
 * main thread's view is detached after the send, the worker's answer is the same as for a copied input, and data
 * ferry does not own (a caller's array, a small one) is copied and left intact.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { WorkerInstance } from '../../src/runtime/worker/worker-instance.js';
import { forPosting, markOwned, markOwnedBuffer } from '../../src/tensor/transferable.js';
import { newTypedArray } from '../../src/tensor/small-arrays.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { EXAMPLES } from '../helpers/server.js';

const image = (): Tensor => {
  const data = new Float32Array(3 * 128 * 128);
  for (let i = 0; i < data.length; i++) data[i] = (i % 251) / 251;
  return { name: 'image', datatype: 'FP32', shape: [1, 3, 128, 128], data };
};

describe('moving owned inputs to a worker thread', () => {
  let worker: WorkerInstance;
  let output: string;

  before(async () => {
    const started = await WorkerInstance.start({ kind: 'thread', file: join(EXAMPLES, 'image_cnn/1/model.onnx'), session: undefined, nice: 0, label: 'image_cnn' });
    worker = started.instance;
    output = started.loaded.outputs[0]!.name;
  });
  after(() => worker.release());

  it('detaches an owned input on send, and answers as for a copied one', async () => {
    const copied = image();
    const moved = image();
    markOwned(moved.data as Float32Array);
    const [expected] = await worker.run([copied], [output]);
    const running = worker.run([moved], [output]);
    assert.equal((moved.data as Float32Array).byteLength, 0, 'the owned input was moved, not copied');
    assert.equal((copied.data as Float32Array).byteLength, 3 * 128 * 128 * 4, 'an input ferry does not own stays');
    const [got] = await running;
    assert.deepEqual(got!.data, expected!.data);
  });

  it('lists each owned buffer once, whole, and nothing else', () => {
    const small = new Float32Array(16);
    markOwned(small);
    const view = new Float32Array(new ArrayBuffer(8 + 4096 * 4), 8, 4096);
    markOwned(view); // a view that does not cover its buffer: someone else may hold the rest
    const body = new ArrayBuffer(16 + 8192);
    markOwnedBuffer(body);
    const a = new Float32Array(body, 16, 1024);
    const b = new Float32Array(body, 16 + 4096, 1024);
    const tensors: Tensor[] = [
      { name: 's', datatype: 'FP32', shape: [16], data: small },
      { name: 'v', datatype: 'FP32', shape: [4096], data: view },
      { name: 'a', datatype: 'FP32', shape: [1024], data: a },
      { name: 'b', datatype: 'FP32', shape: [1024], data: b },
      { name: 't', datatype: 'BYTES', shape: [1], data: ['x'] },
    ];
    assert.deepEqual(forPosting(tensors).transfer, [body]);
  });

  it('posts a view of shared memory as its own bytes, not the buffer under it, and answers the same', async () => {
    const shared = new ArrayBuffer(64 * 1024);
    const whole = image();
    const view = new Float32Array(shared, 1024, whole.data.length / 4); // a quarter of the image's values
    view.set((whole.data as Float32Array).subarray(0, view.length));
    const small = newTypedArray(Float32Array, 30); // from a slab of small arrays
    const { tensors, transfer } = forPosting([
      { name: 'v', datatype: 'FP32', shape: [view.length], data: view },
      { name: 's', datatype: 'FP32', shape: [30], data: small },
    ]);
    assert.deepEqual(transfer, []);
    assert.equal((tensors[0]!.data as Float32Array).buffer.byteLength, view.byteLength, 'only the view\'s bytes are posted');
    assert.deepEqual(tensors[0]!.data, view);
    assert.equal((tensors[1]!.data as Float32Array).buffer.byteLength, 30 * 4);
    assert.equal(view.byteLength, whole.data.length, 'the caller\'s view is left as it was');

    // The worker answers a view on a larger buffer as it answers the same values in an array of their own.
    const inShared = new Float32Array(new ArrayBuffer(whole.data.length * 4 + 4096), 4096, whole.data.length);
    inShared.set(whole.data as Float32Array);
    const [expected] = await worker.run([image()], [output]);
    const [got] = await worker.run([{ ...whole, data: inShared }], [output]);
    assert.deepEqual(got!.data, expected!.data);
  });
});
