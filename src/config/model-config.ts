/**
 * Per-model configuration: NAME/config.yaml (or config.json) in the model repository.
 * Validated once at load against one strict schema (model-config-schema.ts); an unknown key is an error that names
 * it, because a typo silently ignored (say `version_polcy`) is worse than a model that refuses to load and says why.
 */
import type { InputConfigSchemaType, ModelConfigSchemaType, SessionSchemaType, TrafficSchemaType, VersionPolicySchemaType } from './model-config-schema.js';

export type VersionPolicy = VersionPolicySchemaType;
export type SessionConfig = SessionSchemaType;
export type InputConfig = InputConfigSchemaType;
export type ModelConfig = Readonly<ModelConfigSchemaType>;
export type TrafficConfig = TrafficSchemaType;

/** A traffic variant's or shadow's name: its own, or `v<version>`, or the other model's name. */
export function variantName(v: { readonly name?: string | undefined; readonly version?: number | undefined; readonly model?: string | undefined }): string {
  return v.name ?? (v.version !== undefined ? `v${v.version}` : (v.model as string));
}

export const DEFAULT_MODEL_FILENAME = 'model.onnx';
export const DEFAULT_VERSION_POLICY: VersionPolicy = { latest: { num_versions: 1 } };

/** Reads and validates a config file (the schema and the parsers load on first use). */
export async function readModelConfig(file: string): Promise<ModelConfig> {
  const { readModelConfigFile } = await import('./model-config-schema.js');
  return readModelConfigFile(file);
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
