/**
 * The schema of a model's feature engineering (config.yaml's `features` and `postprocess`) and of a pipeline
 * (`pipeline`), checked with the rest of the config (model-config-schema.ts): an unknown key, a transform given to
 * the wrong kind of feature or two encodings on one feature is an error naming its path.
 */
import { z } from 'zod';

const finite = z.number().refine(Number.isFinite, 'a finite number');
const label = z.union([z.string(), z.number()]);

/** What a missing value (absent, null, NaN, or an empty string) becomes. */
const MissingSchema = z.union([
  z.literal('reject'),
  /** Categories and text: treated as a category never seen (so `unknown` decides). */
  z.literal('unknown'),
  z.strictObject({ default: label }),
  z.strictObject({ mean: finite }),
  z.strictObject({ median: finite }),
  z.strictObject({ most_frequent: label }),
]);

const UnknownSchema = z.enum(['error', 'ignore', 'bucket']);
const vocabulary = z.array(label).min(1).refine((v) => new Set(v.map(String)).size === v.length, 'each entry once');
const ascending = (v: readonly number[]) => v.every((x, i) => i === 0 || x > v[i - 1]!);

const FeatureSchema = z
  .strictObject({
    name: z.string().min(1),
    type: z.enum(['number', 'category', 'text']).optional(),
    /** The model input it fills (default: the model's first input). */
    into: z.string().min(1).optional(),
    missing: MissingSchema.optional(),
    clip: z.tuple([finite, finite]).refine(([a, b]) => a <= b, 'clip: [low, high] with low <= high').optional(),
    log: z.literal(true).optional(),
    log1p: z.literal(true).optional(),
    standard: z.strictObject({ mean: finite, scale: finite.refine((x) => x !== 0, 'scale must not be 0') }).optional(),
    min_max: z.strictObject({ min: finite, max: finite }).refine((m) => m.max > m.min, 'max must be above min').optional(),
    bucketize: z.strictObject({ edges: z.array(finite).min(1).refine(ascending, 'edges must ascend'), encode: z.enum(['ordinal', 'one_hot']).optional() }).optional(),
    one_hot: z.strictObject({ vocabulary, unknown: UnknownSchema.optional() }).optional(),
    ordinal: z.strictObject({ vocabulary, unknown: UnknownSchema.optional() }).optional(),
    tokens: z
      .strictObject({
        vocabulary,
        lowercase: z.boolean().optional(),
        /** A regular expression (JavaScript syntax) that matches one token; default \w+. */
        pattern: z.string().min(1).optional(),
        length: z.number().int().positive(),
        pad_id: z.number().int().nonnegative().optional(),
        /** Ids of tokens not in the vocabulary; without it they are dropped (as scikit-learn's CountVectorizer does). */
        unknown_id: z.number().int().nonnegative().optional(),
      })
      .optional(),
    /** The training distribution of a number (inner bin edges, each bin's share), for drift: the population stability index. */
    reference: z
      .strictObject({ edges: z.array(finite).min(1).refine(ascending, 'edges must ascend'), shares: z.array(z.number().nonnegative()).min(2) })
      .refine((r) => r.shares.length === r.edges.length + 1, 'shares: one per bin, len(edges) + 1')
      .optional(),
  })
  .superRefine((f, ctx) => {
    const type = f.type ?? 'number';
    const numberOnly = (['clip', 'log', 'log1p', 'standard', 'min_max', 'bucketize', 'reference'] as const).filter((k) => f[k] !== undefined);
    const categoryOnly = (['one_hot', 'ordinal'] as const).filter((k) => f[k] !== undefined);
    const say = (message: string) => ctx.addIssue({ code: 'custom', message });
    if (type !== 'number' && numberOnly.length > 0) say(`'${numberOnly[0]}' is for number features, and '${f.name}' is a ${type}`);
    if (type !== 'category' && categoryOnly.length > 0) say(`'${categoryOnly[0]}' is for category features, and '${f.name}' is a ${type}`);
    if (type !== 'text' && f.tokens) say(`'tokens' is for text features, and '${f.name}' is a ${type}`);
    if (type === 'category' && categoryOnly.length !== 1) say(`category feature '${f.name}' needs one encoding: one_hot or ordinal`);
    if (type === 'text' && !f.tokens) say(`text feature '${f.name}' needs tokens: {vocabulary, length}`);
    const scalings = (['standard', 'min_max', 'bucketize'] as const).filter((k) => f[k] !== undefined);
    if (scalings.length > 1) say(`'${f.name}' has ${scalings.join(' and ')}: one at most`);
    if (f.log && f.log1p) say(`'${f.name}' has log and log1p: one at most`);
    if (f.missing === 'unknown' && type === 'number') say(`missing: unknown is for categories and text; give number feature '${f.name}' {default|mean|median: value} or reject`);
    if (type !== 'number' && f.missing && typeof f.missing === 'object' && ('mean' in f.missing || 'median' in f.missing)) say(`'${f.name}' is a ${type}: its missing value is {default: value} or {most_frequent: value}`);
  });

const PostprocessSchema = z.strictObject({
  /** The model output holding class scores, [-1, K] (default: the model's first output). */
  output: z.string().min(1).optional(),
  /** The label of each column (default: the labels the model carries, else 0..K-1). */
  labels: z.array(label).min(2).optional(),
  /** Binary classifiers: the second label when its score is at least this, else the first. */
  threshold: z.number().min(0).max(1).optional(),
  /** Also answer the k best labels and their scores (top_labels, top_probabilities). */
  top_k: z.number().int().positive().optional(),
});

const StepSchema = z.strictObject({
  /** A model of the repository; its default version unless `version` says. */
  model: z.string().min(1),
  version: z.number().int().positive().optional(),
  /** The step's input name -> the pipeline tensor that feeds it (default: the tensor of the same name). */
  inputs: z.record(z.string(), z.string()).optional(),
  /** The step's output name -> the pipeline tensor it becomes (default: the same name). */
  outputs: z.record(z.string(), z.string()).optional(),
});

export const PipelineSchema = z.strictObject({
  steps: z.array(StepSchema).min(1),
  /** The pipeline tensors answered (default: the last step's outputs). */
  outputs: z.array(z.string().min(1)).min(1).optional(),
});

export const FeaturesSchema = z.array(FeatureSchema).min(1).superRefine((list, ctx) => {
  const names = list.map((f) => f.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) ctx.addIssue({ code: 'custom', message: `two features are named '${twice}'` });
});
export { PostprocessSchema };

/** Live per-feature distributions for drift (Prometheus metrics). */
export const DriftSchema = z.strictObject({
  /** Rows kept per feature (a sliding window of the latest requests; default 10000). 0 turns drift off. */
  window: z.number().int().nonnegative().optional(),
});

export type FeatureConfig = z.infer<typeof FeatureSchema>;
export type PostprocessConfig = z.infer<typeof PostprocessSchema>;
export type PipelineConfig = z.infer<typeof PipelineSchema>;
export type MissingPolicy = z.infer<typeof MissingSchema>;
