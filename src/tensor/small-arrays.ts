/**
 * Typed arrays for one request's small tensors, carved out of shared slabs.
 *
 * Why: V8 keeps a typed array's data on its heap only up to 64 bytes; past that, `new Float32Array(n)` makes a
 * separate ArrayBuffer with its own native backing store, about 0.8 us each on the 2-vCPU VM ferry is benchmarked
 * on, against 0.03 us for a view of memory that already exists (bench/request-stages.mjs; docs/performance.md).
 * A tabular request of 30 FP32 paid it once for its input, a fifth of ferry's own time per request. Node's own
 * Buffer pool does the same for small Buffers; it is not used here because its 8 KiB pool is shared with every
 * socket read and its memory is not zeroed.
 *
 * A slab is only ever bumped forward, never reused: an array's memory is fresh (zeros), and the slab is freed by
 * the garbage collector once every array carved from it is. A view on a slab is not the request's alone, so it is
 * never transferred to a worker (transferable.ts copies such a view before posting it).
 */
import type { TensorData } from './datatypes.js';

type NumericArrayCtor = {
  new (n: number): Exclude<TensorData, string[]>;
  new (buffer: ArrayBuffer, byteOffset: number, length: number): Exclude<TensorData, string[]>;
  readonly BYTES_PER_ELEMENT: number;
};

/** Larger arrays get their own buffer: the allocation is then small beside what is done with the data. */
export const SMALL_ARRAY_BYTES = 2048;
const SLAB_BYTES = 32 * 1024;
/** Every array starts 8-byte aligned, as FP64 and INT64 views need. */
const ALIGN = 8;

let slab = new ArrayBuffer(SLAB_BYTES);
let used = 0;

/** A new zeroed typed array of `length` elements, from a slab when it is small. */
export function newTypedArray<C extends NumericArrayCtor>(Ctor: C, length: number): InstanceType<C> {
  const bytes = length * Ctor.BYTES_PER_ELEMENT;
  if (bytes > SMALL_ARRAY_BYTES || bytes <= 64) return new Ctor(length) as InstanceType<C>; // <= 64: on V8's heap, cheaper still
  if (used + bytes > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    used = 0;
  }
  const array = new Ctor(slab, used, length);
  used += (bytes + ALIGN - 1) & ~(ALIGN - 1);
  return array as InstanceType<C>;
}
