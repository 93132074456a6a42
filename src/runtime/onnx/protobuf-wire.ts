/**
 * Just enough of the protobuf wire format to edit a few fields of a message and copy the rest byte for byte
 * (https://protobuf.dev/programming-guides/encoding/). Used to rewrite ONNX graphs at load without the ONNX schema.
 */

export interface WireField {
  readonly no: number;
  /** 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32. */
  readonly wireType: number;
  /** The whole field: tag, length and value, as it appears in the message. */
  readonly raw: Uint8Array;
  /** The payload of a length-delimited field (a view, not a copy); the fixed bytes of a fixed field. */
  readonly value: Uint8Array;
  /** The value of a varint field. */
  readonly varint?: bigint;
}

/** Reads a varint at `at`: [value, position after it]. */
export function readVarint(bytes: Uint8Array, at: number): [bigint, number] {
  let value = 0n;
  let shift = 0n;
  for (let i = at; i < bytes.length && i < at + 10; i++) {
    const b = bytes[i]!;
    value |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) return [value, i + 1];
    shift += 7n;
  }
  throw new Error('malformed protobuf: a varint runs past its message');
}

/** The fields of one message, in order. Throws on bytes that are not a well-formed message. */
export function readFields(bytes: Uint8Array): WireField[] {
  const fields: WireField[] = [];
  let at = 0;
  while (at < bytes.length) {
    const start = at;
    const [tag, afterTag] = readVarint(bytes, at);
    const no = Number(tag >> 3n);
    const wireType = Number(tag & 7n);
    if (no === 0) throw new Error('malformed protobuf: field number 0');
    at = afterTag;
    let value: Uint8Array;
    let varint: bigint | undefined;
    if (wireType === 0) {
      [varint, at] = readVarint(bytes, at);
      value = bytes.subarray(afterTag, at);
    } else if (wireType === 2) {
      const [length, afterLength] = readVarint(bytes, at);
      const end = afterLength + Number(length);
      if (end > bytes.length) throw new Error('malformed protobuf: a field runs past its message');
      value = bytes.subarray(afterLength, end);
      at = end;
    } else if (wireType === 1 || wireType === 5) {
      const end = at + (wireType === 1 ? 8 : 4);
      if (end > bytes.length) throw new Error('malformed protobuf: a field runs past its message');
      value = bytes.subarray(at, end);
      at = end;
    } else {
      throw new Error(`malformed protobuf: unsupported wire type ${wireType}`);
    }
    fields.push({ no, wireType, raw: bytes.subarray(start, at), value, ...(varint !== undefined ? { varint } : {}) });
  }
  return fields;
}

function varint(value: bigint): Uint8Array {
  const out: number[] = [];
  let v = BigInt.asUintN(64, value);
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Uint8Array.from(out);
}

export function varintField(no: number, value: bigint): Uint8Array {
  return concatBytes([varint(BigInt(no) << 3n), varint(value)]);
}

export function lengthDelimited(no: number, payload: Uint8Array): Uint8Array {
  return concatBytes([varint((BigInt(no) << 3n) | 2n), varint(BigInt(payload.length)), payload]);
}

export function utf8(text: string): Uint8Array {
  return Buffer.from(text, 'utf8');
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}
