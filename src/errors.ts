/**
 * The error catalogue. Every error the core raises carries a neutral code; each protocol front maps codes to its
 * own statuses in one table (see protocol/v2-rest/status.ts). Messages are built here from typed arguments so the
 * same mistake reads the same whichever door the request came in by.
 */
export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'UNAVAILABLE'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  /** The answer cannot be written in any format the request's Accept header names. */
  | 'NOT_ACCEPTABLE'
  | 'METHOD_NOT_ALLOWED'
  | 'RESOURCE_EXHAUSTED'
  | 'DEADLINE_EXCEEDED'
  /** The request is understood but the server's state does not allow it (a model not loaded, a mode without the API). */
  | 'FAILED_PRECONDITION'
  /** Another change to the same thing is in progress (a load while the model is loading); retry once it is over. */
  | 'CONFLICT'
  /** No credentials, or wrong ones (the management port's bearer token). */
  | 'UNAUTHENTICATED'
  /** Never allowed through this door (model load and unload on a public port). */
  | 'PERMISSION_DENIED'
  /** A feature this server does not offer (CUDA shared memory), or one its start flags leave off (client shared memory). */
  | 'UNSUPPORTED'
  | 'INTERNAL';

export class FerryError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'FerryError';
    this.code = code;
  }
}

export function isFerryError(e: unknown): e is FerryError {
  return e instanceof FerryError;
}

export const invalid = (message: string): FerryError => new FerryError('INVALID_ARGUMENT', message);
export const notFound = (message: string): FerryError => new FerryError('NOT_FOUND', message);
export const unavailable = (message: string): FerryError => new FerryError('UNAVAILABLE', message);
export const failedPrecondition = (message: string): FerryError => new FerryError('FAILED_PRECONDITION', message);
export const conflict = (message: string): FerryError => new FerryError('CONFLICT', message);
export const internal = (message: string): FerryError => new FerryError('INTERNAL', message);

/** The message of anything thrown, for logs and error bodies. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
