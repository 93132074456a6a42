/**
 * Writes successful response bodies, compressed with gzip or deflate when the request's Accept-Encoding allows it
 * and the body is worth it (compression.ts decides). Error bodies are small and go uncompressed.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { compress, responseCoding, type Coding } from './compression.js';

export const JSON_TYPE = 'application/json';

/**
 * Sends `body` with status 200: one text, or parts written one after the other (the binary extension's JSON header
 * and raw tensors, which are then not copied into one buffer unless they are compressed). Synchronous unless the
 * body is compressed, so an uncompressed answer costs no extra turn of the event loop.
 */
export function sendBody(
  req: IncomingMessage,
  res: ServerResponse,
  contentType: string,
  body: string | readonly Uint8Array[],
  headers?: OutgoingHttpHeaders,
): void | Promise<void> {
  const length = typeof body === 'string' ? Buffer.byteLength(body) : byteLength(body);
  const coding = responseCoding(req.headers['accept-encoding'], length);
  if (coding) return sendCompressed(res, contentType, body, length, coding, headers);
  // Vary on every body whose coding was negotiated, so a shared cache never hands a compressed answer to a client
  // that did not ask for one.
  const head: OutgoingHttpHeaders = { 'Content-Type': contentType, 'Content-Length': length, Vary: 'Accept-Encoding' };
  res.writeHead(200, headers ? Object.assign(head, headers) : head);
  if (typeof body === 'string') {
    res.end(body);
    return;
  }
  res.cork(); // the parts leave in one write; end() uncorks
  for (const part of body) if (part.byteLength > 0) res.write(part);
  res.end();
}

async function sendCompressed(
  res: ServerResponse,
  contentType: string,
  body: string | readonly Uint8Array[],
  length: number,
  coding: Coding,
  headers: OutgoingHttpHeaders | undefined,
): Promise<void> {
  const plain = typeof body === 'string' ? Buffer.from(body) : Buffer.concat(body, length);
  const compressed = await compress(plain, coding);
  const head: OutgoingHttpHeaders = compressed
    ? { 'Content-Type': contentType, 'Content-Encoding': coding, 'Content-Length': compressed.length, Vary: 'Accept-Encoding' }
    : { 'Content-Type': contentType, 'Content-Length': length, Vary: 'Accept-Encoding' }; // zlib failed: as Triton, send it plain
  res.writeHead(200, headers ? Object.assign(head, headers) : head);
  res.end(compressed ?? plain);
}

/** A short answer with no negotiation: empty, or a JSON text. */
export function send(res: ServerResponse, status: number, body?: string): void {
  if (body === undefined) {
    res.writeHead(status, { 'Content-Length': 0 });
    res.end();
    return;
  }
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** An error answer, `{"error": message}` (the V2 protocol's form); a response already started is cut instead. */
export function sendError(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  send(res, status, JSON.stringify({ error: message }));
}

function byteLength(parts: readonly Uint8Array[]): number {
  let n = 0;
  for (const p of parts) n += p.byteLength;
  return n;
}
