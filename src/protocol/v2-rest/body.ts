/**
 * Reads a request body into one Buffer, refusing it (413) as soon as it passes the limit.
 *
 * A body of 16 KiB to 8 MiB with a Content-Length is copied, chunk by chunk as it arrives, into one buffer of that
 * size that is the request's alone (an inference worker thread may then take it without a copy:
 * tensor/transferable.ts), and the socket's chunks are dropped at once. When the caller says where raw tensor data
 * starts in the body (the binary tensor extension's Inference-Header-Content-Length), the buffer is placed so that
 * offset is 8-byte aligned, and the raw inputs are typed-array views of the body, not copies.
 */
import type { IncomingMessage } from 'node:http';
import { FerryError } from '../../errors.js';
import { markOwned, markOwnedBuffer } from '../../tensor/transferable.js';

/** Below this a body is usually one chunk, which is kept as it is (no copy). */
const PREALLOCATE_BYTES = 16 * 1024;
/**
 * Above this the buffer is not allocated ahead of the bytes: a client could declare a large Content-Length on many
 * connections and send nothing. Such bodies are joined once they have arrived, as small chunked ones are.
 */
const PREALLOCATE_MAX_BYTES = 8 * 1024 * 1024;
/** The widest element of a numeric tensor (FP64, INT64). */
const ALIGNMENT = 8;

function tooLarge(limit: number): FerryError {
  return new FerryError('PAYLOAD_TOO_LARGE', `request body is larger than the limit of ${limit} bytes (set --max-body-size to raise it)`);
}

export function readBody(req: IncomingMessage, limit: number, rawDataOffset?: number): Promise<Buffer> {
  const header = req.headers['content-length'];
  const declared = header === undefined ? undefined : Number(header);
  if (declared !== undefined && declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    let failed = false;
    const fail = (e: FerryError): void => {
      failed = true;
      reject(e);
    };
    const preallocate = declared !== undefined && declared >= PREALLOCATE_BYTES && declared <= PREALLOCATE_MAX_BYTES;
    const sink = preallocate ? new Preallocated(declared, rawDataOffset) : new Chunks(limit);
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      const error = sink.add(chunk);
      if (error) fail(error);
    });
    req.on('end', () => {
      if (!failed) resolve(sink.finish());
    });
    req.on('error', (e) => {
      if (!failed) fail(new FerryError('INVALID_ARGUMENT', `could not read the request body: ${e.message}`));
    });
  });
}

/** A body of known length, copied into its own buffer as it arrives. */
class Preallocated {
  private readonly memory: Buffer;
  private readonly start: number;
  private at = 0;

  constructor(private readonly length: number, rawDataOffset: number | undefined) {
    this.start = rawDataOffset === undefined ? 0 : (ALIGNMENT - (rawDataOffset % ALIGNMENT)) % ALIGNMENT;
    // Not from Buffer's shared pool: this memory must belong to this request only.
    this.memory = Buffer.allocUnsafeSlow(this.start + length);
  }

  add(chunk: Buffer): FerryError | undefined {
    // node:http stops a body at its Content-Length; this guards the copy all the same.
    if (this.at + chunk.length > this.length) return new FerryError('INVALID_ARGUMENT', `the request body is longer than its Content-Length (${this.length})`);
    chunk.copy(this.memory, this.start + this.at);
    this.at += chunk.length;
    return undefined;
  }

  finish(): Buffer {
    markOwnedBuffer(this.memory.buffer as ArrayBuffer);
    return this.memory.subarray(this.start, this.start + this.at);
  }
}

/** A body of unknown length (chunked), a small one or a very large one: its chunks, joined at the end. */
class Chunks {
  private readonly chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly limit: number) {}

  add(chunk: Buffer): FerryError | undefined {
    this.size += chunk.length;
    if (this.size > this.limit) return tooLarge(this.limit);
    this.chunks.push(chunk);
    return undefined;
  }

  finish(): Buffer {
    // A single chunk is a slice of the socket's read buffer, which is not this request's alone.
    if (this.chunks.length === 1) return this.chunks[0]!;
    const body = Buffer.concat(this.chunks, this.size);
    markOwned(body);
    this.chunks.length = 0; // the 'data' listener lives as long as the request: it must not keep the chunks
    return body;
  }
}
