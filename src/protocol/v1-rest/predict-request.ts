/**
 * The body of `POST /v1/models/NAME:predict` (TensorFlow Serving's and KServe V1's) -> one tensor per model input.
 *
 * Row format, `{"instances": [...]}`: each instance is an object keyed by input name, or, for a model with one
 * input, that input's value itself. Columnar format, `{"inputs": ...}`: an object keyed by input name whose values
 * are lists with the batch dimension first, or, for a model with one input, that list itself. The model's metadata
 * (name, datatype, shape) says how to build each tensor, since records carry no datatype and no shape; input-column.ts
 * converts the values. What the model accepts is then checked once more by the data plane, as for every protocol.
 */
import { invalid } from '../../errors.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { RecordInput } from '../../dataplane/types.js';
import { describeJson, InputColumn, isJsonObject } from './input-column.js';

/** The one signature a ferry model has, under TensorFlow's default name. */
export const SIGNATURE_NAME = 'serving_default';

export interface PredictRequest {
  /** The answer takes the request's format: `predictions` for rows, `outputs` for columns. */
  readonly format: 'row' | 'columnar';
  readonly inputs: Tensor[];
  /** The batch size: instances, or the columns' length. */
  readonly rows: number;
}

export function predictRequest(doc: unknown, specs: readonly RecordInput[]): PredictRequest {
  if (!isJsonObject(doc)) throw invalid(`the body must be a JSON object: {"instances": [...]} (row format) or {"inputs": ...} (columnar format), got ${describeJson(doc)}`);
  const signature = doc.signature_name;
  if (signature !== undefined && signature !== SIGNATURE_NAME) {
    throw invalid(`signature_name ${JSON.stringify(signature)} is not served: ferry models have one signature, '${SIGNATURE_NAME}' (or leave signature_name out)`);
  }
  const hasInstances = Object.hasOwn(doc, 'instances');
  const hasInputs = Object.hasOwn(doc, 'inputs');
  if (hasInstances && hasInputs) throw invalid('the body has both "instances" and "inputs": send one, {"instances": [...]} (row format) or {"inputs": ...} (columnar format)');
  if (hasInstances) return fromInstances(doc.instances, specs);
  if (hasInputs) return fromColumns(doc.inputs, specs);
  throw invalid('the body has neither "instances" nor "inputs": send {"instances": [...]} (row format, one entry per instance) or {"inputs": ...} (columnar format)');
}

function namesOf(specs: readonly RecordInput[]): string {
  return specs.map((s) => `'${s.name}'`).join(', ');
}

/** A field of a parsed JSON object, or undefined: never a property inherited from Object.prototype ('toString'). */
function field(o: Record<string, unknown>, name: string): unknown {
  return Object.hasOwn(o, name) ? o[name] : undefined;
}

function checkFields(o: Record<string, unknown>, specs: readonly RecordInput[], where: string): void {
  // An unknown field is refused, not ignored: a misspelt feature would otherwise be read as a missing value.
  for (const key in o) {
    if (!Object.hasOwn(o, key)) continue;
    let known = false;
    for (const s of specs) if (s.name === key) known = true;
    if (!known) throw invalid(`${where}: unknown field '${key}' (the model's inputs: ${namesOf(specs)})`);
  }
}

const instanceName = (r: number) => `instance ${r}`;
const columnsRowName = (r: number) => `"inputs" row ${r}`;

function fromInstances(instances: unknown, specs: readonly RecordInput[]): PredictRequest {
  if (!Array.isArray(instances) || instances.length === 0) throw invalid(`"instances" must be a non-empty list, one entry per instance, got ${describeJson(instances)}`);
  const rows = instances.length;
  const list = specs.map((s) => new InputColumn(s, rows, instanceName));
  const only = specs.length === 1 ? list[0] : undefined;
  for (let r = 0; r < rows; r++) {
    const instance: unknown = instances[r];
    if (isJsonObject(instance) && !isB64(instance, only)) {
      checkFields(instance, specs, `instance ${r}`);
      for (const column of list) column.setRow(r, field(instance, column.name));
    } else if (only) {
      only.setRow(r, instance);
    } else {
      throw invalid(`instance ${r} is ${describeJson(instance)}, expected an object keyed by input name (the model has ${specs.length} inputs: ${namesOf(specs)})`);
    }
  }
  return { format: 'row', inputs: list.map((c) => c.tensor()), rows };
}

/** TensorFlow Serving's `{"b64": "..."}` is a value of a one-input BYTES model, not a record with a field 'b64'. */
function isB64(o: Record<string, unknown>, only: InputColumn | undefined): boolean {
  return only !== undefined && only.datatype === 'BYTES' && only.name !== 'b64' && Object.hasOwn(o, 'b64');
}

function fromColumns(inputs: unknown, specs: readonly RecordInput[]): PredictRequest {
  let byName: Map<string, unknown>;
  if (isJsonObject(inputs)) {
    byName = new Map(Object.entries(inputs));
  } else if (specs.length === 1) {
    byName = new Map([[specs[0]!.name, inputs]]);
  } else {
    throw invalid(`"inputs" must be an object keyed by input name, each a list with the batch dimension first (the model has ${specs.length} inputs: ${namesOf(specs)}), got ${describeJson(inputs)}`);
  }
  for (const name of byName.keys()) {
    if (!specs.some((s) => s.name === name)) throw invalid(`"inputs": unknown input '${name}' (the model's inputs: ${namesOf(specs)})`);
  }
  // The batch size: every column given must agree on it.
  let rows: number | undefined;
  let first = '';
  for (const [name, column] of byName) {
    if (!Array.isArray(column) || column.length === 0) throw invalid(`"inputs": input '${name}' must be a non-empty list with the batch dimension first, got ${describeJson(column)}`);
    if (rows === undefined) [rows, first] = [column.length, name];
    else if (column.length !== rows) throw invalid(`"inputs": input '${name}' has ${column.length} rows, but input '${first}' has ${rows}: every input needs one row per instance`);
  }
  if (rows === undefined) throw invalid('"inputs" holds no input: give each model input a list with the batch dimension first');
  const n = rows;
  const tensors = specs.map((spec) => {
    const column = new InputColumn(spec, n, columnsRowName);
    const values = byName.get(spec.name) as unknown[] | undefined;
    // An input left out is missing in every row: allowed where a missing value is (a feature).
    if (values === undefined && !column.missingAllowed) throw invalid(`"inputs": missing input '${spec.name}' (the model's inputs: ${namesOf(specs)})`);
    for (let r = 0; r < n; r++) column.setRow(r, values === undefined ? undefined : values[r]);
    return column.tensor();
  });
  return { format: 'columnar', inputs: tensors, rows: n };
}
