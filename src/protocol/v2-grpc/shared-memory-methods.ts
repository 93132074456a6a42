/**
 * Triton's SystemSharedMemory* and CudaSharedMemory* methods on the V2 service: the REST routes'
 * (v2-rest/shared-memory-rest.ts) in Triton's messages. Only converts: the regions are the data plane's.
 */
import { FerryError, notFound } from '../../errors.js';
import type { DataPlane } from '../../dataplane/dataplane.js';
import { CUDA_SHM_MESSAGE } from '../../dataplane/shared-memory/system-shared-memory.js';
import type { Logger } from '../../observe/logger.js';
import type { ServiceImplementation } from '../grpc-http2/server.js';
import { unary } from './unary.js';

interface NamedRequest {
  name: string;
}

interface RegisterRequest extends NamedRequest {
  key: string;
  offset: string;
  byte_size: string;
}

export function sharedMemoryMethods(dp: DataPlane, log: Logger): ServiceImplementation {
  const shm = dp.sharedMemory;
  return {
    SystemSharedMemoryStatus: unary(log, (req: NamedRequest) => ({
      regions: Object.fromEntries(shm.status(req.name || undefined).map((r) => [r.name, r])),
    })),
    SystemSharedMemoryRegister: unary(log, (req: RegisterRequest, call) => {
      shm.register(req.name, { key: req.key, offset: req.offset, byte_size: req.byte_size }, call.peerAddress());
      return {};
    }),
    SystemSharedMemoryUnregister: unary(log, (req: NamedRequest, call) => {
      shm.unregister(req.name || undefined, call.peerAddress());
      return {};
    }),
    // CPU only: no CUDA region can exist, so the status is empty and unregistering has nothing to do.
    CudaSharedMemoryStatus: unary(log, (req: NamedRequest) => {
      if (req.name) throw notFound(`Unable to find cuda shared memory region: '${req.name}'`);
      return { regions: {} };
    }),
    CudaSharedMemoryRegister: unary(log, () => {
      throw new FerryError('UNSUPPORTED', CUDA_SHM_MESSAGE);
    }),
    CudaSharedMemoryUnregister: unary(log, () => ({})),
  };
}
