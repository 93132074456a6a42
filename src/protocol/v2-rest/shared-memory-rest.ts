/**
 * Triton's shared memory extension over REST (server docs/protocol/extension_shared_memory.md):
 *   GET  /v2/systemsharedmemory[/region/NAME]/status       [{"name", "key", "offset", "byte_size"}, ...]
 *   POST /v2/systemsharedmemory/region/NAME/register       {"key": "/shm_name", "offset": 0, "byte_size": N}
 *   POST /v2/systemsharedmemory[/region/NAME]/unregister   one region, or every one
 * and the same under /v2/cudasharedmemory, which ferry (CPU only) answers as a server without GPUs would.
 * Only converts: the regions are the data plane's (dataplane/shared-memory/).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FerryError, notFound } from '../../errors.js';
import type { DataPlane } from '../../dataplane/dataplane.js';
import { CUDA_SHM_MESSAGE } from '../../dataplane/shared-memory/system-shared-memory.js';
import { allow, decodeSegment, readJsonObject } from './http-route.js';
import { JSON_TYPE, send, sendBody } from './reply.js';

const ROUTE = /^\/v2\/(system|cuda)sharedmemory(?:\/region\/([^/]+))?\/(status|register|unregister)\/?$/;
/** A register body is three small fields. */
const BODY_LIMIT = 64 * 1024;

/** Answers a shared memory route; false when the path is not one. */
export function sharedMemoryRoute(dp: DataPlane, req: IncomingMessage, res: ServerResponse, path: string, method: string): false | void | Promise<void> {
  const m = ROUTE.exec(path);
  if (!m) return false;
  const cuda = m[1] === 'cuda';
  const region = m[2] === undefined ? undefined : decodeSegment(m[2]);
  const action = m[3];
  if (action === 'status') {
    allow(method, 'GET');
    if (cuda && region !== undefined) throw notFound(`Unable to find cuda shared memory region: '${region}'`);
    return sendBody(req, res, JSON_TYPE, JSON.stringify(cuda ? [] : dp.sharedMemory.status(region)));
  }
  allow(method, 'POST');
  if (action === 'unregister') {
    // No CUDA region can exist, so there is none to unregister: clients that clean up at start go on.
    if (!cuda) dp.sharedMemory.unregister(region, req.socket.remoteAddress);
    return send(res, 200);
  }
  if (cuda) throw new FerryError('UNSUPPORTED', CUDA_SHM_MESSAGE);
  if (region === undefined) throw new FerryError('INVALID_ARGUMENT', 'a register request names its region: POST /v2/systemsharedmemory/region/NAME/register');
  return readJsonObject(req, BODY_LIMIT).then((body) => {
    dp.sharedMemory.register(region, body, req.socket.remoteAddress);
    send(res, 200);
  });
}
