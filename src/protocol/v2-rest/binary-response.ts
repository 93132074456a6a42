/**
 * Triton's binary tensor data extension over HTTP, response side (the request side is binary-request.ts).
 * An output asked for with `"parameters": {"binary_data": true}`, or every output when the request says
 * `"parameters": {"binary_data_output": true}` (an output's own `binary_data` wins), goes back raw: its JSON entry
 * carries `"parameters": {"binary_data_size": N}` instead of `data`, and its bytes follow the JSON in output order.
 */
import { invalid } from '../../errors.js';
import { tensorDataToRaw } from '../../tensor/raw-codec.js';
import type { InferenceRequest, InferenceResponse } from '../../dataplane/types.js';
import { inferResponseJson } from './infer-json.js';

/** Says, by output name, whether that output goes back raw. */
export type BinaryOutputs = (name: string) => boolean;

/**
 * Which outputs go back raw; undefined when none does, which is the JSON-only path and the common case (a couple of
 * property reads). Called before inference, so a malformed flag costs no model run.
 */
export function binaryOutputs(request: InferenceRequest): BinaryOutputs | undefined {
  const all = flag(request.parameters?.binary_data_output, 'parameters.binary_data_output') ?? false;
  let own: Map<string, boolean> | undefined;
  let anyOwn = false;
  for (const o of request.outputs ?? []) {
    const b = flag(o.parameters?.binary_data, `output '${o.name}': parameters.binary_data`);
    if (b === undefined) continue;
    (own ??= new Map()).set(o.name, b);
    anyOwn ||= b;
  }
  if (!all && !anyOwn) return undefined;
  return (name) => own?.get(name) ?? all;
}

function flag(value: unknown, what: string): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  throw invalid(`${what} must be true or false, got ${JSON.stringify(value)}`);
}

export interface BinaryResponseBody {
  /** The JSON header; its UTF-8 byte length is what Inference-Header-Content-Length says. */
  readonly json: string;
  /** The raw data of the binary outputs, in output order, to follow the JSON. */
  readonly raw: readonly Uint8Array[];
}

export function binaryInferResponse(response: InferenceResponse, binary: BinaryOutputs): BinaryResponseBody {
  const raw: Uint8Array[] = [];
  const json = inferResponseJson(response, (t) => {
    if (!binary(t.name)) return undefined;
    const bytes = tensorDataToRaw(t.data, t.datatype); // a view, not a copy, for numeric tensors
    raw.push(bytes);
    return bytes.byteLength;
  });
  return { json, raw };
}
