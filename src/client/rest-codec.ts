/**
 * V2 REST inference bodies, client side: requests encoded as JSON or with Triton's binary tensor data extension,
 * and responses decoded from either. Encoding writes the JSON text directly (no JSON.stringify of the data), so a
 * large tensor is not turned into a JS array first; the result is one Buffer that can be sent any number of times.
 */
import { DATATYPES, isDatatype, type TensorData } from '../tensor/datatypes.js';
import { flatten, jsonToTensorData, tensorDataToJson } from '../tensor/json-codec.js';
import { rawToTensorData, tensorDataToRaw } from '../tensor/raw-codec.js';
import { elementCount, type Tensor } from '../tensor/tensor.js';
import { V2ClientError } from './client-error.js';
import type { InferRequest, InferResult } from './types.js';

/** `json`: data as JSON arrays. `binary`: Triton's binary tensor data extension, inputs and outputs raw. */
export type RestEncoding = 'json' | 'binary';

/** The binary extension's HTTP header giving the byte length of the JSON part of a body. */
export const INFERENCE_HEADER_CONTENT_LENGTH = 'Inference-Header-Content-Length';

export interface EncodedRestRequest {
  readonly body: Buffer;
  /** Content-Type, Content-Length and, for binary bodies, Inference-Header-Content-Length. */
  readonly headers: Readonly<Record<string, string>>;
}

export function encodeRestRequest(request: InferRequest, encoding: RestEncoding): EncodedRestRequest {
  if (encoding === 'json') {
    const inputs = request.inputs.map((t) => `${tensorHead(t, t.parameters)},"data":${tensorDataToJson(t.data, t.datatype)}}`);
    const body = Buffer.from(requestJson(request, request.parameters, inputs), 'utf8');
    return { body, headers: { 'Content-Type': 'application/json', 'Content-Length': String(body.length) } };
  }
  const raw = request.inputs.map((t) => tensorDataToRaw(t.data, t.datatype));
  const inputs = request.inputs.map((t, i) => `${tensorHead(t, { ...t.parameters, binary_data_size: raw[i]!.byteLength })}}`);
  // Every output back raw too unless the request says otherwise: decoding raw bytes is what a binary client wants.
  const json = Buffer.from(requestJson(request, { binary_data_output: true, ...request.parameters }, inputs), 'utf8');
  const body = Buffer.concat([json, ...raw]);
  return {
    body,
    headers: {
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(body.length),
      [INFERENCE_HEADER_CONTENT_LENGTH]: String(json.length),
    },
  };
}

function tensorHead(t: Tensor, parameters: Readonly<Record<string, unknown>> | undefined): string {
  const params = parameters && Object.keys(parameters).length > 0 ? `,"parameters":${JSON.stringify(parameters)}` : '';
  return `{"name":${JSON.stringify(t.name)},"datatype":"${t.datatype}","shape":[${t.shape.join(',')}]${params}`;
}

function requestJson(request: InferRequest, parameters: Readonly<Record<string, unknown>> | undefined, inputs: string[]): string {
  const parts: string[] = [];
  if (request.id !== undefined) parts.push(`"id":${JSON.stringify(request.id)}`);
  if (parameters && Object.keys(parameters).length > 0) parts.push(`"parameters":${JSON.stringify(parameters)}`);
  parts.push(`"inputs":[${inputs.join(',')}]`);
  if (request.outputs && request.outputs.length > 0) parts.push(`"outputs":${JSON.stringify(request.outputs)}`);
  return `{${parts.join(',')}}`;
}

/**
 * Decodes an inference response body. `jsonLength` is the response's Inference-Header-Content-Length (undefined
 * when absent: the whole body is JSON); outputs with `binary_data_size` take their bytes from after the JSON.
 */
export function decodeRestResponse(body: Buffer, jsonLength: number | undefined): InferResult {
  if (jsonLength !== undefined && (!Number.isSafeInteger(jsonLength) || jsonLength < 0 || jsonLength > body.length)) {
    throw protocolError(`${INFERENCE_HEADER_CONTENT_LENGTH} is ${jsonLength} but the body is ${body.length} bytes`);
  }
  const doc = parseV2Json(jsonLength === undefined ? body.toString('utf8') : body.toString('utf8', 0, jsonLength));
  if (typeof doc !== 'object' || doc === null || !Array.isArray((doc as { outputs?: unknown }).outputs)) {
    throw protocolError('the inference response has no "outputs" array');
  }
  const d = doc as { model_name?: unknown; model_version?: unknown; id?: unknown; outputs: unknown[] };
  let at = jsonLength ?? body.length;
  const outputs = d.outputs.map((o, i): Tensor => {
    const t = o as { name?: unknown; datatype?: unknown; shape?: unknown; data?: unknown; parameters?: { binary_data_size?: unknown } };
    if (typeof t.name !== 'string' || !isDatatype(t.datatype) || !Array.isArray(t.shape)) {
      throw protocolError(`outputs[${i}] needs a name, a V2 datatype and a shape`);
    }
    const shape = t.shape as number[];
    const what = `output '${t.name}'`;
    const size = t.parameters?.binary_data_size;
    let data: TensorData;
    if (typeof size === 'number') {
      if (at + size > body.length) throw protocolError(`${what}: binary_data_size ${size} runs past the end of the body`);
      // A copy, so the typed array is aligned and does not keep the whole body alive.
      data = rawToTensorData(Buffer.from(body.subarray(at, at + size)), t.datatype, elementCount(shape), what);
      at += size;
    } else if (Array.isArray(t.data)) {
      const values = flatten(t.data);
      const kind = DATATYPES[t.datatype].kind;
      data = jsonToTensorData(kind === 'float' || kind === 'fp16' ? values.map(nonFinite) : values, t.datatype, what);
    } else {
      throw protocolError(`${what} has neither "data" nor parameters.binary_data_size`);
    }
    return { name: t.name, datatype: t.datatype, shape, data };
  });
  return {
    modelName: String(d.model_name ?? ''),
    modelVersion: String(d.model_version ?? ''),
    ...(typeof d.id === 'string' ? { id: d.id } : {}),
    outputs,
  };
}

const NON_FINITE: Readonly<Record<string, number>> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

function nonFinite(v: unknown): unknown {
  return typeof v === 'string' && v in NON_FINITE ? NON_FINITE[v] : v;
}

/**
 * JSON.parse that also reads the bare NaN / Infinity / -Infinity tokens V2 servers (Triton, ferry) write for
 * non-finite floats; they come back as the strings "NaN", "Infinity", "-Infinity". The rewrite only runs when
 * plain JSON.parse fails, so well-formed bodies cost nothing extra.
 */
export function parseV2Json(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (first) {
    let out = '';
    let inString = false;
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (inString) {
        out += c;
        if (c === '\\') out += text[++i] ?? '';
        else if (c === '"') inString = false;
        continue;
      }
      if (c === '"') inString = true;
      const token = /^(?:-?Infinity|NaN)/.exec(text.slice(i, i + 9))?.[0];
      if (token) {
        out += `"${token}"`;
        i += token.length - 1;
      } else {
        out += c;
      }
    }
    try {
      return JSON.parse(out);
    } catch {
      throw protocolError(`the response is not JSON: ${(first as Error).message}`);
    }
  }
}

function protocolError(message: string): V2ClientError {
  return new V2ClientError('protocol', message);
}
