/**
 * The model config schema (zod). Kept apart from model-config.ts and loaded only when a model has a config file:
 * zod and the YAML parser cost about 80 ms of start-up that a repository without configs should not pay.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { variantName, type ModelConfig } from './model-config.js';
import { DriftSchema, FeaturesSchema, PipelineSchema, PostprocessSchema } from './feature-config-schema.js';

const positiveInt = z.number().int().positive();

const VersionPolicySchema = z.union([
  z.strictObject({ latest: z.strictObject({ num_versions: positiveInt }) }),
  z.strictObject({ all: z.strictObject({}) }),
  z.strictObject({ specific: z.strictObject({ versions: z.array(positiveInt).min(1) }) }),
]);

const nonNegativeInt = z.number().int().nonnegative();

/** Triton's dynamic_batching block. Batching is on for any model whose inputs and outputs have a dynamic first dimension. */
const DynamicBatchingSchema = z.strictObject({
  /** How long the first request of a batch may wait for others; 0 = only what arrived while the model was busy. */
  max_queue_delay_microseconds: nonNegativeInt.optional(),
  /** Batch sizes to flush at as soon as they are reached (the largest one caps a batch when below max_batch_size). */
  preferred_batch_size: z.array(positiveInt).optional(),
  /** Requests waiting beyond this are refused at once (429 / RESOURCE_EXHAUSTED); 0 = no limit. */
  max_queue_size: nonNegativeInt.optional(),
});

/** Per-input settings (Triton's `input` list, with ferry's additions for variable-length batching). */
const InputConfigSchema = z.strictObject({
  name: z.string().min(1),
  /**
   * Pad value: requests whose shapes differ only in this input's non-batch dimensions are batched together,
   * each padded with this value to the longest in the batch.
   */
  pad_value: z.union([z.number(), z.string(), z.boolean()]).optional(),
  /**
   * This input is filled in by the server with each row's true length (INT64 [N]) along `axis` (default 1) of
   * the named padded input; clients do not send it.
   */
  lengths_of: z.string().min(1).optional(),
  axis: positiveInt.optional(),
});

const InstanceGroupSchema = z.strictObject({
  count: positiveInt.optional(),
  /** Triton's kinds; KIND_GPU asks for the CUDA execution provider. */
  kind: z.enum(['KIND_CPU', 'KIND_GPU', 'KIND_AUTO']).optional(),
});

/** onnxruntime session options. */
const SessionSchema = z.strictObject({
  graph_optimization_level: z.enum(['disabled', 'basic', 'extended', 'all']).optional(),
  intra_op_num_threads: nonNegativeInt.optional(),
  inter_op_num_threads: nonNegativeInt.optional(),
  execution_mode: z.enum(['sequential', 'parallel']).optional(),
  /**
   * Whether onnxruntime's pool threads spin while waiting for work. Unset: they spin for at most spin_duration_us
   * after each piece of work, then sleep; true: onnxruntime's own spinning (unbounded unless spin_duration_us says);
   * false: they never spin.
   */
  allow_spinning: z.boolean().optional(),
  /** The longest an idle pool thread spins before it sleeps, in microseconds (default 100). */
  spin_duration_us: nonNegativeInt.optional(),
  /** In order of preference; a provider that cannot start here is skipped with a log line (CPU always works). */
  execution_providers: z.array(z.enum(['cuda', 'tensorrt', 'webgpu', 'cpu'])).min(1).optional(),
});

const VariantNameSchema = z.string().min(1).regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits and _ . : - only');

/** One way a request without a version may be answered: a version of this model, or another model (its default version). */
const VariantSchema = z
  .strictObject({
    version: positiveInt.optional(),
    model: z.string().min(1).optional(),
    weight: z.number().nonnegative(),
    /** Said in X-Ferry-Variant and the metrics; default `v<version>` or the model's name. */
    name: VariantNameSchema.optional(),
  })
  .refine((v) => (v.version === undefined) !== (v.model === undefined), { message: 'a variant names either a version or a model, not both and not neither' });

/** A variant that gets a copy of each request; its answer is recorded for the experiment, never returned. */
const ShadowSchema = z
  .strictObject({ version: positiveInt.optional(), model: z.string().min(1).optional(), name: VariantNameSchema.optional() })
  .refine((v) => (v.version === undefined) !== (v.model === undefined), { message: 'a shadow names either a version or a model, not both and not neither' });

/** What the application reports back per prediction (POST /v2/models/NAME/feedback), and how variants are compared. */
const OutcomeSchema = z.strictObject({
  /** classification: the true label; regression: the true value; reward: a number the answer earned (higher is better). */
  type: z.enum(['classification', 'regression', 'reward']),
  /**
   * Classification: the class labels in the order of the model's probability columns, so a label output or a truth
   * given as text maps to a column (for log loss). Without it, labels are the column indexes 0, 1, ...
   */
  labels: z.array(z.union([z.string(), z.number().int()])).min(2).optional(),
  /**
   * The smallest difference worth finding (accuracy: 0.02 = 2 points; regression: in the target's unit; reward: in
   * its unit). It tunes the sequential test and sets the sample size the results say is still needed. Default: 0.02
   * for classification; for the others, a tenth of the control's standard deviation once known.
   */
  minimum_effect: z.number().positive().optional(),
});

/** How requests without a version are split between variants (the first is the control). */
const TrafficSchema = z
  .strictObject({
    variants: z.array(VariantSchema).min(1),
    /** The same key always gets the same variant: a request parameter, or a header (the first one present). */
    sticky: z
      .strictObject({ parameter: z.string().min(1).optional(), header: z.string().min(1).optional() })
      .refine((s) => s.parameter !== undefined || s.header !== undefined, { message: 'sticky needs a parameter or a header' })
      .optional(),
    shadow: z.array(ShadowSchema).optional(),
    outcome: OutcomeSchema.optional(),
    /**
     * When a candidate answers, the control also runs a copy (recorded, never returned), so their agreement on the
     * same requests is known before any outcome arrives. Dropped first under load, as shadows are. Default true.
     */
    compare: z.boolean().optional(),
    /** fixed: the weights as written; thompson: weights follow the feedback (Thompson sampling), from the written ones. */
    allocation: z.enum(['fixed', 'thompson']).optional(),
    /** thompson: the least share any variant keeps, so none starves (default 0.05). */
    allocation_floor: z.number().min(0).max(0.5).optional(),
  })
  .superRefine((t, ctx) => {
    if (!t.variants.some((v) => v.weight > 0)) ctx.addIssue({ code: 'custom', path: ['variants'], message: 'the weights must add up to more than 0' });
    const names = [...t.variants, ...(t.shadow ?? [])].map(variantName);
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice !== undefined) ctx.addIssue({ code: 'custom', path: ['variants'], message: `two variants are named '${twice}' (give one a name)` });
    if (t.allocation === 'thompson' && !t.outcome) ctx.addIssue({ code: 'custom', path: ['allocation'], message: 'thompson allocation learns from feedback: it needs an outcome (outcome: {type: ...})' });
    if (t.allocation_floor !== undefined && t.allocation_floor * t.variants.length > 1) {
      ctx.addIssue({ code: 'custom', path: ['allocation_floor'], message: `a floor of ${t.allocation_floor} for ${t.variants.length} variants adds up to more than 1` });
    }
  });

export const ModelConfigSchema = z.strictObject({
  /** Must equal the folder name when given (Triton's rule), so a copied config cannot rename a model by accident. */
  name: z.string().min(1).optional(),
  platform: z.enum(['onnxruntime_onnx']).optional(),
  backend: z.enum(['onnxruntime']).optional(),
  /** File inside each version folder; Triton's name for it. */
  default_model_filename: z.string().min(1).regex(/^[^/\\]+$/, 'a file name without folders').optional(),
  /** Which versions are served; Triton's default is the latest one. */
  version_policy: VersionPolicySchema.optional(),
  /** Free-form strings, shown back to users; not interpreted. */
  parameters: z.record(z.string(), z.string()).optional(),
  /** Largest batch (rows) the batcher builds; 0 turns batching off (Triton: the model does not batch). */
  max_batch_size: nonNegativeInt.optional(),
  dynamic_batching: DynamicBatchingSchema.optional(),
  input: z.array(InputConfigSchema).optional(),
  /** How many copies of the model run at once (Triton's instance_group); each has its own session. */
  instance_group: z.array(InstanceGroupSchema).max(1, 'one instance group is supported').optional(),
  /**
   * Where inference runs: `main` (the thread that parsed the request: no hop, best for cheap models), `thread`
   * (worker threads: a heavy model never stalls the others), `process` (child processes: a crash or a kill
   * costs only the requests on that instance). `auto` measures a run at load and picks main or thread.
   */
  execution: z.enum(['auto', 'main', 'thread', 'process']).optional(),
  /**
   * OS niceness (0-19) of the model's inference workers and of onnxruntime's threads in them. Raised by default so
   * a heavy model uses every core when it runs alone, yet yields them to the main thread's requests under mixed load.
   */
  worker_nice: z.number().int().min(0).max(19).optional(),
  session: SessionSchema.optional(),
  /**
   * Batch sizes run once on synthetic input before a version takes traffic. Default: one row at the server's start
   * (readiness stays quick), and every power of two up to max_batch_size for a version loaded later beside a serving
   * one (its first real batches then meet no first-run cost). [] runs only the one-row warm-up.
   */
  warmup_batch_sizes: z.array(positiveInt).optional(),
  /** Splits requests without a version between versions or models (A/B tests, canaries). Changing it reloads nothing. */
  traffic: TrafficSchema.optional(),
  /**
   * Records in: named features turned into the model's input tensors (missing values, scaling, encodings, tokens),
   * compiled once at load (features/). Clients then send the features, each an input of its own.
   */
  features: FeaturesSchema.optional(),
  /** Class labels, the argmax label, a threshold and top-k, from the model's probability output. */
  postprocess: PostprocessSchema.optional(),
  /** Per-feature drift against the `reference` distributions (and unseen categories, missing values). */
  drift: DriftSchema.optional(),
  /** A model that chains other models of the repository (Triton's ensemble); its version folders stay empty. */
  pipeline: PipelineSchema.optional(),
}).superRefine((c, ctx) => {
  if (c.features && c.input?.some((i) => i.lengths_of !== undefined)) {
    ctx.addIssue({ code: 'custom', path: ['features'], message: 'features and an input with lengths_of cannot be combined: a text feature pads its own tokens' });
  }
  if (c.pipeline && (c.execution !== undefined || c.instance_group !== undefined || c.session !== undefined)) {
    ctx.addIssue({ code: 'custom', path: ['pipeline'], message: 'a pipeline runs where its steps run: execution, instance_group and session belong in the steps\' own configs' });
  }
});

/** Formats schema issues as "key.path: message" lines a person can act on. */
function formatIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.join('.');
      if (issue.code === 'unrecognized_keys') {
        return `${path ? `${path}: ` : ''}unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
      }
      return `${path || '(top level)'}: ${issue.message}`;
    })
    .join('; ');
}

export function parseModelConfig(raw: unknown, source: string): ModelConfig {
  const result = ModelConfigSchema.safeParse(raw ?? {});
  if (!result.success) throw new Error(`invalid model config ${source}: ${formatIssues(result.error)}`);
  return Object.freeze(result.data);
}

/** Reads and validates a config file; YAML is a superset of JSON, but .json gets the stricter JSON parser. */
export async function readModelConfigFile(file: string): Promise<ModelConfig> {
  const text = await readFile(file, 'utf8');
  let raw: unknown;
  try {
    raw = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new Error(`cannot parse model config ${file}: ${(e as Error).message}`);
  }
  return parseModelConfig(raw, file);
}


export type VersionPolicySchemaType = z.infer<typeof VersionPolicySchema>;
export type SessionSchemaType = z.infer<typeof SessionSchema>;
export type InputConfigSchemaType = z.infer<typeof InputConfigSchema>;
export type ModelConfigSchemaType = z.infer<typeof ModelConfigSchema>;
export type TrafficSchemaType = z.infer<typeof TrafficSchema>;
