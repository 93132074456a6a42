/**
 * ArrayBuffers that hold one request's tensor data and nothing else: the request body ferry assembled from its
 * chunks, or an array ferry allocated for it (a decoded input, a batch). An inference worker thread gets these moved
 * (transferred) instead of copied.
 *
 * Why it matters beyond the copy: while a worker runs, the request waits on the main thread holding its input, so
 * a young-generation GC in that time promotes the input's buffer, and only a full GC frees it. With 192 KiB images
 * that was 5-8 full GCs a second under one-at-a-time load, worth 0.5-1 ms on the mean latency of a 7 ms CNN
 * (BENCHMARKS.md, "Worker models: bounded spinning, and inputs moved"). A moved buffer leaves the main thread
 * nothing large to hold.
 *
 * Only buffers no one else can see are marked: a socket's read buffer may hold the next request too, and a caller's
 * own arrays (`ferry batch`, the library API) may be used again.
 */
import type { Tensor } from './tensor.js';

/** Smaller buffers are cheap to copy and are not what fills the heap. */
const WORTH_MOVING_BYTES = 4096;

const owned = new WeakSet<ArrayBuffer>();

/** Marks the buffer under `view` as this request's alone, when the view covers all of it. */
export function markOwned(view: ArrayBufferView): void {
  // byteLength first: reading .buffer of a small typed array makes V8 move its data off the heap.
  if (view.byteLength < WORTH_MOVING_BYTES || view.byteOffset !== 0) return;
  const buffer = view.buffer;
  if (buffer instanceof ArrayBuffer && view.byteLength === buffer.byteLength) owned.add(buffer);
}

/** Marks a buffer ferry allocated for one request (its views may start anywhere in it). */
export function markOwnedBuffer(buffer: ArrayBuffer): void {
  if (buffer.byteLength >= WORTH_MOVING_BYTES) owned.add(buffer);
}

/**
 * What to post to a worker for these tensors: the tensors, and the owned buffers under them, each once, to move
 * rather than copy. A view on memory that is not the request's alone (a slab of small arrays, a socket's read
 * buffer, a gRPC message) is copied to its own bytes first: posting a view clones the whole buffer under it,
 * 32-64 KiB for a few hundred bytes of tensor.
 */
export function forPosting(tensors: readonly Tensor[]): { tensors: Tensor[]; transfer: ArrayBuffer[] } {
  const transfer: ArrayBuffer[] = [];
  const out = tensors.map((t) => {
    if (Array.isArray(t.data)) return t;
    const buffer = t.data.buffer;
    if (buffer instanceof ArrayBuffer && owned.has(buffer)) {
      if (!transfer.includes(buffer)) transfer.push(buffer);
      return t;
    }
    return t.data.byteLength < buffer.byteLength ? { ...t, data: t.data.slice() } : t;
  });
  return { tensors: out, transfer };
}
