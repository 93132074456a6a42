/** Neutral error codes -> gRPC status codes, in one table for the gRPC front. */
import type { ErrorCode } from '../../errors.js';
import { GrpcCode } from '../grpc-http2/codes.js';

export const GRPC_STATUS: Readonly<Record<ErrorCode, GrpcCode>> = {
  INVALID_ARGUMENT: GrpcCode.INVALID_ARGUMENT,
  NOT_FOUND: GrpcCode.NOT_FOUND,
  METHOD_NOT_ALLOWED: GrpcCode.UNIMPLEMENTED,
  PAYLOAD_TOO_LARGE: GrpcCode.RESOURCE_EXHAUSTED,
  UNSUPPORTED_MEDIA_TYPE: GrpcCode.INVALID_ARGUMENT,
  RESOURCE_EXHAUSTED: GrpcCode.RESOURCE_EXHAUSTED,
  FAILED_PRECONDITION: GrpcCode.FAILED_PRECONDITION,
  CONFLICT: GrpcCode.ABORTED,
  UNAUTHENTICATED: GrpcCode.UNAUTHENTICATED,
  PERMISSION_DENIED: GrpcCode.PERMISSION_DENIED,
  INTERNAL: GrpcCode.INTERNAL,
  UNAVAILABLE: GrpcCode.UNAVAILABLE,
  DEADLINE_EXCEEDED: GrpcCode.DEADLINE_EXCEEDED,
};
