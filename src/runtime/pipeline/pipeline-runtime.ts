/**
 * A pipeline (Triton's ensemble): a model whose config chains other models of the repository, run server-side in one
 * request. Each step is an ordinary call of the data plane, so it is checked, batched with every other request to
 * that model (from the pipeline or not), placed and counted as that model is, and follows its hot reloads. Steps
 * start as soon as the tensors they take exist, so independent branches run at once.
 *
 * The pipeline's inputs are the tensors its steps take that no step makes; its outputs are named in the config or
 * are the last step's. Their types and shapes are the step models', read once those are ready: a pipeline loads
 * after its steps (it waits for them, up to STEP_WAIT_MS).
 */
import { FerryError, isFerryError, messageOf } from '../../errors.js';
import type { PipelineConfig } from '../../config/feature-config-schema.js';
import type { Tensor, TensorSpec } from '../../tensor/tensor.js';
import type { ModelRuntime } from '../runtime.js';

/** What a pipeline needs of the server: its models' inputs and outputs, and calls into them. */
export interface ModelCalls {
  /** A model's inputs and outputs once it is ready; 'loading' while it may still become so; a problem otherwise. */
  describe(model: string, version: number | undefined): { inputs: readonly TensorSpec[]; outputs: readonly TensorSpec[] } | 'loading' | { problem: string };
  infer(model: string, version: number | undefined, inputs: readonly Tensor[], outputNames: readonly string[]): Promise<readonly Tensor[]>;
}

export const PIPELINE_PLATFORM = 'pipeline';
/** How long a pipeline waits for its steps' models to be ready (they load at the same time at start). */
export const STEP_WAIT_MS = 60_000;
/** Requests a pipeline runs at once: its steps queue and batch them, so it holds none back itself. */
const CONCURRENCY = 1024;

interface Step {
  readonly model: string;
  readonly version: number | undefined;
  /** [the step model's input, the pipeline tensor feeding it] */
  readonly feeds: readonly (readonly [string, string])[];
  /** [the step model's output, the pipeline tensor it becomes] */
  readonly makes: readonly (readonly [string, string])[];
  readonly what: string;
}

export async function loadPipeline(config: PipelineConfig, name: string | undefined, models: ModelCalls, waitMs = STEP_WAIT_MS): Promise<{ runtime: ModelRuntime; notes: string[]; warnings: string[] }> {
  const described = await Promise.all(config.steps.map((s, i) => {
    if (s.model === name) throw new Error(`pipeline.steps[${i}] names the pipeline itself`);
    return waitFor(models, s.model, s.version, `pipeline.steps[${i}] (model '${s.model}')`, waitMs);
  }));
  const produced = new Map<string, TensorSpec>();
  const inputs = new Map<string, TensorSpec>();
  const steps: Step[] = config.steps.map((s, i) => {
    const what = `pipeline.steps[${i}] (model '${s.model}')`;
    const d = described[i]!;
    checkNames(s.inputs, d.inputs, `${what}.inputs`, 'input');
    checkNames(s.outputs, d.outputs, `${what}.outputs`, 'output');
    const feeds = d.inputs.map((spec) => {
      const source = s.inputs?.[spec.name] ?? spec.name;
      const made = produced.get(source);
      if (made) {
        if (made.datatype !== spec.datatype) throw new Error(`${what}: input '${spec.name}' is ${spec.datatype}, and tensor '${source}' of an earlier step is ${made.datatype}`);
      } else {
        const seen = inputs.get(source);
        if (seen && seen.datatype !== spec.datatype) throw new Error(`${what}: input '${spec.name}' is ${spec.datatype}, and another step takes pipeline input '${source}' as ${seen.datatype}`);
        if (!seen) inputs.set(source, { ...spec, name: source });
      }
      return [spec.name, source] as const;
    });
    const makes = d.outputs.map((spec) => {
      const target = s.outputs?.[spec.name] ?? spec.name;
      if (produced.has(target) || inputs.has(target)) throw new Error(`${what}: output '${spec.name}' would make tensor '${target}', which exists already (rename it with outputs: {${spec.name}: another_name})`);
      produced.set(target, { ...spec, name: target });
      return [spec.name, target] as const;
    });
    return { model: s.model, version: s.version, feeds, makes, what };
  });
  const outputNames = config.outputs ?? steps.at(-1)!.makes.map(([, t]) => t);
  const outputs = outputNames.map((n) => {
    const spec = produced.get(n);
    if (!spec) throw new Error(`pipeline.outputs: no step makes tensor '${n}' (made: ${[...produced.keys()].map((k) => `'${k}'`).join(', ')})`);
    return spec;
  });
  const runtime = new PipelineRuntime([...inputs.values()], outputs, steps, models);
  return { runtime, notes: [`a pipeline of ${steps.length} step${steps.length === 1 ? '' : 's'}: ${steps.map((s) => s.model).join(' -> ')}`], warnings: [] };
}

async function waitFor(models: ModelCalls, model: string, version: number | undefined, what: string, waitMs: number) {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const d = models.describe(model, version);
    if (d === 'loading') {
      if (Date.now() >= deadline) throw new Error(`${what} is not ready after ${Math.round(waitMs / 1000)} s (is it in the repository, and loaded?)`);
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    if ('problem' in d) throw new Error(`${what}: ${d.problem}`);
    return d;
  }
}

function checkNames(map: Readonly<Record<string, string>> | undefined, specs: readonly TensorSpec[], what: string, role: string): void {
  for (const key of Object.keys(map ?? {})) {
    if (!specs.some((s) => s.name === key)) throw new Error(`${what}: '${key}' is not an ${role} of the model (its ${role}s: ${specs.map((s) => `'${s.name}'`).join(', ')})`);
  }
}

class PipelineRuntime implements ModelRuntime {
  readonly platform = PIPELINE_PLATFORM;
  readonly concurrency = CONCURRENCY;
  readonly placement = 'main';
  readonly labels = new Map<string, readonly (string | number)[]>();
  readonly defaultMaxBatchSize = 0;
  /** Its steps' models warm themselves up; a synthetic request would reach them, their metrics and drift. */
  readonly warmUp = false;

  constructor(
    readonly inputs: readonly TensorSpec[],
    readonly outputs: readonly TensorSpec[],
    private readonly steps: readonly Step[],
    private readonly models: ModelCalls,
  ) {}

  async run(inputs: readonly Tensor[], outputNames: readonly string[]): Promise<Tensor[]> {
    const tensors = new Map<string, Promise<Tensor>>();
    for (const t of inputs) tensors.set(t.name, Promise.resolve(t));
    const settle = new Map<string, { resolve: (t: Tensor) => void; reject: (e: unknown) => void }>();
    for (const step of this.steps) {
      for (const [, target] of step.makes) {
        const p = new Promise<Tensor>((resolve, reject) => settle.set(target, { resolve, reject }));
        p.catch(() => undefined); // a step's failure is reported once, by whoever awaits it first
        tensors.set(target, p);
      }
    }
    const runs = this.steps.map(async (step) => {
      try {
        const fed = await Promise.all(step.feeds.map(async ([name, source]) => ({ ...(await tensors.get(source)!), name })));
        const out = await this.models.infer(step.model, step.version, fed, step.makes.map(([name]) => name));
        step.makes.forEach(([, target], i) => settle.get(target)!.resolve({ ...out[i]!, name: target }));
      } catch (e) {
        const error = stepError(step, e);
        for (const [, target] of step.makes) settle.get(target)!.reject(error);
        throw error;
      }
    });
    runs.forEach((r) => r.catch(() => undefined));
    return Promise.all(outputNames.map((n) => tensors.get(n)!));
  }

  async release(): Promise<void> {}
}

/** A step's failure, its code kept (a client's mistake stays one), its message saying which step. */
function stepError(step: Step, e: unknown): FerryError {
  const message = messageOf(e);
  if (message.startsWith('pipeline.steps[')) return e as FerryError;
  return new FerryError(isFerryError(e) ? e.code : 'INTERNAL', `${step.what}: ${message}`);
}
