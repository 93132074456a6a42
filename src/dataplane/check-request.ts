/**
 * Checks an inference request against the model version it is for, with messages that name the input and say
 * what was expected. Uses the lookups the version built at load, so the per-request cost is a few map reads.
 */
import { invalid } from '../errors.js';
import { elementCount, formatShape, shapeMatches, type Tensor } from '../tensor/tensor.js';
import type { ModelVersion } from '../registry/model-version.js';
import type { InferenceRequest } from './types.js';

function list(names: Iterable<string>): string {
  return [...names].map((n) => `'${n}'`).join(', ');
}

/** Returns the inputs in the model's order and the output names to compute. */
export function checkRequest(version: ModelVersion, request: InferenceRequest): { inputs: Tensor[]; outputNames: string[] } {
  const specs = version.inputsByName;
  const given = request.inputs;
  let inputs: Tensor[];
  if (specs.size === 1 && given.length === 1) {
    // The usual model, one input: no map of the request's inputs to build.
    const t = given[0]!;
    checkInput(version, t);
    inputs = [t];
  } else if (inModelOrder(version.inputs, given)) {
    // Every input, in the model's order (what clients built from the metadata send: a model's features): no map either.
    for (const t of given) checkInput(version, t);
    inputs = given as Tensor[];
  } else {
    const byName = new Map<string, Tensor>();
    for (const t of given) {
      checkInput(version, t);
      if (byName.has(t.name)) throw invalid(`input '${t.name}' is given more than once`);
      byName.set(t.name, t);
    }
    inputs = [];
    for (const name of specs.keys()) {
      const t = byName.get(name);
      if (!t) throw invalid(`missing input '${name}' for model '${version.modelName}' (its inputs: ${list(specs.keys())})`);
      inputs.push(t);
    }
  }
  return { inputs, outputNames: outputNamesOf(version, request) };
}

function inModelOrder(specs: readonly { readonly name: string }[], given: readonly Tensor[]): boolean {
  if (specs.length !== given.length) return false;
  for (let i = 0; i < given.length; i++) if (specs[i]!.name !== given[i]!.name) return false;
  return true;
}

function checkInput(version: ModelVersion, t: Tensor): void {
  const specs = version.inputsByName;
  const spec = specs.get(t.name);
  if (!spec) throw invalid(`unknown input '${t.name}' for model '${version.modelName}' (its inputs: ${list(specs.keys())})`);
  if (t.datatype !== spec.datatype) {
    throw invalid(`input '${t.name}': expected datatype ${spec.datatype}, got ${t.datatype}`);
  }
  if (!shapeMatches(spec.shape, t.shape)) {
    throw invalid(`input '${t.name}': expected shape ${formatShape(spec.shape)}, got ${formatShape(t.shape)}`);
  }
  const need = elementCount(t.shape);
  if (t.data.length !== need) {
    throw invalid(`input '${t.name}': shape ${formatShape(t.shape)} holds ${need} elements, but the data has ${t.data.length}`);
  }
}

function outputNamesOf(version: ModelVersion, request: InferenceRequest): string[] {
  let outputNames = version.allOutputNames as string[];
  if (request.outputs && request.outputs.length > 0) {
    outputNames = [];
    for (const o of request.outputs) {
      if (!version.outputsByName.has(o.name)) {
        throw invalid(`unknown output '${o.name}' requested from model '${version.modelName}' (its outputs: ${list(version.outputsByName.keys())})`);
      }
      if (outputNames.includes(o.name)) throw invalid(`output '${o.name}' is requested more than once`);
      outputNames.push(o.name);
    }
  }
  return outputNames;
}
