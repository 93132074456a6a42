/**
 * A model written in JavaScript or TypeScript (model-contract.ts) as a ModelRuntime: what `load` returns is checked
 * once (every declaration named, typed and shaped, a predict function), and each run converts between the data
 * plane's tensors and the model's named tensors or records. Whatever the module throws fails that run with its
 * message (the batcher then reruns the batch's requests one by one, so only the request that caused it fails).
 */
import { dirname, basename, join } from 'node:path';
import { FerryError, internal, messageOf, type ErrorCode } from '../../errors.js';
import { isDatatype } from '../../tensor/datatypes.js';
import type { Tensor, TensorSpec } from '../../tensor/tensor.js';
import type { ModelRuntime } from '../runtime.js';
import { importModelModule } from './module-import.js';
import type { FerryModel, LoadModel, ModelContext, OnnxModel, RecordModel, TensorModel } from './model-contract.js';
import { recordsOf, tensorsOfRecords, toTensor } from './module-tensors.js';

export const MODULE_PLATFORM = 'ferry_module';

export interface ModuleLoadOptions {
  readonly parameters?: Readonly<Record<string, string>>;
  /** Loads an ONNX file for the module (context.loadOnnx): the ONNX runtime, given by the caller to keep this file free of it. */
  readonly loadOnnx: (file: string) => Promise<ModelRuntime>;
}

/** Loads `file` (model.mjs / .js / .ts). Throws with what is wrong with the module, as a bad ONNX file does. */
export async function loadModuleModel(file: string, options: ModuleLoadOptions): Promise<{ runtime: ModelRuntime; notes: string[]; warnings: string[] }> {
  let loaded: Record<string, unknown>;
  try {
    loaded = await importModelModule(file);
  } catch (e) {
    throw new Error(`cannot import ${file}: ${messageOf(e)}`);
  }
  const load = (loaded.load ?? (loaded.default as { load?: unknown } | undefined)?.load) as LoadModel | undefined;
  if (typeof load !== 'function') throw new Error(`${basename(file)} exports no load function (export async function load(context) { return { inputs, outputs, predict } })`);
  const dir = dirname(file);
  const onnx: ModelRuntime[] = [];
  const context: ModelContext = {
    dir,
    name: basename(dirname(dir)),
    version: Number(basename(dir)) || 1,
    parameters: options.parameters ?? {},
    loadOnnx: async (name = 'model.onnx') => {
      const runtime = await options.loadOnnx(join(dir, name));
      onnx.push(runtime);
      return onnxModelOf(runtime);
    },
  };
  let model: FerryModel;
  try {
    model = await load(context);
    checkModel(model);
  } catch (e) {
    await Promise.all(onnx.map((r) => r.release()));
    throw new Error(`${basename(file)}: load() failed: ${messageOf(e)}`);
  }
  return { runtime: new ModuleRuntime(model, onnx), notes: [`a ${'predictRecords' in model ? 'record' : 'tensor'} model from ${basename(file)}`], warnings: [] };
}

class ModuleRuntime implements ModelRuntime {
  readonly platform = MODULE_PLATFORM;
  /** One run at a time, as an ONNX session on one thread: more instances take execution: thread or process. */
  readonly concurrency = 1;
  readonly placement = 'main';
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  readonly labels: ReadonlyMap<string, readonly (string | number)[]>;
  private readonly outputsByName: ReadonlyMap<string, TensorSpec>;

  constructor(
    private readonly model: FerryModel,
    private readonly onnx: readonly ModelRuntime[],
  ) {
    this.inputs = model.inputs.map((d) => ({ name: d.name, datatype: d.datatype, shape: [...d.shape] }));
    this.outputs = model.outputs.map((d) => ({ name: d.name, datatype: d.datatype, shape: [...d.shape] }));
    this.outputsByName = new Map(this.outputs.map((s) => [s.name, s]));
    this.labels = new Map(Object.entries(model.labels ?? {}));
  }

  async run(inputs: readonly Tensor[], outputNames: readonly string[]): Promise<Tensor[]> {
    const rows = inputs[0]?.shape[0] ?? 1;
    try {
      if ('predictRecords' in this.model) return await this.runRecords(this.model, inputs, outputNames, rows);
      return await this.runTensors(this.model, inputs, outputNames);
    } catch (e) {
      throw asServed(e);
    }
  }

  private async runTensors(model: TensorModel, inputs: readonly Tensor[], outputNames: readonly string[]): Promise<Tensor[]> {
    const named: Record<string, Tensor> = {};
    for (const t of inputs) named[t.name] = t;
    const answer = await model.predict(named, outputNames);
    if (answer === null || typeof answer !== 'object') throw internal(`predict() returned ${answer === null ? 'null' : typeof answer}, expected an object with a tensor per output`);
    return outputNames.map((name) => {
      const value = answer[name];
      if (value === undefined) throw internal(`predict() returned no output '${name}' (it returned ${Object.keys(answer).map((k) => `'${k}'`).join(', ') || 'none'})`);
      return toTensor(value, this.outputsByName.get(name)!, inputs[0]?.shape[0]);
    });
  }

  private async runRecords(model: RecordModel, inputs: readonly Tensor[], outputNames: readonly string[], rows: number): Promise<Tensor[]> {
    const answer = await model.predictRecords(recordsOf(inputs, rows));
    if (!Array.isArray(answer)) throw internal(`predictRecords() returned ${typeof answer}, expected an array of ${rows} records`);
    if (answer.length !== rows) throw internal(`predictRecords() returned ${answer.length} records for ${rows}`);
    return tensorsOfRecords(answer, outputNames.map((n) => this.outputsByName.get(n)!));
  }

  async release(): Promise<void> {
    try {
      await this.model.release?.();
    } finally {
      await Promise.all(this.onnx.map((r) => r.release()));
    }
  }
}

const ERROR_CODES: ReadonlySet<string> = new Set<ErrorCode>(['INVALID_ARGUMENT', 'NOT_FOUND', 'FAILED_PRECONDITION', 'RESOURCE_EXHAUSTED', 'UNAVAILABLE', 'INTERNAL']);

/**
 * What a module threw, as the client will see it: a 500 with its message, unless the error says it is the client's
 * (`code: 'INVALID_ARGUMENT'` or `status: 400` on the error object), so a model can refuse a bad record properly.
 */
function asServed(e: unknown): FerryError {
  if (e instanceof FerryError) return e;
  const { code, status } = (e ?? {}) as { code?: unknown; status?: unknown };
  if (typeof code === 'string' && ERROR_CODES.has(code)) return new FerryError(code as ErrorCode, messageOf(e));
  if (status === 400) return new FerryError('INVALID_ARGUMENT', messageOf(e));
  return internal(`the model failed: ${messageOf(e)}`);
}

/** Checks what load() returned, naming the first thing wrong. */
function checkModel(model: FerryModel): void {
  if (model === null || typeof model !== 'object') throw new Error(`load() must return a model object, got ${model === null ? 'null' : typeof model}`);
  const m = model as unknown as Record<string, unknown>;
  if (typeof m.predict !== 'function' && typeof m.predictRecords !== 'function') throw new Error('the model has neither predict(inputs) nor predictRecords(records)');
  for (const role of ['inputs', 'outputs'] as const) {
    const list = m[role];
    if (!Array.isArray(list) || list.length === 0) throw new Error(`the model's '${role}' must be a non-empty array of { name, datatype, shape }`);
    const seen = new Set<string>();
    list.forEach((d: unknown, i) => {
      const { name, datatype, shape } = (d ?? {}) as Record<string, unknown>;
      const at = `${role}[${i}]`;
      if (typeof name !== 'string' || name === '') throw new Error(`${at}.name must be a non-empty string`);
      if (seen.has(name)) throw new Error(`${at}: '${name}' is declared twice`);
      seen.add(name);
      if (!isDatatype(datatype)) throw new Error(`${at} ('${name}').datatype must be a V2 datatype (FP32, INT64, BYTES, ...), got ${JSON.stringify(datatype)}`);
      if (!Array.isArray(shape) || shape.length === 0 || !shape.every((x) => Number.isInteger(x) && x >= -1)) {
        throw new Error(`${at} ('${name}').shape must be an array of sizes (-1 for any), the first the batch: e.g. [-1, 4]`);
      }
    });
  }
}

/** An ONNX runtime as a JavaScript model sees it: named tensors in and out. */
function onnxModelOf(runtime: ModelRuntime): OnnxModel {
  return {
    inputs: runtime.inputs.map((s) => ({ name: s.name, datatype: s.datatype, shape: s.shape ?? [-1] })),
    outputs: runtime.outputs.map((s) => ({ name: s.name, datatype: s.datatype, shape: s.shape ?? [-1] })),
    async run(inputs, outputNames) {
      const names = outputNames ?? runtime.outputs.map((s) => s.name);
      const tensors = runtime.inputs.map((s) => {
        const t = inputs[s.name];
        if (!t) throw internal(`loadOnnx model: input '${s.name}' is missing`);
        return { name: s.name, datatype: t.datatype, shape: t.shape, data: t.data };
      });
      const out = await runtime.run(tensors, names);
      const named: Record<string, Tensor> = {};
      for (const t of out) named[t.name] = t;
      return named;
    },
  };
}
