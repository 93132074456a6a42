/**
 * V2 gRPC messages, client side: an InferRequest as a ModelInferRequest (inputs in raw_input_contents or in typed
 * contents) and a ModelInferResponse back as tensors. The message shapes are those @grpc/proto-loader produces with
 * the options in grpc-client.ts (keepCase, 64-bit integers as strings so they stay exact).
 */
import { DATATYPES, isDatatype, type Datatype, type TensorData } from '../tensor/datatypes.js';
import { jsonToTensorData } from '../tensor/json-codec.js';
import { rawToTensorData, tensorDataToRaw } from '../tensor/raw-codec.js';
import { elementCount, type Tensor } from '../tensor/tensor.js';
import { V2ClientError } from './client-error.js';
import type { InferRequest, InferResult } from './types.js';

/** `raw`: every input's bytes in raw_input_contents (what Triton's clients send). `typed`: the contents fields. */
export type GrpcContents = 'raw' | 'typed';

type Contents = Record<string, unknown[]>;
type ParameterMap = Record<string, { bool_param?: boolean; int64_param?: string; string_param?: string }>;

export interface GrpcInferRequest {
  model_name: string;
  model_version: string;
  id: string;
  parameters: ParameterMap;
  inputs: { name: string; datatype: string; shape: number[]; parameters: ParameterMap; contents?: Contents }[];
  outputs: { name: string; parameters: ParameterMap }[];
  raw_input_contents: Uint8Array[];
}

export interface GrpcInferResponse {
  model_name: string;
  model_version: string;
  id: string;
  outputs: { name: string; datatype: string; shape: (string | number)[]; contents?: Contents | null }[];
  raw_output_contents: Uint8Array[];
}

/** The typed-contents field of each datatype; FP16 has none (it travels raw only). */
const CONTENTS_FIELD: Readonly<Record<Datatype, string | undefined>> = {
  BOOL: 'bool_contents', INT8: 'int_contents', INT16: 'int_contents', INT32: 'int_contents', INT64: 'int64_contents',
  UINT8: 'uint_contents', UINT16: 'uint_contents', UINT32: 'uint_contents', UINT64: 'uint64_contents',
  FP16: undefined, FP32: 'fp32_contents', FP64: 'fp64_contents', BYTES: 'bytes_contents',
};

export function toGrpcInferRequest(model: string, version: string | undefined, request: InferRequest, contents: GrpcContents): GrpcInferRequest {
  return {
    model_name: model,
    model_version: version ?? '',
    id: request.id ?? '',
    parameters: toGrpcParameters(request.parameters, 'request parameters'),
    inputs: request.inputs.map((t) => ({
      name: t.name,
      datatype: t.datatype,
      shape: [...t.shape],
      parameters: toGrpcParameters(t.parameters, `input '${t.name}' parameters`),
      ...(contents === 'typed' ? { contents: typedContents(t) } : {}),
    })),
    outputs: (request.outputs ?? []).map((o) => ({ name: o.name, parameters: toGrpcParameters(o.parameters, `output '${o.name}' parameters`) })),
    raw_input_contents: contents === 'raw' ? request.inputs.map((t) => tensorDataToRaw(t.data, t.datatype)) : [],
  };
}

/** JSON-style parameters as InferParameter: booleans, integers and strings are all gRPC can carry. */
export function toGrpcParameters(parameters: Readonly<Record<string, unknown>> | undefined, what: string): ParameterMap {
  const out: ParameterMap = {};
  for (const [k, v] of Object.entries(parameters ?? {})) {
    if (typeof v === 'boolean') out[k] = { bool_param: v };
    else if (typeof v === 'number' && Number.isSafeInteger(v)) out[k] = { int64_param: String(v) };
    else if (typeof v === 'string') out[k] = { string_param: v };
    else throw new V2ClientError('protocol', `${what}: '${k}' is ${JSON.stringify(v)}; gRPC parameters hold a boolean, an integer or a string`);
  }
  return out;
}

function typedContents(t: Tensor): Contents {
  const field = CONTENTS_FIELD[t.datatype];
  if (!field) throw new V2ClientError('protocol', `input '${t.name}': FP16 has no typed contents field in the V2 gRPC protocol; send it raw`);
  const data = t.data;
  switch (DATATYPES[t.datatype].kind) {
    case 'bool':
      return { [field]: Array.from(data as Uint8Array, (b) => b !== 0) };
    case 'bigint':
      return { [field]: Array.from(data as BigInt64Array, (v) => v.toString()) };
    case 'bytes':
      return { [field]: (data as string[]).map((s) => Buffer.from(s, 'utf8')) };
    default:
      return { [field]: Array.from(data as Float32Array) };
  }
}

export function fromGrpcInferResponse(response: GrpcInferResponse): InferResult {
  const raw = response.raw_output_contents ?? [];
  const outputs = response.outputs.map((o, i): Tensor => {
    if (!isDatatype(o.datatype)) throw new V2ClientError('protocol', `output '${o.name}' has datatype ${JSON.stringify(o.datatype)}, not a V2 datatype`);
    const shape = o.shape.map(Number);
    const what = `output '${o.name}'`;
    let data: TensorData;
    if (raw.length > 0) {
      const bytes = raw[i];
      if (!bytes) throw new V2ClientError('protocol', `raw_output_contents has no entry for ${what}`);
      data = rawToTensorData(Buffer.from(bytes), o.datatype, elementCount(shape), what);
    } else {
      data = fromTypedContents(o.contents ?? {}, o.datatype, what);
    }
    return { name: o.name, datatype: o.datatype, shape, data };
  });
  return {
    modelName: response.model_name,
    modelVersion: response.model_version,
    ...(response.id ? { id: response.id } : {}),
    outputs,
  };
}

function fromTypedContents(contents: Contents, datatype: Datatype, what: string): TensorData {
  const field = CONTENTS_FIELD[datatype];
  if (!field) throw new V2ClientError('protocol', `${what}: FP16 came without raw_output_contents`);
  const values = contents[field] ?? [];
  switch (DATATYPES[datatype].kind) {
    case 'bigint':
      return (DATATYPES[datatype].array as BigInt64ArrayConstructor).from(values.map((v) => BigInt(v as string)));
    case 'bytes':
      return values.map((b) => Buffer.from(b as Uint8Array).toString('utf8'));
    default:
      return jsonToTensorData(values, datatype, what);
  }
}
