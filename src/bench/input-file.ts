/**
 * `--input FILE`: a V2 JSON inference request body to send instead of random data. It is checked and decoded here
 * (so a mistake shows before the run, naming the file), then re-encoded for the chosen wire; for HTTP JSON the
 * file's own text is sent as it is.
 */
import { readFileSync } from 'node:fs';
import { isDatatype } from '../tensor/datatypes.js';
import { flatten, jsonToTensorData } from '../tensor/json-codec.js';
import { elementCount, type Tensor } from '../tensor/tensor.js';
import type { InferRequest, RequestedOutput } from '../client/index.js';
import { BenchError } from './bench-error.js';
import { rowsOf, type PreparedRequest } from './random-inputs.js';

export interface FileRequest extends PreparedRequest {
  /** The file's text, sent verbatim when the wire is HTTP JSON. */
  readonly text: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function readInputFile(path: string): FileRequest {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new BenchError(`--input ${path}: cannot read it: ${(e as Error).message}`);
  }
  const fail = (message: string): never => {
    throw new BenchError(`--input ${path}: ${message}`);
  };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return fail(`not JSON: ${(e as Error).message}`);
  }
  if (!isObject(doc) || !Array.isArray(doc.inputs) || doc.inputs.length === 0) {
    return fail('expected a V2 inference request: a JSON object with a non-empty "inputs" array');
  }
  const inputs = doc.inputs.map((raw, i): Tensor => {
    if (!isObject(raw) || typeof raw.name !== 'string') return fail(`inputs[${i}] needs a "name"`);
    const what = `input '${raw.name}'`;
    const { datatype, shape, data, parameters } = raw;
    if (!isDatatype(datatype)) return fail(`${what}: datatype ${JSON.stringify(datatype)} is not a V2 datatype`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) return fail(`${what}: shape must be an array of non-negative integers`);
    if (!Array.isArray(data)) return fail(`${what}: needs its values in "data" (binary_data_size inputs cannot come from a JSON file)`);
    const values = flatten(data);
    if (values.length !== elementCount(shape as number[])) return fail(`${what}: shape [${shape.join(',')}] holds ${elementCount(shape as number[])} elements but data has ${values.length}`);
    let decoded;
    try {
      decoded = jsonToTensorData(values, datatype, what);
    } catch (e) {
      return fail((e as Error).message);
    }
    return { name: raw.name, datatype, shape: shape as number[], data: decoded, ...(isObject(parameters) ? { parameters } : {}) };
  });
  const outputs = Array.isArray(doc.outputs) ? (doc.outputs.filter(isObject) as unknown as RequestedOutput[]) : undefined;
  const request: InferRequest = {
    inputs,
    ...(outputs ? { outputs } : {}),
    ...(isObject(doc.parameters) ? { parameters: doc.parameters } : {}),
    ...(typeof doc.id === 'string' ? { id: doc.id } : {}),
  };
  return { request, rows: rowsOf(inputs), text };
}
