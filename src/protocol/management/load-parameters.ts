/**
 * The parameters a load or unload request may carry (Triton's), checked the same for REST and gRPC. A load takes
 * `config` (a JSON model config, as text in Triton's form, or as an object over REST). Triton's `file:<path>`
 * parameters, which carry model files in the request, are refused: ferry loads only what the repository holds, and a
 * request never names a file or a URL for the server to write or fetch (TorchServe's CVE-2023-43654).
 */
import { invalid } from '../../errors.js';

export interface LoadParameters {
  /** The config to load with instead of the model's config file: JSON text or an object, validated by the core. */
  readonly config?: unknown;
}

export function loadParameters(parameters: unknown): LoadParameters {
  const p = asRecord(parameters);
  for (const key of Object.keys(p)) {
    if (key.startsWith('file:')) {
      throw invalid(`parameter '${key}': ferry does not take model files in a load request; copy the version folder into the repository, then load`);
    }
    if (key !== 'config') throw invalid(`unknown load parameter '${key}' (accepted: config)`);
  }
  const config = p.config;
  if (config !== undefined && typeof config !== 'string' && (config === null || typeof config !== 'object' || Array.isArray(config))) {
    throw invalid('parameter \'config\' must be a JSON model config (a string holding JSON, or an object)');
  }
  return config === undefined ? {} : { config };
}

/** Unload takes Triton's `unload_dependents` (ferry has no ensembles yet: nothing depends on a model). */
export function checkUnloadParameters(parameters: unknown): void {
  for (const key of Object.keys(asRecord(parameters))) {
    if (key !== 'unload_dependents') throw invalid(`unknown unload parameter '${key}' (accepted: unload_dependents)`);
  }
}

function asRecord(parameters: unknown): Record<string, unknown> {
  if (parameters === undefined || parameters === null) return {};
  if (typeof parameters !== 'object' || Array.isArray(parameters)) throw invalid("'parameters' must be an object");
  return parameters as Record<string, unknown>;
}
