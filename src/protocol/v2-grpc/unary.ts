/**
 * A unary gRPC method from a function of the request: its errors become gRPC statuses with the same messages as
 * REST (the neutral code mapped by status.ts); anything else is INTERNAL and logged. Every gRPC front wraps its
 * methods with it.
 */
import { isFerryError, messageOf } from '../../errors.js';
import type { Logger } from '../../observe/logger.js';
import { GrpcCode, type GrpcStatusError } from '../grpc-http2/codes.js';
import type { Callback, ServerCall } from '../grpc-http2/server-call.js';
import { GRPC_STATUS } from './status.js';

export type UnaryHandler = (call: ServerCall, callback: Callback) => void;

export function unary<Req, Res>(log: Logger, fn: (req: Req, call: ServerCall) => Res | Promise<Res>): UnaryHandler {
  return (call, callback) => {
    let result: Res | Promise<Res>;
    try {
      result = fn(call.request as Req, call);
    } catch (e) {
      callback(toStatus(log, e));
      return;
    }
    if (result instanceof Promise) result.then((r) => callback(null, r), (e: unknown) => callback(toStatus(log, e)));
    else callback(null, result);
  };
}

export function toStatus(log: Logger, e: unknown): GrpcStatusError {
  if (isFerryError(e)) return { code: GRPC_STATUS[e.code], details: e.message };
  log.error({ err: e }, `gRPC call failed: ${messageOf(e)}`);
  return { code: GrpcCode.INTERNAL, details: `internal error: ${messageOf(e)}` };
}
