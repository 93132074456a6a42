/**
 * Tensor data <-> raw bytes, the layout shared by the gRPC `raw_input_contents` / `raw_output_contents` fields and
 * Triton's binary tensor data extension over HTTP: flat, row-major, little-endian, no padding; BOOL one byte per
 * element; BYTES each element as a 4-byte little-endian length followed by its bytes.
 */
import { invalid } from '../errors.js';
import { DATATYPES, type Datatype, type TensorData } from './datatypes.js';
import { markOwned } from './transferable.js';
import { newTypedArray } from './small-arrays.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const BIG_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 0;

/**
 * Decodes `bytes` as `count` elements of `datatype`. `what` names the tensor in messages.
 * The bytes are copied when they are not aligned for the typed array (a view is taken when they are).
 */
export function rawToTensorData(bytes: Uint8Array, datatype: Datatype, count: number, what: string): TensorData {
  if (BIG_ENDIAN_HOST) throw new Error('raw tensor data needs a little-endian host');
  const info = DATATYPES[datatype];
  if (info.kind === 'bytes') return decodeBytesElements(bytes, count, what);
  const need = count * info.byteSize;
  if (bytes.byteLength !== need) {
    throw invalid(`${what}: ${datatype} data for ${count} elements is ${need} bytes, got ${bytes.byteLength}`);
  }
  const Ctor = info.array!;
  if (bytes.byteOffset % info.byteSize === 0) return new Ctor(bytes.buffer as ArrayBuffer, bytes.byteOffset, count);
  const copy = newTypedArray(Uint8Array, need);
  copy.set(bytes);
  markOwned(copy);
  return new Ctor(copy.buffer as ArrayBuffer, copy.byteOffset, count);
}

function decodeBytesElements(bytes: Uint8Array, count: number, what: string): string[] {
  const out = new Array<string>(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 4 > bytes.byteLength) {
      throw invalid(`${what}: BYTES data ends after ${i} of ${count} elements (each element is a 4-byte little-endian length, then its bytes)`);
    }
    const length = view.getUint32(at, true);
    at += 4;
    if (at + length > bytes.byteLength) {
      throw invalid(`${what}: BYTES element ${i} says it is ${length} bytes but only ${bytes.byteLength - at} remain`);
    }
    try {
      out[i] = utf8.decode(bytes.subarray(at, at + length));
    } catch {
      throw invalid(`${what}: BYTES element ${i} is not valid UTF-8, which string tensors need`);
    }
    at += length;
  }
  if (at !== bytes.byteLength) {
    throw invalid(`${what}: BYTES data holds more than the ${count} elements its shape says (${bytes.byteLength - at} bytes left over)`);
  }
  return out;
}

/** Raw little-endian bytes of a tensor's data; a view without copying for numeric types. */
export function tensorDataToRaw(data: TensorData, datatype: Datatype): Uint8Array {
  if (BIG_ENDIAN_HOST) throw new Error('raw tensor data needs a little-endian host');
  if (DATATYPES[datatype].kind !== 'bytes') {
    const typed = data as Uint8Array;
    return new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
  }
  const encoded = (data as string[]).map((s) => Buffer.from(s, 'utf8'));
  let size = 0;
  for (const e of encoded) size += 4 + e.length;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const e of encoded) {
    out.writeUInt32LE(e.length, at);
    e.copy(out, at + 4);
    at += 4 + e.length;
  }
  return out;
}
