/**
 * gRPC status codes, as the gRPC specification numbers them (doc/statuscodes.md). Kept here rather than imported
 * from @grpc/grpc-js so the server side does not load the whole client library to name a number.
 */
export const GrpcCode = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

export type GrpcCode = (typeof GrpcCode)[keyof typeof GrpcCode];

/** What a handler passes back as an error: grpc-js's ServiceError shape (code + details), so libraries written for grpc-js work unchanged. */
export interface GrpcStatusError {
  readonly code?: number;
  readonly details?: string;
  readonly message?: string;
}
