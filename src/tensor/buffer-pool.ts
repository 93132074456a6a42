/**
 * Request bodies' memory, used again. A stream of same-sized binary requests (192 KiB images) otherwise allocates
 * about 200 MB/s of ArrayBuffers while ferry's heap barely grows: V8 then reaches its global limit (heap plus
 * external memory) before a scavenge frees the young buffers, and runs Mark-Compacts, the GC tail of the CNN's p90
 * (BENCHMARKS.md, "The GC tail on 192 KiB binary requests"). A body taken from here is given back once nothing can
 * read it any more: its answer has gone and its run is over (from a worker thread, the buffer comes back with the
 * answer). Free buffers are kept by exact size, a few per size, within a byte bound.
 */

export class BufferPool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  /** Buffers handed out and not yet given back: only those may come back (never a buffer someone else owns). */
  private readonly lent = new WeakSet<ArrayBuffer>();
  /** Sizes handed out: a buffer coming back from a worker thread is kept only at one of them. */
  private readonly sizes = new Set<number>();
  private bytes = 0;

  constructor(
    private readonly perSize = 8,
    private readonly maxBytes = 64 * 1024 * 1024,
  ) {}

  /** A buffer of exactly `byteLength` bytes, used before or new; its contents are not cleared. */
  take(byteLength: number): ArrayBuffer {
    const reused = this.free.get(byteLength)?.pop();
    if (reused) this.bytes -= byteLength;
    const buffer = reused ?? new ArrayBuffer(byteLength);
    this.lent.add(buffer);
    if (this.sizes.size < 64) this.sizes.add(byteLength);
    return buffer;
  }

  /** Gives back a buffer `take` handed out, once nothing reads it; a moved (detached) one is simply forgotten. */
  give(buffer: ArrayBuffer): void {
    if (!this.lent.has(buffer)) return;
    this.lent.delete(buffer);
    this.keep(buffer);
  }

  /** A buffer a worker thread sent back (a body it was moved, run and answered): kept if it is of a size lent. */
  adopt(buffer: ArrayBuffer): void {
    if (this.sizes.has(buffer.byteLength)) this.keep(buffer);
  }

  /** Free bytes held. */
  get heldBytes(): number {
    return this.bytes;
  }

  private keep(buffer: ArrayBuffer): void {
    const n = buffer.byteLength;
    if (n === 0 || this.bytes + n > this.maxBytes) return; // detached (moved to a worker), or the bound is reached
    let list = this.free.get(n);
    if (!list) this.free.set(n, (list = []));
    if (list.length >= this.perSize) return;
    list.push(buffer);
    this.bytes += n;
  }
}

/** The process's pool of request bodies: the REST front takes and gives, worker threads' answers give back. */
export const bodyPool = new BufferPool();
