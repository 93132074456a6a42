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
import type { InferenceRequest, InferenceResponse, Mutable, RequestedOutput } from '../../dataplane/types.js';
import { BinaryInputs, binaryDataSize, withoutBinaryPart } from './binary-request.js';
import { namesSharedMemory } from '../../dataplane/shared-memory/shm-request.js';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Parses an inference request body. `jsonLength` is the Inference-Header-Content-Length: when given, the JSON is
 * that many bytes and the rest of the body is the binary inputs' raw data; when undefined the body is all JSON.
 */
export function parseInferRequest(body: Buffer, modelName: string, modelVersion: string | undefined, jsonLength?: number, headers?: InferenceRequest['headers']): InferenceRequest {
  const doc = parseJsonText(jsonLength === undefined ? body.toString('utf8') : body.toString('utf8', 0, jsonLength));
  const binary = jsonLength === undefined ? undefined : new BinaryInputs(body.subarray(jsonLength));
  return inferRequestFromJson(doc, modelName, modelVersion, binary, headers);
}

/** A request body's JSON; malformed JSON is the client's error, said as such. */
export function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw invalid(`malformed JSON in request body: ${(e as Error).message}`);
  }
}

/** An inference request from its parsed JSON (and the binary part's raw inputs, when there is one). */
export function inferRequestFromJson(doc: unknown, modelName: string, modelVersion: string | undefined, binary?: BinaryInputs, headers?: InferenceRequest['headers']): InferenceRequest {
  if (!isObject(doc)) throw invalid('request body must be a JSON object with an "inputs" array');
  const { id, parameters, inputs, outputs } = doc;
  if (id !== undefined && typeof id !== 'string') throw invalid('"id" must be a string');
  if (parameters !== undefined && !isObject(parameters)) throw invalid('"parameters" must be an object');
  if (!Array.isArray(inputs) || inputs.length === 0) throw invalid('"inputs" must be a non-empty array of tensors');
  const tensors = new Array<Tensor>(inputs.length);
  let shared = false;
  for (let i = 0; i < inputs.length; i++) {
    const t = (tensors[i] = parseInput(inputs[i], i, binary));
    if (t.parameters !== undefined) shared ||= namesSharedMemory(t.parameters);
  }
  binary?.finish();
  // Written field by field rather than with conditional spreads: every spread is one more object per request.
  const request: Mutable<InferenceRequest> = { modelName, inputs: tensors, headers };
  if (modelVersion !== undefined) request.modelVersion = modelVersion;
  if (id !== undefined) request.id = id;
  if (parameters !== undefined) request.parameters = parameters;
  if (outputs !== undefined) {
    request.outputs = parseOutputs(outputs);
    for (const o of request.outputs) shared ||= namesSharedMemory(o.parameters);
  }
  if (shared) request.sharedMemory = true;
  return request;
}

function parseInput(raw: unknown, index: number, binary: BinaryInputs | undefined): Tensor {
  if (!isObject(raw)) throw invalid(`inputs[${index}] must be an object with "name", "shape", "datatype" and "data"`);
  const { name, shape, datatype, data, parameters } = raw;
  if (typeof name !== 'string' || name === '') throw invalid(`inputs[${index}].name must be a non-empty string`);
  if (!isDatatype(datatype)) {
    throw invalid(`input '${name}': datatype ${JSON.stringify(datatype)} is not a V2 datatype (expected one of ${V2_DATATYPES.join(', ')})`);
  }
  if (!isShape(shape)) throw invalid(`input '${name}': shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  if (parameters !== undefined && !isObject(parameters)) throw invalid(`input '${name}': parameters must be an object`);
  const rawSize = parameters === undefined ? undefined : binaryDataSize(parameters, `input '${name}'`);
  let tensorData: TensorData;
  if (parameters !== undefined && namesSharedMemory(parameters)) {
    // Read from the region by the data plane (dataplane/shared-memory/); only one source of data may be named.
    if (data !== undefined || rawSize !== undefined) throw invalid(`input '${name}': give its data one way: "data", parameters.binary_data_size or parameters.shared_memory_region, not several`);
    tensorData = [];
  } else if (rawSize !== undefined) {
    const what = `input '${name}'`;
    if (data !== undefined) throw invalid(`${what} has both "data" and parameters.binary_data_size: send its data one way, not both`);
    tensorData = (binary ?? withoutBinaryPart(what, rawSize)).take(rawSize, datatype, shape, what);
  } else {
    if (!Array.isArray(data)) throw invalid(`input '${name}': data must be an array (flat or nested), got ${data === undefined ? 'nothing' : typeof data}`);
    // Nested data starts with an array; flat data (the usual form) is converted as it is, without a pass to look.
    const values = Array.isArray(data[0]) ? flatten(data, shape, `input '${name}'`) : data;
    tensorData = jsonToTensorData(values, datatype, `input '${name}'`);
  }
  const tensor: Mutable<Tensor> = { name, datatype, shape, data: tensorData };
  if (parameters !== undefined) tensor.parameters = parameters;
  return tensor;
}

function isShape(shape: unknown): shape is number[] {
  if (!Array.isArray(shape)) return false;
  for (const d of shape) if (!Number.isInteger(d) || d < 0) return false;
  return true;
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
 *
 * The fixed parts (the model's name, each output's name and datatype) are the same text on every answer: they are
 * written once and kept (textCache), which took the answer of a two-output model from 0.8 to 0.3 us.
 */
export function inferResponseJson(response: InferenceResponse, rawSize?: (t: Tensor) => number | undefined): string {
  const id = response.id !== undefined ? `,"id":${JSON.stringify(response.id)}` : '';
  let text = `${cachedText(response.modelName, modelHead)}${response.modelVersion}"${id},"outputs":[`;
  const outputs = response.outputs;
  const placed = response.placed;
  for (let i = 0; i < outputs.length; i++) {
    const t = outputs[i]!;
    if (i > 0) text += ',';
    text += `${cachedText(t.name, outputHead)}${t.datatype}","shape":[${shapeText(t.shape)}]`;
    const shared = placed?.get(t.name);
    if (shared !== undefined) {
      // Written into its shared memory region: the entry says where instead of carrying the data (as Triton's).
      text += `,"parameters":${JSON.stringify(shared)}}`;
      continue;
    }
    const size = rawSize?.(t);
    text += size === undefined ? `,"data":${tensorDataToJson(t.data, t.datatype)}}` : `,"parameters":{"binary_data_size":${size}}}`;
  }
  return `${text}]}`;
}

const modelHead = (name: string): string => `{"model_name":${JSON.stringify(name)},"model_version":"`;
const outputHead = (name: string): string => `{"name":${JSON.stringify(name)},"datatype":"`;

/**
 * Texts made from a name, kept per (maker, name). Names come from loaded models, so the cache stays small; it is
 * emptied past a bound all the same, as a server that loads and unloads models for months sees many names.
 */
const textCache = new Map<(name: string) => string, Map<string, string>>();
const TEXT_CACHE_NAMES = 4096;

function cachedText(name: string, make: (name: string) => string): string {
  let byName = textCache.get(make);
  if (!byName) textCache.set(make, (byName = new Map()));
  let text = byName.get(name);
  if (text === undefined) {
    if (byName.size >= TEXT_CACHE_NAMES) byName.clear();
    byName.set(name, (text = make(name)));
  }
  return text;
}

function shapeText(shape: readonly number[]): string {
  if (shape.length === 1) return String(shape[0]);
  if (shape.length === 2) return `${shape[0]},${shape[1]}`;
  return shape.join(',');
}
