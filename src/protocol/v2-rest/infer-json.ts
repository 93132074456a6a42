/**
 * The V2 REST inference body <-> the data plane's types. JSON, plus the binary tensor data extension's raw inputs
 * when the request says where its JSON ends (binary-request.ts holds that wire logic).
 * Only wire-format checks live here (is it JSON, are the fields the right kind); what the model expects is
 * checked once, in the data plane, for every protocol.
 */
import { invalid } from '../../errors.js';
import { isDatatype, V2_DATATYPES, type TensorData } from '../../tensor/datatypes.js';
import { flatten, jsonToTensorData, tensorDataToJson } from '../../tensor/json-codec.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { InferenceRequest, InferenceResponse, RequestedOutput } from '../../dataplane/types.js';
import { BinaryInputs, binaryDataSize, withoutBinaryPart } from './binary-request.js';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Parses an inference request body. `jsonLength` is the Inference-Header-Content-Length: when given, the JSON is
 * that many bytes and the rest of the body is the binary inputs' raw data; when undefined the body is all JSON.
 */
export function parseInferRequest(body: Buffer, modelName: string, modelVersion: string | undefined, jsonLength?: number, headers?: InferenceRequest['headers']): InferenceRequest {
  let doc: unknown;
  try {
    doc = JSON.parse(jsonLength === undefined ? body.toString('utf8') : body.toString('utf8', 0, jsonLength));
  } catch (e) {
    throw invalid(`malformed JSON in request body: ${(e as Error).message}`);
  }
  if (!isObject(doc)) throw invalid('request body must be a JSON object with an "inputs" array');
  const { id, parameters, inputs, outputs } = doc;
  if (id !== undefined && typeof id !== 'string') throw invalid('"id" must be a string');
  if (parameters !== undefined && !isObject(parameters)) throw invalid('"parameters" must be an object');
  if (!Array.isArray(inputs) || inputs.length === 0) throw invalid('"inputs" must be a non-empty array of tensors');
  const binary = jsonLength === undefined ? undefined : new BinaryInputs(body.subarray(jsonLength));
  const tensors = inputs.map((input, i) => parseInput(input, i, binary));
  binary?.finish();
  return {
    modelName,
    ...(modelVersion !== undefined ? { modelVersion } : {}),
    ...(id !== undefined ? { id } : {}),
    ...(parameters !== undefined ? { parameters } : {}),
    inputs: tensors,
    ...(outputs !== undefined ? { outputs: parseOutputs(outputs) } : {}),
    headers,
  };
}

function parseInput(raw: unknown, index: number, binary: BinaryInputs | undefined): Tensor {
  if (!isObject(raw)) throw invalid(`inputs[${index}] must be an object with "name", "shape", "datatype" and "data"`);
  const { name, shape, datatype, data, parameters } = raw;
  if (typeof name !== 'string' || name === '') throw invalid(`inputs[${index}].name must be a non-empty string`);
  const what = `input '${name}'`;
  if (!isDatatype(datatype)) {
    throw invalid(`${what}: datatype ${JSON.stringify(datatype)} is not a V2 datatype (expected one of ${V2_DATATYPES.join(', ')})`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw invalid(`${what}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (parameters !== undefined && !isObject(parameters)) throw invalid(`${what}: parameters must be an object`);
  const rawSize = parameters === undefined ? undefined : binaryDataSize(parameters, what);
  let tensorData: TensorData;
  if (rawSize !== undefined) {
    if (data !== undefined) throw invalid(`${what} has both "data" and parameters.binary_data_size: send its data one way, not both`);
    tensorData = (binary ?? withoutBinaryPart(what, rawSize)).take(rawSize, datatype, shape as number[], what);
  } else {
    if (!Array.isArray(data)) throw invalid(`${what}: data must be an array (flat or nested), got ${data === undefined ? 'nothing' : typeof data}`);
    tensorData = jsonToTensorData(flatten(data, shape as number[], what), datatype, what);
  }
  return {
    name,
    datatype,
    shape: shape as number[],
    data: tensorData,
    ...(parameters !== undefined ? { parameters } : {}),
  };
}

function parseOutputs(raw: unknown): RequestedOutput[] {
  if (!Array.isArray(raw)) throw invalid('"outputs" must be an array of {"name": ...} objects');
  return raw.map((o, i) => {
    if (!isObject(o) || typeof o.name !== 'string' || o.name === '') {
      throw invalid(`outputs[${i}] must be an object with a non-empty "name"`);
    }
    if (o.parameters !== undefined && !isObject(o.parameters)) throw invalid(`outputs[${i}].parameters must be an object`);
    return { name: o.name, ...(o.parameters !== undefined ? { parameters: o.parameters as Json } : {}) };
  });
}

/**
 * The response body, written as text directly so typed arrays are never copied into JS arrays first.
 * `rawSize`, for the binary extension, returns the byte size of an output that goes back raw (its entry then has
 * `"parameters":{"binary_data_size":N}` and no data) or undefined for one that goes back as JSON.
 */
export function inferResponseJson(response: InferenceResponse, rawSize?: (t: Tensor) => number | undefined): string {
  const outputs = response.outputs.map((t) => {
    const head = `{"name":${JSON.stringify(t.name)},"datatype":"${t.datatype}","shape":[${t.shape.join(',')}]`;
    const size = rawSize?.(t);
    return size === undefined ? `${head},"data":${tensorDataToJson(t.data, t.datatype)}}` : `${head},"parameters":{"binary_data_size":${size}}}`;
  });
  const id = response.id !== undefined ? `,"id":${JSON.stringify(response.id)}` : '';
  return `{"model_name":${JSON.stringify(response.modelName)},"model_version":"${response.modelVersion}"${id},"outputs":[${outputs.join(',')}]}`;
}
