/**
 * What every HTTP front shares around its routes: allowed methods (405 with Allow), URL segments decoded with a
 * clear error, and a failure turned into the status the neutral code maps to (status.ts) with a `{"error"}` body.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FerryError, isFerryError, messageOf } from '../../errors.js';
import type { Logger } from '../../observe/logger.js';
import { readBody } from './body.js';
import { UnsupportedEncoding } from './compression.js';
import { sendError } from './reply.js';
import { HTTP_STATUS } from './status.js';

class MethodNotAllowed extends FerryError {
  constructor(method: string, readonly allowed: string[]) {
    super('METHOD_NOT_ALLOWED', `method ${method} is not allowed here (allowed: ${allowed.join(', ')})`);
  }
}

/** The path of a request's URL, without its query. */
export function pathOf(url: string | undefined): string {
  const u = url ?? '/';
  const q = u.indexOf('?');
  return q < 0 ? u : u.slice(0, q);
}

export function allow(method: string, ...allowed: string[]): void {
  if (allowed.includes(method) || (method === 'HEAD' && allowed.includes('GET'))) return;
  throw new MethodNotAllowed(method, allowed);
}

export function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new FerryError('INVALID_ARGUMENT', `malformed percent-encoding in URL segment '${s}'`);
  }
}

/** Answers a failed request: its neutral code's status and message; anything else is a logged 500. */
export function sendFailure(req: IncomingMessage, res: ServerResponse, e: unknown, log: Logger): void {
  let status: number;
  let message: string;
  if (isFerryError(e)) {
    status = HTTP_STATUS[e.code];
    message = e.message;
    if (e instanceof MethodNotAllowed) res.setHeader('Allow', e.allowed.join(', '));
    if (e instanceof UnsupportedEncoding) res.setHeader('Accept-Encoding', e.accepted); // RFC 7694, and Triton
    if (e.code === 'UNAUTHENTICATED') res.setHeader('WWW-Authenticate', 'Bearer'); // RFC 6750
  } else {
    status = 500;
    message = `internal error: ${messageOf(e)}`;
  }
  if (status >= 500) log.error({ method: req.method, url: req.url, status }, message);
  if (status === 413) res.setHeader('Connection', 'close'); // the rest of the body is not read
  sendError(res, status, message);
}

/** A small JSON request body (a control request, not a tensor); an empty body is `{}`. */
export async function readJsonObject(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const body = await readBody(req, limit);
  if (body.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new FerryError('INVALID_ARGUMENT', `request body is not valid JSON: ${messageOf(e)}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new FerryError('INVALID_ARGUMENT', 'request body must be a JSON object');
  return value as Record<string, unknown>;
}
