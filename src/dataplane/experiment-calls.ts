/**
 * The data plane's part in an experiment: the answer's id, its record (written before the answer leaves, so feedback
 * can always find it), and the copies of the request that shadows and the control's comparison run get. Those run
 * after the answer, never delay or fail it, and are dropped first when the server is busy.
 */
import { randomUUID } from 'node:crypto';
import type { ModelRegistry, Route } from '../registry/registry.js';
import type { Experiment, PredictionRole } from '../experiment/experiment.js';
import type { ExperimentPlan } from '../experiment/experiment-plan.js';
import { summarize, type RowPrediction } from '../experiment/prediction-summary.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Logger } from '../observe/logger.js';
import { checkRequest } from './check-request.js';
import type { InferenceRequest } from './types.js';

/** Shadow and comparison runs under way per model beyond which more are dropped. */
const MAX_SHADOWS_IN_FLIGHT = 16;
/** A target with this many requests waiting in its batcher is busy: its shadow copy is dropped, not queued. */
const BUSY_QUEUE = 4;

interface CopyTarget {
  readonly name: string;
  readonly role: PredictionRole;
  readonly model: string | undefined;
  readonly version: number | undefined;
}

/** The runs an answer asks for, and the copy of its inputs they share. */
export interface Copies {
  readonly targets: readonly CopyTarget[];
  readonly inputs: Tensor[];
}

export class ExperimentCalls {
  constructor(
    private readonly registry: ModelRegistry,
    private readonly log: Logger,
  ) {}

  /** The request's id for feedback: its own `id`, else its X-Request-Id header, else a new one. */
  idOf(request: InferenceRequest): string {
    if (request.id !== undefined && request.id !== '') return request.id;
    const header = request.headers?.['x-request-id'];
    const text = Array.isArray(header) ? header[0] : header;
    return text !== undefined && text !== '' ? text : randomUUID();
  }

  /**
   * The shadow and comparison runs this answer asks for, with a copy of the inputs made before the answer's run may
   * move its buffers; undefined when it asks for none.
   */
  copiesFor(route: Route, inputs: readonly Tensor[]): Copies | undefined {
    const targets = this.targets(route, (route.experiment as Experiment).plan);
    return targets.length > 0 ? { targets, inputs: inputs.map(copyTensor) } : undefined;
  }

  /** Records the answer; never fails it (a store that cannot write is counted and logged once). */
  async recordAnswer(route: Route, id: string, outputs: readonly Tensor[]): Promise<void> {
    const e = route.experiment as Experiment;
    try {
      await e.record(id, route.variant as string, 'a', summaryOf(e, outputs));
    } catch (error) {
      // Said once per experiment: a store that cannot write fails every answer's record the same way.
      if (++e.counters.recordFailures === 1) {
        this.log.error({ model: e.model }, `model '${e.model}': predictions are not being recorded (feedback for them will be unmatched): ${(error as Error).message}`);
      }
    }
  }

  /** Starts the shadow and comparison runs of an answered request (after the answer is sent: next macrotask). */
  runCopies(route: Route, request: InferenceRequest, id: string, copies: Copies): void {
    const e = route.experiment as Experiment;
    const { targets } = copies;
    setImmediate(() => {
      targets.forEach((target, i) => {
        // The last run takes the copy itself; the others a copy of it each (a worker thread may take its buffers).
        const inputs = i === targets.length - 1 ? copies.inputs : copies.inputs.map(copyTensor);
        this.runCopy(e, route.version.modelName, target, { ...request, inputs, outputs: undefined }, id);
      });
    });
  }

  private targets(route: Route, plan: ExperimentPlan): CopyTarget[] {
    const targets: CopyTarget[] = plan.shadows.map((s) => ({ ...s, role: 's' }));
    if (plan.compare && route.variant !== plan.control) {
      const split = this.registry.model(route.version.modelName).split;
      const control = split?.control;
      if (control) targets.push({ name: control.name, role: 'c', model: control.model, version: control.version });
    }
    return targets;
  }

  private runCopy(e: Experiment, model: string, target: CopyTarget, request: InferenceRequest, id: string): void {
    const version = this.registry.targetVersion(model, target);
    if (!version || e.shadowsInFlight >= MAX_SHADOWS_IN_FLIGHT || version.batcher.queued >= BUSY_QUEUE) {
      count(e.counters.shadowDropped, target.name);
      return;
    }
    e.shadowsInFlight++;
    (async () => {
      const { inputs, outputNames } = checkRequest(version, request);
      const outputs = await version.batcher.infer(inputs, outputNames);
      await e.record(id, target.name, target.role, summaryOf(e, outputs));
    })()
      .catch(() => count(e.counters.shadowFailed, target.name))
      .finally(() => e.shadowsInFlight--);
  }
}

/** What the experiment keeps of an answer: labels named as its outcome names them (experiment/prediction-summary.ts). */
function summaryOf(e: Experiment, outputs: readonly Tensor[]): RowPrediction[] {
  const outcome = e.plan.outcome;
  return summarize(outputs, outcome?.type === 'classification', outcome?.labels);
}

function count(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function copyTensor(t: Tensor): Tensor {
  return { ...t, data: t.data.slice() };
}
