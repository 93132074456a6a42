/**
 * Triton's model repository extension over gRPC: the index as a RepositoryIndexResponse, and a load or unload
 * request's parameters as plain values (the same checks as REST's, in management/load-parameters.ts).
 */
import type { IndexEntry } from '../../registry/registry.js';
import type { ModelRepositoryParameter, RepositoryModelIndex } from './messages.js';

export function indexToGrpc(rows: readonly IndexEntry[]): { models: RepositoryModelIndex[] } {
  return { models: rows.map((r) => ({ name: r.name, version: r.version ?? '', state: r.state, reason: r.reason ?? '' })) };
}

/** Each parameter's value, whichever of the oneof it is set in. */
export function parametersFromGrpc(parameters: Record<string, ModelRepositoryParameter> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, p] of Object.entries(parameters ?? {})) {
    const choice = p.parameter_choice;
    out[key] = choice ? p[choice] : undefined;
  }
  return out;
}
