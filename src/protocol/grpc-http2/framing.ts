/**
 * The gRPC-over-HTTP/2 wire details (PROTOCOL-HTTP2.md in the gRPC repository): length-prefixed messages, the
 * grpc-timeout header, and the percent-encoding of grpc-message. Written by hand because no maintained library
 * exposes them apart from a whole gRPC stack (see server.ts for why ferry does not use grpc-js's server).
 */

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

/**
 * Cuts a stream of DATA chunks into messages. The size limit is checked on the declared length, as soon as the
 * 5-byte prefix is in, so an oversized message is refused before its bytes are buffered.
 */
export class MessageReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly maxMessageBytes: number) {}

  /** Adds a chunk; returns the messages it completed (usually none or one). */
  push(chunk: Buffer): ReceivedMessage[] {
    let buffer: Buffer;
    if (this.pendingBytes === 0) {
      buffer = chunk;
    } else {
      this.pending.push(chunk);
      buffer = Buffer.concat(this.pending, this.pendingBytes + chunk.length);
      this.pending = [];
      this.pendingBytes = 0;
    }
    const messages: ReceivedMessage[] = [];
    let offset = 0;
    while (buffer.length - offset >= 5) {
      const size = buffer.readUInt32BE(offset + 1);
      if (size > this.maxMessageBytes) throw new MessageTooLarge(size, this.maxMessageBytes);
      if (buffer.length - offset - 5 < size) break;
      messages.push({ compressed: buffer[offset] === 1, bytes: buffer.subarray(offset + 5, offset + 5 + size) });
      offset += 5 + size;
    }
    if (offset < buffer.length) {
      this.pending.push(buffer.subarray(offset));
      this.pendingBytes = buffer.length - offset;
    }
    return messages;
  }

  /** True when the stream ended in the middle of a message. */
  get incomplete(): boolean {
    return this.pendingBytes > 0;
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
