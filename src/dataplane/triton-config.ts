/**
 * Triton's model configuration extension: a loaded version's effective configuration (what its config.yaml says and
 * what ferry decided where it says nothing: max_batch_size, the inputs and outputs it serves, the batching in force,
 * the instances) in the shape of Triton's ModelConfig, so tools that read it (perf_analyzer, Model Analyzer,
 * Triton's clients) work. Its JSON is the REST answer; the same object, encoded with Triton's field numbers, is gRPC
 * ModelConfig's. Inputs are what clients send (a model's features, for one with features).
 */
import type { ModelVersion } from '../registry/model-version.js';
import { DEFAULT_VERSION_POLICY } from '../config/model-config.js';
import type { TensorSpec } from '../tensor/tensor.js';
import { basename } from 'node:path';

export interface TritonTensorConfig {
  readonly name: string;
  readonly data_type: string;
  readonly dims: readonly number[];
}

export interface TritonModelConfig {
  readonly name: string;
  readonly platform: string;
  readonly backend: string;
  readonly version_policy: Readonly<Record<string, unknown>>;
  readonly max_batch_size: number;
  readonly input: readonly TritonTensorConfig[];
  readonly output: readonly TritonTensorConfig[];
  readonly instance_group: readonly { readonly name: string; readonly kind: string; readonly count: number }[];
  readonly default_model_filename: string;
  readonly dynamic_batching?: {
    readonly preferred_batch_size: readonly number[];
    readonly max_queue_delay_microseconds: number;
    readonly default_queue_policy: { readonly max_queue_size: number };
  };
  readonly parameters: Readonly<Record<string, { readonly string_value: string }>>;
}

/** Triton's names for V2 datatypes (TYPE_STRING for BYTES). */
function dataType(datatype: string): string {
  return datatype === 'BYTES' ? 'TYPE_STRING' : `TYPE_${datatype}`;
}

/** dims as Triton writes them: past the batch dimension when the model batches, -1 for a size left open. */
function tensors(specs: readonly TensorSpec[], batching: boolean): TritonTensorConfig[] {
  return specs.map((s) => {
    const shape = s.shape ?? [-1];
    return { name: s.name, data_type: dataType(s.datatype), dims: batching ? shape.slice(1) : [...shape] };
  });
}

export function tritonConfig(v: ModelVersion): TritonModelConfig {
  const config = v.config;
  const runtime = v.runtime;
  const o = v.batcher.options;
  const maxBatchSize = o.batching ? o.maxBatchSize : 0;
  const group = config.instance_group?.[0];
  const onnx = runtime.platform === 'onnxruntime_onnx';
  const parameters: Record<string, { string_value: string }> = {};
  for (const [k, value] of Object.entries(config.parameters ?? {})) parameters[k] = { string_value: value };
  return {
    name: v.modelName,
    platform: runtime.platform,
    backend: onnx ? 'onnxruntime' : runtime.platform,
    version_policy: config.version_policy ?? DEFAULT_VERSION_POLICY,
    max_batch_size: maxBatchSize,
    input: tensors(v.inputs, maxBatchSize > 0),
    output: tensors(runtime.outputs, maxBatchSize > 0),
    instance_group: [{ name: `${v.modelName}_0`, kind: group?.kind === 'KIND_GPU' ? 'KIND_GPU' : 'KIND_CPU', count: runtime.concurrency }],
    default_model_filename: config.default_model_filename ?? basename(v.file),
    ...(maxBatchSize > 0
      ? {
          dynamic_batching: {
            preferred_batch_size: [...o.preferredBatchSizes],
            max_queue_delay_microseconds: Math.round(o.maxQueueDelayMs * 1000),
            default_queue_policy: { max_queue_size: o.maxQueueSize },
          },
        }
      : {}),
    parameters,
  };
}
