/**
 * A request that names shared memory regions in its inputs' or outputs' parameters (Triton's shared_memory_region,
 * shared_memory_offset, shared_memory_byte_size): its inputs read from the regions, and its outputs written into them
 * once the model has answered. The request holds every region it names from start to end, so a region unregistered
 * meanwhile stays open until the request is done.
 */
import { FerryError, invalid } from '../../errors.js';
import { DATATYPES } from '../../tensor/datatypes.js';
import { rawToTensorData, tensorDataToRaw } from '../../tensor/raw-codec.js';
import { elementCount, formatShape, type Tensor } from '../../tensor/tensor.js';
import type { InferenceRequest, InferenceResponse, PlacedOutput } from '../types.js';
import type { ShmRegion } from './shm-region.js';
import { byteCount, type SystemSharedMemory } from './system-shared-memory.js';

type Parameters = Readonly<Record<string, unknown>> | undefined;

/** Whether a tensor's parameters name a shared memory region: what a front checks to mark the request. */
export function namesSharedMemory(parameters: Parameters): boolean {
  return parameters?.shared_memory_region !== undefined;
}

/** Where in which region a tensor's bytes are. */
interface RegionSlice {
  readonly region: ShmRegion;
  readonly offset: number;
  readonly byteSize: number;
}

export class SharedMemoryRequest {
  private readonly held: ShmRegion[] = [];
  private readonly outputs = new Map<string, RegionSlice>();
  /** The request with its inputs' data read from the regions (and no shared memory left to resolve). */
  readonly request: InferenceRequest;

  constructor(shm: SystemSharedMemory, request: InferenceRequest) {
    try {
      // Every slice named is checked and held before any byte is read, so the bound on what is read counts only
      // checked sizes, and a mistake in one tensor costs no read of another.
      const slices = request.inputs.map((t) => {
        const slice = this.slice(shm, t.parameters, `input '${t.name}'`);
        if (slice) checkInputSize(t, slice);
        return slice;
      });
      for (const o of request.outputs ?? []) {
        const what = `output '${o.name}'`;
        if (o.parameters?.binary_data === true && namesSharedMemory(o.parameters)) throw invalid(`${what}: set either shared_memory_region or binary_data, not both`);
        const slice = this.slice(shm, o.parameters, what);
        if (slice) this.outputs.set(o.name, slice);
      }
      const total = slices.reduce((n, slice) => n + (slice?.byteSize ?? 0), 0);
      if (total > shm.maxInputBytes) {
        throw new FerryError('PAYLOAD_TOO_LARGE', `the inputs read from shared memory take ${total} bytes, more than the ${shm.maxInputBytes} a request may carry (--max-body-size holds for them as for a request body)`);
      }
      const inputs = request.inputs.map((t, i) => {
        const slice = slices[i];
        return slice ? readInput(t, slice) : t;
      });
      // false rather than deleted: a deleted property would turn the object into a slower dictionary.
      this.request = { ...request, inputs, sharedMemory: false };
    } catch (e) {
      this.release();
      throw e;
    }
  }

  /** The answer with each output asked for in shared memory written there (and said so, without its data). */
  place(response: InferenceResponse): InferenceResponse {
    if (this.outputs.size === 0) return response;
    const placed = new Map<string, PlacedOutput>();
    for (const t of response.outputs) {
      const slice = this.outputs.get(t.name);
      if (!slice) continue;
      const raw = tensorDataToRaw(t.data, t.datatype);
      if (raw.byteLength > slice.byteSize) {
        throw invalid(`output '${t.name}': its shared memory slice holds ${slice.byteSize} bytes, but the result (${t.datatype} ${formatShape(t.shape)}) takes ${raw.byteLength}: give a larger shared_memory_byte_size`);
      }
      slice.region.write(slice.offset, raw);
      placed.set(t.name, { shared_memory_region: slice.region.spec.name, shared_memory_byte_size: raw.byteLength });
    }
    return { ...response, placed };
  }

  /** Lets go of every region held (closing those unregistered meanwhile). */
  release(): void {
    for (const region of this.held.splice(0)) region.release();
  }

  /** The region slice a tensor's parameters name, held for this request; undefined when they name none. */
  private slice(shm: SystemSharedMemory, parameters: Parameters, what: string): RegionSlice | undefined {
    const name = parameters?.shared_memory_region;
    if (name === undefined) {
      if (parameters?.shared_memory_byte_size !== undefined || parameters?.shared_memory_offset !== undefined) {
        throw invalid(`${what}: shared_memory_byte_size and shared_memory_offset need shared_memory_region beside them`);
      }
      return undefined;
    }
    if (typeof name !== 'string') throw invalid(`${what}: shared_memory_region must be the name of a registered region, got ${JSON.stringify(name)}`);
    if (parameters?.shared_memory_byte_size === undefined) throw invalid(`${what}: shared_memory_region needs shared_memory_byte_size beside it`);
    const byteSize = byteCount(parameters.shared_memory_byte_size, `${what}: shared_memory_byte_size`);
    const offset = parameters.shared_memory_offset === undefined ? 0 : byteCount(parameters.shared_memory_offset, `${what}: shared_memory_offset`);
    const region = shm.region(name, what);
    const size = region.spec.byteSize;
    if (offset >= size) {
      throw invalid(`${what}: shared_memory_offset ${offset} is past the end of region '${name}', which holds ${size} bytes`);
    }
    if (offset + byteSize > size) {
      throw invalid(`${what}: shared_memory_offset ${offset} + shared_memory_byte_size ${byteSize} goes past the end of region '${name}', which holds ${size} bytes`);
    }
    region.hold();
    this.held.push(region);
    return { region, offset, byteSize };
  }
}

/** An input's slice against its datatype and shape: the exact size of fixed-size data, room for BYTES' lengths. */
function checkInputSize(t: Tensor, slice: RegionSlice): void {
  const what = `input '${t.name}'`;
  const count = elementCount(t.shape);
  const { byteSize, kind } = DATATYPES[t.datatype];
  if (kind !== 'bytes' && slice.byteSize !== count * byteSize) {
    throw invalid(`${what}: shared_memory_byte_size is ${slice.byteSize}, but ${t.datatype} ${formatShape(t.shape)} takes ${count * byteSize} bytes`);
  }
  if (kind === 'bytes' && count * 4 > slice.byteSize) {
    throw invalid(`${what}: BYTES data for shape ${formatShape(t.shape)} (${count} elements) needs at least ${count * 4} bytes (a 4-byte length per element), got shared_memory_byte_size ${slice.byteSize}`);
  }
}

/** An input's data read from its slice (checked by checkInputSize). */
function readInput(t: Tensor, slice: RegionSlice): Tensor {
  const raw = slice.region.read(slice.offset, slice.byteSize);
  return { ...t, data: rawToTensorData(raw, t.datatype, elementCount(t.shape), `input '${t.name}'`) };
}
