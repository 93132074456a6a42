/**
 * Triton's binary tensor data extension over HTTP (server docs/protocol/extension_binary_data.md), request side
 * (the response side is binary-response.ts).
 *
 * A body may be a JSON header followed by raw tensor bytes; the `Inference-Header-Content-Length` HTTP header
 * gives the length of the JSON part. Each input sent raw has `"parameters": {"binary_data_size": N}` and no
 * `data`, and the raw parts follow the JSON in the order of those inputs, in the layout of tensor/raw-codec.ts.
 * With `Inference-Header-Content-Length: 0` the whole body is the raw data of a one-input model (Triton's
 * "raw binary request"). Requests without the header never come here: the JSON-only path stays as it was.
 */
import { invalid } from '../../errors.js';
import { DATATYPES, isDatatype, type Datatype, type TensorData } from '../../tensor/datatypes.js';
import { rawToTensorData } from '../../tensor/raw-codec.js';
import { elementCount, formatShape } from '../../tensor/tensor.js';
import type { InferenceRequest, ModelMetadata } from '../../dataplane/types.js';

export const INFERENCE_HEADER_CONTENT_LENGTH = 'inference-header-content-length';

/**
 * The length of the JSON part from the Inference-Header-Content-Length header, checked against the body (the
 * decompressed body when the request was compressed, as in Triton); undefined when the header is absent.
 */
export function jsonHeaderLength(header: string | undefined, bodyLength: number): number | undefined {
  if (header === undefined) return undefined;
  const text = header.trim();
  if (!/^\d+$/.test(text)) {
    throw invalid(`Inference-Header-Content-Length must be the byte length of the JSON part of the body (a non-negative integer), got '${header}'`);
  }
  const length = Number(text);
  if (length > bodyLength) {
    throw invalid(`Inference-Header-Content-Length is ${length} but the request body is only ${bodyLength} bytes`);
  }
  return length;
}

/** `parameters.binary_data_size` of an input: undefined when the input's data is in JSON. */
export function binaryDataSize(parameters: Readonly<Record<string, unknown>>, what: string): number | undefined {
  const size = parameters.binary_data_size;
  if (size === undefined) return undefined;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw invalid(`${what}: parameters.binary_data_size must be a non-negative integer (the byte size of its raw data), got ${JSON.stringify(size)}`);
  }
  return size;
}

/** The raw bytes after the JSON header, handed out to the binary inputs in order. */
export class BinaryInputs {
  private at = 0;

  constructor(private readonly bytes: Buffer) {}

  /** The tensor data of the next binary input, `size` bytes long, checked against its shape and datatype. */
  take(size: number, datatype: Datatype, shape: readonly number[], what: string): TensorData {
    const left = this.bytes.length - this.at;
    if (size > left) {
      throw invalid(
        `${what}: parameters.binary_data_size is ${size} but only ${left} bytes of binary data are left for it ` +
          `(the body has ${this.bytes.length} bytes after the JSON header, shared by the binary inputs in order)`,
      );
    }
    const raw = this.bytes.subarray(this.at, this.at + size);
    this.at += size;
    const count = elementCount(shape);
    if (DATATYPES[datatype].kind === 'bytes' && count * 4 > size) {
      // Checked before decoding so a huge shape cannot make the decoder allocate for elements that are not there.
      throw invalid(`${what}: BYTES data for shape ${formatShape(shape)} (${count} elements) needs at least ${count * 4} bytes (a 4-byte length per element), got ${size}`);
    }
    return rawToTensorData(raw, datatype, count, what);
  }

  /** Every byte after the JSON header must belong to an input. */
  finish(): void {
    const left = this.bytes.length - this.at;
    if (left > 0) {
      throw invalid(
        `the request body has ${left} bytes after the JSON header that no input's parameters.binary_data_size accounts for ` +
          `(the binary inputs' sizes add up to ${this.at} bytes; is Inference-Header-Content-Length right?)`,
      );
    }
  }
}

/**
 * The raw data source of a binary input in a request without Inference-Header-Content-Length: only an empty tensor
 * (binary_data_size 0) can do without one, as in Triton.
 */
export function withoutBinaryPart(what: string, size: number): BinaryInputs {
  if (size === 0) return new BinaryInputs(Buffer.alloc(0));
  throw invalid(
    `${what}: parameters.binary_data_size is ${size} but the request has no binary part ` +
      `(send the Inference-Header-Content-Length header with the byte length of the JSON, and the raw data after it)`,
  );
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Triton's raw binary request (`Inference-Header-Content-Length: 0`): the body is the raw data of the model's one
 * input, whose shape is deduced from the byte count. A dimension of any size (-1) takes what the bytes make (at most
 * one may be free); for BYTES the body is one element, whose length Triton does not ask for, and -1 dimensions are 1.
 * Every output comes back binary, as in Triton.
 */
export function rawBinaryRequest(body: Buffer, model: ModelMetadata, modelName: string, modelVersion: string | undefined, headers?: InferenceRequest['headers']): InferenceRequest {
  if (model.inputs.length !== 1) {
    throw invalid(
      `a raw binary request (Inference-Header-Content-Length: 0, the body all tensor data) needs a model with one input; ` +
        `model '${modelName}' has ${model.inputs.length} (${model.inputs.map((i) => `'${i.name}'`).join(', ')}): send a JSON header first`,
    );
  }
  const spec = model.inputs[0]!;
  const what = `input '${spec.name}'`;
  if (!isDatatype(spec.datatype)) throw invalid(`${what}: datatype ${spec.datatype} cannot be sent raw`);
  const datatype = spec.datatype;
  const free = spec.shape.filter((d) => d < 0).length;
  let shape: number[];
  let data: TensorData;
  if (datatype === 'BYTES') {
    shape = spec.shape.map((d) => (d < 0 ? 1 : d));
    if (elementCount(shape) !== 1) {
      throw invalid(`${what}: a raw binary request carries one BYTES element, but the model's shape ${formatShape(spec.shape)} holds ${elementCount(shape)} elements`);
    }
    try {
      data = [utf8.decode(body)];
    } catch {
      throw invalid(`${what}: the raw binary request body is not valid UTF-8, which string tensors need`);
    }
  } else {
    if (free > 1) {
      throw invalid(`${what}: the shape of a raw binary request cannot be deduced for the model's shape ${formatShape(spec.shape)}, which has more than one dimension of any size`);
    }
    const rowBytes = elementCount(spec.shape.filter((d) => d >= 0)) * DATATYPES[datatype].byteSize;
    shape = [...spec.shape];
    if (free === 1) {
      if (rowBytes === 0 || body.length % rowBytes !== 0) {
        throw invalid(`${what}: a raw binary request of ${body.length} bytes does not fill the model's shape ${formatShape(spec.shape)} of ${datatype} (${rowBytes} bytes per step of its free dimension)`);
      }
      shape[shape.indexOf(-1)] = body.length / rowBytes;
    }
    data = rawToTensorData(body, datatype, elementCount(shape), what);
  }
  return {
    modelName,
    ...(modelVersion !== undefined ? { modelVersion } : {}),
    parameters: { binary_data_output: true },
    inputs: [{ name: spec.name, datatype, shape, data }],
    headers,
  };
}
