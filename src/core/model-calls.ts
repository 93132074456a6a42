/**
 * What a pipeline's steps call (runtime/pipeline): the server's other models, through the data plane's own infer, so
 * each step is checked, batched, counted and routed as a request to that model is.
 */
import type { DataPlane } from '../dataplane/dataplane.js';
import { messageOf } from '../errors.js';
import type { ModelRegistry } from '../registry/registry.js';
import type { ModelCalls } from '../runtime/pipeline/pipeline-runtime.js';

export function modelCallsOf(registryOf: () => ModelRegistry, dataplane: () => DataPlane): ModelCalls {
  return {
    describe(model, version) {
      const registry = registryOf();
      const versionText = version === undefined ? undefined : String(version);
      try {
        const v = registry.resolve(model, versionText);
        return { inputs: v.inputs, outputs: v.runtime.outputs };
      } catch (e) {
        // The models of one round (the server's start, one poll) are all registered before any of them loads.
        if (!registry.names().includes(model)) return { problem: `no model '${model}' is loaded (it is not in the repository, or explicit model control has not loaded it)` };
        // A version still loading may be the one wanted; none loading: the answer is final (a version not served).
        const rows = registry.index().filter((r) => r.name === model);
        if (rows.length === 0 || rows.some((r) => r.state === 'LOADING')) return 'loading';
        const reasons = rows.filter((r) => versionText === undefined || r.version === undefined || r.version === versionText).map((r) => r.reason);
        return { problem: reasons.filter(Boolean).join('; ') || messageOf(e) };
      }
    },
    async infer(model, version, inputs, outputNames) {
      const response = await dataplane().infer({
        modelName: model,
        ...(version === undefined ? {} : { modelVersion: String(version) }),
        inputs,
        outputs: outputNames.map((name) => ({ name })),
      });
      return response.outputs;
    },
  };
}
