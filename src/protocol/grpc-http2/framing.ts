/**
 * The gRPC-over-HTTP/2 wire details (PROTOCOL-HTTP2.md in the gRPC repository): length-prefixed messages, the
 * grpc-timeout header, and the percent-encoding of grpc-message. Written by hand because no maintained library
 * exposes them apart from a whole gRPC stack (see server.ts for why ferry does not use grpc-js's server).
 */

import { markOwned } from '../../tensor/transferable.js';

/** A message as it travels: 1 byte "compressed" flag, 4 bytes big-endian length, the bytes. */
export function frameMessage(message: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(5 + message.length);
  frame[0] = 0;
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}

export interface ReceivedMessage {
  readonly compressed: boolean;
  readonly bytes: Buffer;
}

/** Thrown by MessageReader when a message declares more bytes than allowed: the caller answers RESOURCE_EXHAUSTED. */
export class MessageTooLarge extends Error {
  constructor(readonly size: number, readonly limit: number) {
    super(`received message larger than max (${size} vs. ${limit})`);
  }
}

/** A message whose bytes span several chunks, being put together. */
interface Assembly {
  readonly compressed: boolean;
  readonly size: number;
  /** Its bytes so far, as they arrived; joined once, when the last one is in. */
  readonly parts: Buffer[];
  have: number;
}

/**
 * Cuts a stream of DATA chunks (16 KiB each under HTTP/2's default frame size) into messages. The size limit is
 * checked on the declared length, as soon as the 5-byte prefix is in, so an oversized message is refused before its
 * bytes are buffered. A message that spans chunks is joined once, when complete, into a buffer of its own (nothing is
 * allocated ahead of the bytes: many streams could declare large messages and send nothing), which is marked as the
 * request's (tensor/transferable.ts: its raw inputs can then move to a worker thread without a copy); one that lies
 * within a chunk is a view of it (the chunk may hold other messages).
 */
export class MessageReader {
  /** Up to 4 bytes of a prefix split between chunks. */
  private prefix: Buffer | undefined;
  private assembly: Assembly | undefined;

  constructor(private readonly maxMessageBytes: number) {}

  /** Adds a chunk; returns the messages it completed (usually none or one). */
  push(chunk: Buffer): ReceivedMessage[] {
    const messages: ReceivedMessage[] = [];
    let buffer = chunk;
    let offset = 0;
    if (this.assembly) {
      offset = this.fill(this.assembly, buffer, 0);
      if (this.assembly.have < this.assembly.size) return messages;
      messages.push(this.finishAssembly(this.assembly));
      this.assembly = undefined;
    } else if (this.prefix) {
      buffer = Buffer.concat([this.prefix, chunk]);
      this.prefix = undefined;
    }
    while (offset < buffer.length) {
      if (buffer.length - offset < 5) {
        this.prefix = Buffer.from(buffer.subarray(offset));
        break;
      }
      const compressed = buffer[offset] === 1;
      const size = buffer.readUInt32BE(offset + 1);
      if (size > this.maxMessageBytes) throw new MessageTooLarge(size, this.maxMessageBytes);
      const start = offset + 5;
      if (buffer.length - start >= size) {
        messages.push({ compressed, bytes: buffer.subarray(start, start + size) });
        offset = start + size;
        continue;
      }
      const assembly: Assembly = { compressed, size, parts: [], have: 0 };
      this.fill(assembly, buffer, start);
      this.assembly = assembly;
      break;
    }
    return messages;
  }

  /** True when the stream ended in the middle of a message. */
  get incomplete(): boolean {
    return this.assembly !== undefined || this.prefix !== undefined;
  }

  /** Keeps what `buffer` holds of the message from `offset` on; returns where the message's bytes ended in it. */
  private fill(assembly: Assembly, buffer: Buffer, offset: number): number {
    const take = Math.min(assembly.size - assembly.have, buffer.length - offset);
    assembly.parts.push(buffer.subarray(offset, offset + take));
    assembly.have += take;
    return offset + take;
  }

  private finishAssembly(assembly: Assembly): ReceivedMessage {
    // One copy. Above 4 KiB Buffer.concat allocates a buffer of the message's own; below, a slice of Node's shared
    // pool, which markOwned (it marks only a view that covers its whole buffer) leaves alone.
    const bytes = Buffer.concat(assembly.parts, assembly.size);
    markOwned(bytes);
    return { compressed: assembly.compressed, bytes };
  }
}

const TIMEOUT_UNIT_MS: Readonly<Record<string, number>> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 };

/** grpc-timeout ("100m", "5S", up to 8 digits and a unit) in milliseconds; undefined when absent or malformed. */
export function parseGrpcTimeout(value: string | string[] | undefined): number | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^(\d{1,8})([HMSmun])$/.exec(value);
  if (!m) return undefined;
  return Number(m[1]) * TIMEOUT_UNIT_MS[m[2]!]!;
}

/** grpc-message is percent-encoded UTF-8: every byte outside printable ASCII, and '%' itself. */
export function encodeGrpcMessage(message: string): string {
  // Fast path: most messages are plain ASCII.
  if (/^[\x20-\x24\x26-\x7e]*$/.test(message)) return message;
  let out = '';
  for (const byte of Buffer.from(message, 'utf8')) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
