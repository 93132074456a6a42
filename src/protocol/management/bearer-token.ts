/**
 * The management port's bearer token (`Authorization: Bearer TOKEN` over REST, the same `authorization` metadata
 * over gRPC). Compared in constant time: both sides are hashed to 32 bytes first, so neither the comparison's time
 * nor a length check tells a caller how much of a guess was right.
 */
import type * as Crypto from 'node:crypto';
import { FerryError } from '../../errors.js';
import { lazyBuiltin } from '../../lazy-builtin.js';

/** Loaded only when a token is configured: node:crypto is about 1 ms of start-up a loopback-only server need not pay. */
const crypto = lazyBuiltin<typeof Crypto>('node:crypto');

export class BearerToken {
  private readonly digest: Buffer | undefined;

  /** `token` undefined: no token is asked for (a loopback-only port without one configured). */
  constructor(token: string | undefined) {
    this.digest = token === undefined ? undefined : sha256(token);
  }

  /** UNAUTHENTICATED unless the header carries the token (always passes when no token is configured). */
  check(authorization: string | string[] | undefined): void {
    if (!this.digest) return;
    const header = Array.isArray(authorization) ? authorization[0] : authorization;
    const m = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) throw new FerryError('UNAUTHENTICATED', 'the management port needs a bearer token: send Authorization: Bearer TOKEN');
    if (!crypto().timingSafeEqual(sha256(m[1] as string), this.digest)) throw new FerryError('UNAUTHENTICATED', 'the bearer token is not the management token');
  }
}

function sha256(text: string): Buffer {
  return crypto().createHash('sha256').update(text, 'utf8').digest();
}
