/**
 * Per-model configuration: NAME/config.yaml (or config.json) in the model repository.
 * Validated once at load against one strict schema; an unknown key is an error that names it, because a typo
 * silently ignored (say `version_polcy`) is worse than a model that refuses to load and says why.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const positiveInt = z.number().int().positive();

const VersionPolicySchema = z.union([
  z.strictObject({ latest: z.strictObject({ num_versions: positiveInt }) }),
  z.strictObject({ all: z.strictObject({}) }),
  z.strictObject({ specific: z.strictObject({ versions: z.array(positiveInt).min(1) }) }),
]);

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
});

export type VersionPolicy = z.infer<typeof VersionPolicySchema>;
export type ModelConfig = Readonly<z.infer<typeof ModelConfigSchema>>;

export const DEFAULT_MODEL_FILENAME = 'model.onnx';
export const DEFAULT_VERSION_POLICY: VersionPolicy = { latest: { num_versions: 1 } };

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
export async function readModelConfig(file: string): Promise<ModelConfig> {
  const text = await readFile(file, 'utf8');
  let raw: unknown;
  try {
    raw = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new Error(`cannot parse model config ${file}: ${(e as Error).message}`);
  }
  return parseModelConfig(raw, file);
}

/** The versions a policy serves, out of those present on disk (ascending). */
export function selectVersions(policy: VersionPolicy, onDisk: readonly number[]): number[] {
  const sorted = [...onDisk].sort((a, b) => a - b);
  if ('all' in policy) return sorted;
  if ('latest' in policy) return sorted.slice(-policy.latest.num_versions);
  const wanted = new Set(policy.specific.versions);
  return sorted.filter((v) => wanted.has(v));
}

export function describePolicy(policy: VersionPolicy): string {
  if ('all' in policy) return 'all';
  if ('latest' in policy) return `latest ${policy.latest.num_versions}`;
  return `specific [${policy.specific.versions.join(', ')}]`;
}
