/**
 * V2 gRPC messages <-> the data plane's types, as named to/from pairs (MLServer's converters habit). Only wire
 * checks live here (which contents field, raw vs typed); what the model expects is checked in the data plane.
 */
import { invalid } from '../../errors.js';
import { DATATYPES, isDatatype, V2_DATATYPES, type Datatype, type TensorData } from '../../tensor/datatypes.js';
import { jsonToTensorData } from '../../tensor/json-codec.js';
import { rawToTensorData, tensorDataToRaw } from '../../tensor/raw-codec.js';
import { elementCount, type Tensor } from '../../tensor/tensor.js';
import type { InferenceRequest, InferenceResponse, Mutable, PlacedOutput } from '../../dataplane/types.js';
import type {
  InferInputTensor, InferOutputTensor, InferTensorContents, ModelInferRequest, ModelInferResponse, ParameterMap,
} from './messages.js';

type ContentsField = keyof InferTensorContents;

/** The typed-contents field each datatype travels in; FP16 has none and must be sent raw. */
const CONTENTS_FIELD: Readonly<Record<Datatype, ContentsField | undefined>> = {
  BOOL: 'bool_contents', INT8: 'int_contents', INT16: 'int_contents', INT32: 'int_contents', INT64: 'int64_contents',
  UINT8: 'uint_contents', UINT16: 'uint_contents', UINT32: 'uint_contents', UINT64: 'uint64_contents',
  FP16: undefined, FP32: 'fp32_contents', FP64: 'fp64_contents', BYTES: 'bytes_contents',
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function parametersFromGrpc(map: ParameterMap | undefined): Record<string, unknown> | undefined {
  if (!map) return undefined;
  const keys = Object.keys(map);
  if (keys.length === 0) return undefined;
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    const p = map[k]!;
    out[k] = p.parameter_choice ? p[p.parameter_choice] : undefined;
  }
  return out;
}

/** Whether a request carries its inputs raw (then every input must be). */
function usesRawInputs(req: ModelInferRequest): boolean {
  return req.raw_input_contents.length > 0;
}

export function inferRequestFromGrpc(req: ModelInferRequest, deadline?: number, headers?: InferenceRequest['headers']): InferenceRequest {
  if (!req.model_name) throw invalid('model_name is required');
  if (req.inputs.length === 0) throw invalid('inputs must hold at least one tensor');
  const raw = usesRawInputs(req);
  // Inputs in shared memory take no raw_input_contents entry (as in Triton); the rest take one each, in order.
  let shared = 0;
  for (const t of req.inputs) if (inSharedMemory(t.parameters)) shared++;
  if (raw && req.raw_input_contents.length !== req.inputs.length - shared) {
    const which = shared === 0 ? 'inputs (one entry per input, in order)' : 'inputs not in shared memory (one entry per such input, in order)';
    throw invalid(`raw_input_contents has ${req.raw_input_contents.length} entries but there are ${req.inputs.length - shared} ${which}`);
  }
  const parameters = parametersFromGrpc(req.parameters);
  const inputs = new Array<Tensor>(req.inputs.length);
  for (let i = 0, r = 0; i < inputs.length; i++) {
    const t = req.inputs[i]!;
    inputs[i] = shared > 0 && inSharedMemory(t.parameters) ? sharedInputFromGrpc(t, i) : inputFromGrpc(t, raw ? req.raw_input_contents[r++]! : undefined, i);
  }
  // Written field by field rather than with conditional spreads: every spread is one more object per call.
  const request: Mutable<InferenceRequest> = { modelName: req.model_name, inputs, headers };
  if (req.model_version) request.modelVersion = req.model_version;
  if (req.id) request.id = req.id;
  if (parameters) request.parameters = parameters;
  if (deadline !== undefined) request.deadline = deadline;
  if (req.outputs.length > 0) {
    request.outputs = req.outputs.map((o) => {
      const p = parametersFromGrpc(o.parameters);
      return p ? { name: o.name, parameters: p } : { name: o.name };
    });
    if (req.outputs.some((o) => inSharedMemory(o.parameters))) shared++;
  }
  if (shared > 0) request.sharedMemory = true;
  return request;
}

/** Whether a tensor's parameters name a region: a value set, as parametersFromGrpc reads it (an empty entry is none). */
function inSharedMemory(parameters: ParameterMap | undefined): boolean {
  return parameters?.shared_memory_region?.parameter_choice !== undefined;
}

/** An input whose data the data plane reads from a shared memory region (dataplane/shared-memory/). */
function sharedInputFromGrpc(t: InferInputTensor, index: number): Tensor {
  if (t.contents && filledField(t.contents)) throw invalid(`input '${t.name || index}': its data is in shared memory, so it takes no contents`);
  return inputFromGrpc(t, undefined, index, true);
}

function inputFromGrpc(t: InferInputTensor, raw: Uint8Array | undefined, index: number, shared = false): Tensor {
  if (!t.name) throw invalid(`inputs[${index}].name is required`);
  if (!isDatatype(t.datatype)) {
    throw invalid(`input '${t.name}': datatype ${JSON.stringify(t.datatype)} is not a V2 datatype (expected one of ${V2_DATATYPES.join(', ')})`);
  }
  const shape = new Array<number>(t.shape.length);
  for (let d = 0; d < shape.length; d++) {
    const n = Number(t.shape[d]);
    if (!Number.isSafeInteger(n) || n < 0) throw invalid(`input '${t.name}': shape must hold non-negative integers, got [${t.shape.join(',')}]`);
    shape[d] = n;
  }
  const what = `input '${t.name}'`;
  let data: TensorData;
  if (shared) {
    data = [];
  } else if (raw) {
    if (t.contents && filledField(t.contents)) {
      throw invalid(`${what}: give its data in contents or in raw_input_contents, not both`);
    }
    data = rawToTensorData(raw, t.datatype, elementCount(shape), what);
  } else {
    data = typedContentsToData(t.contents, t.datatype, what);
  }
  const parameters = parametersFromGrpc(t.parameters);
  const tensor: Mutable<Tensor> = { name: t.name, datatype: t.datatype, shape, data };
  if (parameters) tensor.parameters = parameters;
  return tensor;
}

function filledField(contents: Partial<InferTensorContents>): ContentsField | undefined {
  for (const k of Object.keys(contents) as ContentsField[]) if ((contents[k]?.length ?? 0) > 0) return k;
  return undefined;
}

function typedContentsToData(contents: Partial<InferTensorContents> | null, datatype: Datatype, what: string): TensorData {
  const field = CONTENTS_FIELD[datatype];
  if (!field) throw invalid(`${what}: FP16 has no typed contents field; send it in raw_input_contents`);
  const values = contents?.[field] ?? [];
  if (values.length === 0 && contents) {
    const other = filledField(contents);
    if (other) throw invalid(`${what}: ${datatype} data goes in contents.${field}, got contents.${other}`);
  }
  switch (datatype) {
    case 'INT64':
    case 'UINT64': {
      const Ctor = DATATYPES[datatype].array as BigInt64ArrayConstructor;
      try {
        return Ctor.from((values as (string | number)[]).map((v) => BigInt(v)));
      } catch {
        throw invalid(`${what}: ${field} holds a value that is not an integer`);
      }
    }
    case 'BYTES':
      return (values as Uint8Array[]).map((b, i) => {
        try {
          return utf8.decode(b);
        } catch {
          throw invalid(`${what}: BYTES element ${i} is not valid UTF-8, which string tensors need`);
        }
      });
    default:
      // Numbers and booleans: the JSON codec's checks (integer ranges per datatype) apply as they are.
      return jsonToTensorData(values as unknown[], datatype, what);
  }
}

/**
 * Outputs always in raw_output_contents, whatever the request used, as Triton answers: Triton's own example clients
 * (and others written against it) read only that field, and KServe's clients read either.
 */
export function inferResponseToGrpc(response: InferenceResponse): ModelInferResponse {
  const outputs: InferOutputTensor[] = [];
  const rawOutputs: Uint8Array[] = [];
  const placed = response.placed;
  for (const t of response.outputs) {
    const shared = placed?.get(t.name);
    if (shared !== undefined) {
      // Written into its shared memory region: an empty entry keeps raw_output_contents in step with outputs (Triton's way).
      outputs.push({ name: t.name, datatype: t.datatype, shape: t.shape as number[], parameters: placedToGrpc(shared) });
      rawOutputs.push(EMPTY);
      continue;
    }
    outputs.push({ name: t.name, datatype: t.datatype, shape: t.shape as number[] });
    rawOutputs.push(tensorDataToRaw(t.data, t.datatype));
  }
  return {
    model_name: response.modelName,
    model_version: response.modelVersion,
    id: response.id ?? '',
    outputs,
    raw_output_contents: rawOutputs,
  };
}

const EMPTY = new Uint8Array(0);

function placedToGrpc(placed: PlacedOutput): ParameterMap {
  return {
    shared_memory_region: { string_param: placed.shared_memory_region },
    shared_memory_byte_size: { int64_param: String(placed.shared_memory_byte_size) },
  };
}
