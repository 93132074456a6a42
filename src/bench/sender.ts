/**
 * What the load loop drives: something that sends one pre-encoded inference request and says when its answer has
 * fully arrived. One implementation per transport (http-sender.ts, grpc-sender.ts); the loop never sees a wire.
 */

/** A failed request: `kind` groups failures in the report ("HTTP 400", "gRPC UNAVAILABLE", "ECONNRESET"). */
export interface Failure {
  readonly kind: string;
  readonly message: string;
}

/** Called exactly once per request: with undefined when it succeeded. */
export type Done = (failure: Failure | undefined) => void;

export interface RequestSender {
  send(done: Done): void;
  /** Opens connections ahead of the run where the transport allows, so the first requests do not pay for it. */
  connect(): Promise<void>;
  close(): void;
}

/** Counts failures by kind, keeping the first message of each kind (later ones are usually the same). */
export class ErrorTally {
  private readonly byKind = new Map<string, { count: number; firstMessage: string }>();
  total = 0;

  add(failure: Failure): void {
    this.total++;
    const entry = this.byKind.get(failure.kind);
    if (entry) entry.count++;
    else this.byKind.set(failure.kind, { count: 1, firstMessage: failure.message });
  }

  list(): { kind: string; count: number; firstMessage: string }[] {
    return [...this.byKind].map(([kind, e]) => ({ kind, ...e })).sort((a, b) => b.count - a.count);
  }
}
