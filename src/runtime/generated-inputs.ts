/**
 * Inputs the server fills in (config `input[].lengths_of`): a model that takes a padded sequence and each row's true
 * length gets the length computed from the request as sent, before the batcher pads it to the longest of the batch.
 * A wrapper chosen at load, so the batcher only batches and every door shares it.
 */
import type { InputConfig } from '../config/model-config.js';
import type { Tensor, TensorSpec } from '../tensor/tensor.js';
import type { ModelRuntime } from './runtime.js';

interface Generated {
  /** The input filled in (INT64 [N]). */
  readonly name: string;
  /** The padded input whose true length along `axis` it carries. */
  readonly of: string;
  readonly axis: number;
}

/** The model with its generated inputs filled in, or the model itself when the config generates none. */
export function withGeneratedInputs(model: ModelRuntime, config: readonly InputConfig[] | undefined): ModelRuntime {
  const byName = new Map(model.inputs.map((s) => [s.name, s]));
  const names = () => model.inputs.map((s) => `'${s.name}'`).join(', ');
  const generated: Generated[] = [];
  for (const c of config ?? []) {
    if (c.lengths_of === undefined) continue;
    const spec = byName.get(c.name);
    if (!spec) throw new Error(`config input '${c.name}' is not an input of the model (its inputs: ${names()})`);
    const of = byName.get(c.lengths_of);
    if (!of) throw new Error(`config input '${c.name}': lengths_of '${c.lengths_of}' is not an input of the model (its inputs: ${names()})`);
    if (spec.datatype !== 'INT64') throw new Error(`config input '${c.name}': a lengths input must be INT64, the model has ${spec.datatype}`);
    const axis = c.axis ?? 1;
    if (of.shape && axis >= of.shape.length) throw new Error(`config input '${c.name}': axis ${axis} is past the last dimension of '${c.lengths_of}'`);
    generated.push({ name: c.name, of: c.lengths_of, axis });
  }
  return generated.length === 0 ? model : new GeneratedInputsRuntime(model, generated);
}

class GeneratedInputsRuntime implements ModelRuntime {
  readonly inputs: readonly TensorSpec[];
  readonly runInputs: readonly TensorSpec[];
  private readonly order: readonly string[];

  constructor(
    private readonly model: ModelRuntime,
    private readonly generated: readonly Generated[],
  ) {
    const names = new Set(generated.map((g) => g.name));
    this.inputs = model.inputs.filter((s) => !names.has(s.name));
    this.runInputs = model.inputs;
    this.order = model.inputs.map((s) => s.name);
  }

  get platform() { return this.model.platform; }
  get outputs() { return this.model.outputs; }
  get concurrency() { return this.model.concurrency; }
  get placement() { return this.model.placement; }
  get labels() { return this.model.labels; }
  get warmUp() { return this.model.warmUp; }

  prepare(inputs: readonly Tensor[]): Tensor[] {
    const byName = new Map(inputs.map((t) => [t.name, t]));
    for (const g of this.generated) {
      const of = byName.get(g.of)!;
      const rows = of.shape[0]!;
      byName.set(g.name, { name: g.name, datatype: 'INT64', shape: [rows], data: new BigInt64Array(rows).fill(BigInt(of.shape[g.axis] ?? 0)) });
    }
    return this.order.map((n) => byName.get(n)!);
  }

  run(inputs: readonly Tensor[], outputNames: readonly string[]): Promise<Tensor[]> {
    return this.model.run(inputs, outputNames);
  }

  release(): Promise<void> {
    return this.model.release();
  }
}
