/**
 * Raw HTTP and the binary tensor data extension's byte layout, written out by hand for tests: the bytes are built
 * and read with DataView and Buffer here, never with the server's own codec, so a bug there cannot hide itself.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';

export interface RawReply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The body exactly as it came over the wire (not decompressed). */
  readonly body: Buffer;
}

/** POST with node:http, which (unlike fetch) neither adds Accept-Encoding nor decompresses the answer. */
export function rawPost(url: string, body: Buffer | string, headers: Record<string, string | number> = {}): Promise<RawReply> {
  return rawRequest('POST', url, body, headers);
}

export function rawRequest(method: string, url: string, body: Buffer | string | undefined, headers: Record<string, string | number> = {}): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers: body === undefined ? headers : { 'content-length': Buffer.byteLength(body), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A binary-extension request body: the JSON, then the raw parts in order, and the header that says where the JSON ends. */
export function binaryRequest(json: object, parts: Buffer[]): { body: Buffer; headers: Record<string, string | number> } {
  const head = Buffer.from(JSON.stringify(json), 'utf8');
  return {
    body: Buffer.concat([head, ...parts]),
    headers: { 'inference-header-content-length': head.length, 'content-type': 'application/octet-stream' },
  };
}

export interface BinaryOutput {
  name: string;
  datatype: string;
  shape: number[];
  data?: unknown[];
  parameters?: { binary_data_size?: number };
  /** This output's raw bytes, cut from the body after the JSON header. */
  raw?: Buffer;
}

/** Splits a response at Inference-Header-Content-Length and hands each binary output its bytes, in output order. */
export function splitBinaryResponse(headers: IncomingHttpHeaders, body: Buffer): { json: { outputs: BinaryOutput[]; [k: string]: unknown }; rest: Buffer } {
  const length = Number(headers['inference-header-content-length']);
  if (!Number.isInteger(length)) throw new Error(`no Inference-Header-Content-Length in ${JSON.stringify(headers)}`);
  const json = JSON.parse(body.subarray(0, length).toString('utf8')) as { outputs: BinaryOutput[] };
  let at = length;
  for (const o of json.outputs) {
    const size = o.parameters?.binary_data_size;
    if (size === undefined) continue;
    o.raw = body.subarray(at, at + size);
    at += size;
  }
  if (at !== body.length) throw new Error(`binary outputs add up to ${at - length} bytes, the body has ${body.length - length} after the JSON`);
  return { json, rest: body.subarray(length) };
}

// ---- little-endian writers ----

function write(n: number, size: number, set: (v: DataView, at: number, i: number) => void): Buffer {
  const b = Buffer.alloc(n * size);
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < n; i++) set(view, i * size, i);
  return b;
}

export const f32 = (values: readonly number[]): Buffer => write(values.length, 4, (v, at, i) => v.setFloat32(at, values[i]!, true));
export const f64 = (values: readonly number[]): Buffer => write(values.length, 8, (v, at, i) => v.setFloat64(at, values[i]!, true));
export const i64 = (values: readonly (number | bigint)[]): Buffer => write(values.length, 8, (v, at, i) => v.setBigInt64(at, BigInt(values[i]!), true));
export const u64 = (values: readonly (number | bigint)[]): Buffer => write(values.length, 8, (v, at, i) => v.setBigUint64(at, BigInt(values[i]!), true));
export const i32 = (values: readonly number[]): Buffer => write(values.length, 4, (v, at, i) => v.setInt32(at, values[i]!, true));
export const u32 = (values: readonly number[]): Buffer => write(values.length, 4, (v, at, i) => v.setUint32(at, values[i]!, true));
export const i16 = (values: readonly number[]): Buffer => write(values.length, 2, (v, at, i) => v.setInt16(at, values[i]!, true));
export const u16 = (values: readonly number[]): Buffer => write(values.length, 2, (v, at, i) => v.setUint16(at, values[i]!, true));
export const i8 = (values: readonly number[]): Buffer => write(values.length, 1, (v, at, i) => v.setInt8(at, values[i]!));
export const u8 = (values: readonly number[]): Buffer => write(values.length, 1, (v, at, i) => v.setUint8(at, values[i]!));

/** BYTES: each element a 4-byte little-endian length, then its UTF-8 bytes. */
export function bytesElements(values: readonly string[]): Buffer {
  const parts: Buffer[] = [];
  for (const s of values) {
    const text = Buffer.from(s, 'utf8');
    const length = Buffer.alloc(4);
    new DataView(length.buffer, length.byteOffset, 4).setUint32(0, text.length, true);
    parts.push(length, text);
  }
  return Buffer.concat(parts);
}

// ---- little-endian readers ----

function read<T>(b: Buffer, size: number, get: (v: DataView, at: number) => T): T[] {
  if (b.length % size !== 0) throw new Error(`${b.length} bytes is not a whole number of ${size}-byte elements`);
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: T[] = [];
  for (let at = 0; at < b.length; at += size) out.push(get(view, at));
  return out;
}

export const readF32 = (b: Buffer): number[] => read(b, 4, (v, at) => v.getFloat32(at, true));
export const readF64 = (b: Buffer): number[] => read(b, 8, (v, at) => v.getFloat64(at, true));
export const readI64 = (b: Buffer): bigint[] => read(b, 8, (v, at) => v.getBigInt64(at, true));
export const readU64 = (b: Buffer): bigint[] => read(b, 8, (v, at) => v.getBigUint64(at, true));
export const readI32 = (b: Buffer): number[] => read(b, 4, (v, at) => v.getInt32(at, true));
export const readU32 = (b: Buffer): number[] => read(b, 4, (v, at) => v.getUint32(at, true));
export const readI16 = (b: Buffer): number[] => read(b, 2, (v, at) => v.getInt16(at, true));
export const readU16 = (b: Buffer): number[] => read(b, 2, (v, at) => v.getUint16(at, true));
export const readI8 = (b: Buffer): number[] => read(b, 1, (v, at) => v.getInt8(at));
export const readU8 = (b: Buffer): number[] => read(b, 1, (v, at) => v.getUint8(at));

export function readBytesElements(b: Buffer): string[] {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: string[] = [];
  let at = 0;
  while (at < b.length) {
    const length = view.getUint32(at, true);
    out.push(b.subarray(at + 4, at + 4 + length).toString('utf8'));
    at += 4 + length;
  }
  return out;
}
