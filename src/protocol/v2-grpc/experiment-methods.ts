/**
 * ferry's FerryExperimentService on the public gRPC port: an experiment's feedback and results, converted to and from
 * what the REST routes take (POST /v2/models/NAME/feedback, GET /v2/models/NAME/experiment) and handed to the same
 * data plane calls, so both doors check and answer alike.
 */
import { invalid } from '../../errors.js';
import type { DataPlane } from '../../dataplane/dataplane.js';
import type { Logger } from '../../observe/logger.js';
import type { ServiceImplementation } from '../grpc-http2/server.js';
import { unary } from './unary.js';

interface Outcome {
  readonly id: string;
  readonly truth_labels: readonly string[];
  readonly truth_values: readonly number[];
  readonly reward?: number | null;
}

interface ModelFeedbackRequest {
  readonly model_name: string;
  readonly feedback: readonly Outcome[];
}

export function experimentMethods(dp: DataPlane, log: Logger): ServiceImplementation {
  return {
    ModelFeedback: unary(log, async (req: ModelFeedbackRequest) => {
      const name = modelName(req.model_name);
      dp.checkExperiment(name);
      return dp.feedback(name, { feedback: req.feedback.map(restOutcome) });
    }),
    ModelExperiment: unary(log, async (req: { readonly model_name: string }) => ({ report_json: JSON.stringify(await dp.experiment(modelName(req.model_name))) })),
  };
}

function modelName(name: string): string {
  if (!name) throw invalid('model_name is required');
  return name;
}

/** An Outcome as the REST body writes it: the parser there says what is wrong with it, naming feedback[i]. */
function restOutcome(o: Outcome, i: number): Record<string, unknown> {
  if (o.truth_labels.length > 0 && o.truth_values.length > 0) throw invalid(`feedback[${i}]: give truth_labels or truth_values, not both`);
  const truth = o.truth_labels.length > 0 ? o.truth_labels : o.truth_values.length > 0 ? o.truth_values : undefined;
  return { id: o.id, ...(truth !== undefined ? { truth } : {}), ...(o.reward !== undefined && o.reward !== null ? { reward: o.reward } : {}) };
}
