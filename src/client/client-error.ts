/**
 * Why a call to a V2 server failed, in a form callers can branch on: the server answered with an error
 * (`status` is the HTTP status or the gRPC code name, `serverMessage` the server's own words), the server could
 * not be reached (`network`), or it answered something that is not the V2 protocol (`protocol`).
 */
export type ClientErrorKind = 'status' | 'network' | 'protocol';

export class V2ClientError extends Error {
  constructor(
    readonly kind: ClientErrorKind,
    message: string,
    /** HTTP status (404) or gRPC code name ('NOT_FOUND'); undefined unless kind is 'status'. */
    readonly status?: number | string,
    /** The server's error text (the V2 `{"error": ...}` body or the gRPC status details). */
    readonly serverMessage?: string,
  ) {
    super(message);
    this.name = 'V2ClientError';
  }

  /** True for "no such model or version" from either transport. */
  get notFound(): boolean {
    return this.status === 404 || this.status === 'NOT_FOUND';
  }

  /** True for "known but not ready / server not ready". */
  get unavailable(): boolean {
    return this.status === 503 || this.status === 'UNAVAILABLE';
  }
}

/** The `{"error": "..."}` text of a V2 REST error body, or the body itself (cut short) when it is not that. */
export function restErrorMessage(body: string): string {
  try {
    const doc = JSON.parse(body) as unknown;
    if (typeof doc === 'object' && doc !== null && typeof (doc as { error?: unknown }).error === 'string') {
      return (doc as { error: string }).error;
    }
  } catch {
    // not JSON: fall through to the raw text
  }
  const text = body.trim();
  return text.length > 200 ? `${text.slice(0, 200)}...` : text || '(empty body)';
}
