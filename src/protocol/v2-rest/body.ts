/** Reads a request body into one Buffer, refusing it (413) as soon as it passes the limit. */
import type { IncomingMessage } from 'node:http';
import { FerryError } from '../../errors.js';

function tooLarge(limit: number): FerryError {
  return new FerryError('PAYLOAD_TOO_LARGE', `request body is larger than the limit of ${limit} bytes (set --max-body-size to raise it)`);
}

export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    });
    req.on('error', (e) => {
      if (!failed) reject(new FerryError('INVALID_ARGUMENT', `could not read the request body: ${e.message}`));
    });
  });
}
