/**
 * One registered system shared memory region: part of a file under /dev/shm (a POSIX shm_open object) that a local
 * client fills with input tensors and reads output tensors from (Triton's system shared memory extension).
 *
 * Node has no mmap, so the region is read and written with pread/pwrite on a descriptor opened at registration: one
 * copy each way, against the socket's several (and no JSON). The descriptor, not the name, is what later reads use, so
 * a file renamed or replaced by a link after registration changes nothing. What a request may make ferry open is
 * held to one rule: a regular file directly under /dev/shm, named by a key without '/', never through a symbolic link.
 */
import { closeSync, constants, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { invalid } from '../../errors.js';
import { markOwned } from '../../tensor/transferable.js';

const SHM_DIR = '/dev/shm';

/** A POSIX shm_open name: one optional leading '/', then a file name (no '/', no '..'). */
const KEY = /^\/?([A-Za-z0-9_.:@+-]{1,255})$/;

export interface RegionSpec {
  readonly name: string;
  readonly key: string;
  /** Where the region starts in the file, in bytes. */
  readonly offset: number;
  readonly byteSize: number;
}

export class ShmRegion {
  /** Requests that hold the region (a request holds it from its start until its outputs are written). */
  private users = 0;
  private retired = false;

  private constructor(
    readonly spec: RegionSpec,
    private readonly fd: number,
    private readonly path: string,
  ) {}

  /** Opens and checks the region's file; INVALID_ARGUMENT, with the reason, for anything but a fitting regular file. */
  static open(spec: RegionSpec): ShmRegion {
    const path = `${SHM_DIR}/${fileName(spec.key)}`;
    let fd: number;
    try {
      // O_NONBLOCK: a FIFO placed there must not hang the open (it is then refused as not a regular file).
      fd = openSync(path, constants.O_RDWR | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (e) {
      throw invalid(`shared memory region '${spec.name}': cannot open key '${spec.key}' (${path}): ${openFailure(e)}`);
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) throw invalid(`shared memory region '${spec.name}': ${path} is not a regular file (a shared memory object is one)`);
      if (spec.offset + spec.byteSize > st.size) {
        throw invalid(`shared memory region '${spec.name}': offset ${spec.offset} + byte_size ${spec.byteSize} goes past the end of key '${spec.key}', which holds ${st.size} bytes`);
      }
      return new ShmRegion(spec, fd, path);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  /** Holds the region for a request: it stays open until release(), even when unregistered meanwhile. */
  hold(): void {
    this.users++;
  }

  release(): void {
    this.users--;
    if (this.retired && this.users === 0) closeSync(this.fd);
  }

  /** Unregistered: closed now, or when the last request holding it is done (Triton's rule too). */
  retire(): void {
    this.retired = true;
    if (this.users === 0) closeSync(this.fd);
  }

  /** `size` bytes at `at` within the region (checked against it by the caller), in a buffer of their own. */
  read(at: number, size: number): Buffer {
    const bytes = Buffer.allocUnsafeSlow(size); // its own ArrayBuffer at offset 0: typed arrays view it aligned
    let done = 0;
    while (done < size) {
      const n = readSync(this.fd, bytes, done, size - done, this.spec.offset + at + done);
      if (n === 0) throw this.truncated();
      done += n;
    }
    // This request's alone: a worker thread gets it moved rather than copied (tensor/transferable.ts says why).
    markOwned(bytes);
    return bytes;
  }

  /** Writes `bytes` at `at` within the region (checked against it by the caller). */
  write(at: number, bytes: Uint8Array): void {
    const position = this.spec.offset + at;
    // Never past the file's end: a write there would grow the client's object instead of filling it.
    if (position + bytes.byteLength > fstatSync(this.fd).size) throw this.truncated();
    for (let done = 0; done < bytes.byteLength; ) done += writeSync(this.fd, bytes, done, bytes.byteLength - done, position + done);
  }

  private truncated(): Error {
    return invalid(`shared memory region '${this.spec.name}': ${this.path} is now shorter than the region registered on it (was it truncated or recreated?): register it again`);
  }
}

/** The file name under /dev/shm a key names. */
function fileName(key: string): string {
  const m = KEY.exec(key);
  const name = m?.[1];
  if (name === undefined || name === '.' || name === '..') {
    throw invalid(`shared memory key '${key}' is not a POSIX shared memory name: expected '/name' (letters, digits, '_', '.', '-', ':', '@', '+'), which names the file /dev/shm/name`);
  }
  // POSIX semaphores live beside shared memory objects as sem.NAME; writing tensors into one would break its owner.
  if (name.startsWith('sem.')) throw invalid(`shared memory key '${key}' names a POSIX semaphore (sem.*), not a shared memory object`);
  return name;
}

function openFailure(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such shared memory object (create it with shm_open, or Python multiprocessing.shared_memory, before registering it)';
  if (code === 'ELOOP') return 'it is a symbolic link, and ferry opens only regular files under /dev/shm';
  if (code === 'EACCES' || code === 'EPERM') return "ferry's user may not read and write it";
  if (code === 'EISDIR') return 'it is a directory';
  return (e as Error).message;
}
