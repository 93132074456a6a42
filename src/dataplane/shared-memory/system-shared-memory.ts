/**
 * The registered system shared memory regions (Triton's system shared memory extension), and the CUDA extension's
 * answers on a server without GPUs.
 *
 * Off unless the server starts with --allow-client-shm, as Triton now does: registering makes the server open,
 * read and write files a request names, which only a local client needs, so it is a decision for whoever runs ferry.
 * Status answers either way (an empty list when off), as Triton's does.
 */
import { FerryError, invalid, notFound } from '../../errors.js';
import { ShmRegion, type RegionSpec } from './shm-region.js';
import { isLoopback, type ClientShmScope } from '../../config/server-config.js';

/** Regions registered at once, at most: each holds a file descriptor, which the process has a bounded number of. */
const MAX_REGIONS = 1024;

/** Triton's status entry for a region (REST; gRPC puts the same fields in a map by name). */
export interface RegionStatus {
  readonly name: string;
  readonly key: string;
  readonly offset: number;
  readonly byte_size: number;
}

const SHM_OFF_MESSAGE =
  'client shared memory is off: start ferry with --allow-client-shm (Triton spells it --allow-client-shm=true) to let clients on this machine register /dev/shm regions';

export const CUDA_SHM_MESSAGE =
  'CUDA shared memory is not supported: ferry runs models on CPU, with no GPU memory to share; use system shared memory (/v2/systemsharedmemory, with --allow-client-shm) instead';

export class SystemSharedMemory {
  private readonly regions = new Map<string, ShmRegion>();

  /**
   * `maxInputBytes`: the most one request may have read from regions (the server's --max-body-size, which bounds what
   * a request can make ferry allocate, whichever way its tensors come).
   */
  readonly allowed: boolean;

  constructor(
    private readonly scope: ClientShmScope,
    readonly maxInputBytes = Number.MAX_SAFE_INTEGER,
  ) {
    this.allowed = scope !== 'off';
  }

  /**
   * PERMISSION_DENIED unless the peer may register or use regions: with scope 'local', only a client connecting from
   * loopback (one on this machine, the only kind that can share memory with ferry unless /dev/shm is shared across
   * containers). register and unregister call it; a front calls it for an inference that names a region.
   */
  checkPeer(address: string | undefined): void {
    if (this.scope !== 'local' || (address !== undefined && isLoopback(address))) return;
    throw new FerryError('PERMISSION_DENIED', `shared memory is for clients on this machine, and this one connects from ${address ?? 'an unknown address'}: only loopback peers may register or use regions (start ferry with --allow-client-shm any to let every peer, such as a container sharing /dev/shm, do so)`);
  }

  /** Every region, or the one named (NOT_FOUND when there is none by that name). */
  status(name?: string): RegionStatus[] {
    if (name === undefined) return [...this.regions.values()].map((r) => statusOf(r.spec));
    return [statusOf(this.get(name).spec)];
  }

  /**
   * Registers `name` on part of a /dev/shm file; a name already registered is refused (Triton's rule). `peer`: the
   * address the request came from (checkPeer).
   */
  register(name: string, body: Readonly<Record<string, unknown>>, peer: string | undefined): void {
    if (!this.allowed) throw new FerryError('UNSUPPORTED', SHM_OFF_MESSAGE);
    this.checkPeer(peer);
    checkName(name);
    if (this.regions.size >= MAX_REGIONS) throw new FerryError('RESOURCE_EXHAUSTED', `${MAX_REGIONS} shared memory regions are registered, the most ferry holds (each keeps a file open): unregister some first`);
    if (this.regions.has(name)) throw new FerryError('CONFLICT', `shared memory region '${name}' is already registered: unregister it first, or pick another name`);
    const spec = registration(name, body);
    this.regions.set(name, ShmRegion.open(spec));
  }

  /**
   * Unregisters one region (a name not registered is no error, as in Triton), or every region. A region that a
   * request in flight holds stays open for that request, and is closed when it is done: its name is free at once.
   */
  unregister(name: string | undefined, peer: string | undefined): void {
    if (!this.allowed) throw new FerryError('UNSUPPORTED', SHM_OFF_MESSAGE);
    this.checkPeer(peer);
    const names = name === undefined ? [...this.regions.keys()] : [name];
    for (const n of names) {
      const region = this.regions.get(n);
      if (!region) continue;
      this.regions.delete(n);
      region.retire();
    }
  }

  /** A region for a request to hold, by the name an input's or output's parameters give. */
  region(name: string, what: string): ShmRegion {
    if (!this.allowed) throw new FerryError('UNSUPPORTED', `${what}: ${SHM_OFF_MESSAGE}`);
    const region = this.regions.get(name);
    if (!region) throw notFound(`${what}: no shared memory region '${name}' is registered (register it with POST /v2/systemsharedmemory/region/${name}/register)`);
    return region;
  }

  /** At server stop: every region closed (those in use once their requests end). */
  close(): void {
    for (const region of this.regions.values()) region.retire();
    this.regions.clear();
  }

  private get(name: string): ShmRegion {
    const region = this.regions.get(name);
    if (!region) throw notFound(`Unable to find system shared memory region: '${name}'`);
    return region;
  }
}

function statusOf(spec: RegionSpec): RegionStatus {
  return { name: spec.name, key: spec.key, offset: spec.offset, byte_size: spec.byteSize };
}

function checkName(name: string): void {
  // eslint-disable-next-line no-control-regex
  if (name === '' || name.length > 255 || /[\u0000-\u001f]/.test(name)) {
    throw invalid(`a shared memory region needs a name of 1 to 255 characters without control characters, got ${JSON.stringify(name)}`);
  }
}

/** The register body ({"key", "offset", "byte_size"}; gRPC's uint64 fields come as strings) as a region spec. */
function registration(name: string, body: Readonly<Record<string, unknown>>): RegionSpec {
  const unknown = Object.keys(body).filter((k) => k !== 'key' && k !== 'offset' && k !== 'byte_size');
  if (unknown.length) throw invalid(`a shared memory register request has key, offset and byte_size, got ${unknown.map((k) => `'${k}'`).join(', ')} too`);
  if (typeof body.key !== 'string' || body.key === '') throw invalid(`a shared memory register request needs 'key': the shm_open name, such as '/input_data'`);
  return {
    name,
    key: body.key,
    offset: body.offset === undefined ? 0 : byteCount(body.offset, "'offset'"),
    byteSize: byteCount(body.byte_size, "'byte_size'"),
  };
}

/**
 * A non-negative byte count given as a number or, from gRPC's 64-bit fields, a decimal string; `field` names it in
 * the error. Shared with the per-request parameters (shared_memory_offset, shared_memory_byte_size).
 */
export function byteCount(value: unknown, field: string): number {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw invalid(`${field} must be a non-negative integer number of bytes, got ${value === undefined ? 'nothing' : JSON.stringify(value)}`);
  }
  return n;
}
