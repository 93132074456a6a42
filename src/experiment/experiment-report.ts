/**
 * GET /v2/models/NAME/experiment: per variant its requests, feedback, metric with a 95% interval, agreement with the
 * control before any outcome, and for each candidate (and shadow) the comparison with the control: the difference
 * and its interval, the fixed-horizon p-value, the always-valid one, the verdict (from the always-valid one: it stays
 * right however often this is read) and the outcomes still needed for the minimum effect.
 */
import { meanInterval, proportionInterval, samplesNeeded, successesOf, twoProportionZTest, verdict, welchTTest, type Interval, type Moments } from './statistics.js';
import { minimumEffectOf } from './allocation.js';
import type { Experiment } from './experiment.js';
import { VariantStats, type OutcomeType } from './variant-stats.js';

export interface Estimate {
  readonly value: number | null;
  readonly interval: readonly [number, number] | null;
  readonly n: number;
}

export interface VariantReport {
  readonly name: string;
  readonly role: 'control' | 'candidate' | 'shadow';
  /** Share of the requests without a version it is sent (answering variants). */
  readonly weight?: number;
  readonly requests: number;
  readonly feedback: number;
  readonly metrics: Readonly<Record<string, Estimate>>;
  readonly agreement?: { readonly rows: number; readonly label_agreement: Estimate; readonly mean_abs_score_difference: Estimate };
  readonly comparison?: Comparison;
  readonly shadow?: { readonly dropped: number; readonly failed: number };
}

export interface Comparison {
  readonly metric: string;
  readonly higher_is_better: boolean;
  readonly difference: number | null;
  readonly interval: readonly [number, number] | null;
  readonly p_value: number;
  readonly always_valid_p_value: number;
  readonly verdict: 'candidate_better' | 'control_better' | 'no_difference_yet';
  readonly minimum_effect: number | null;
  /** Outcomes each arm still needs for a fixed-horizon test to find the minimum effect (80% power, 5%). */
  readonly samples_needed: { readonly control: number; readonly candidate: number } | null;
}

export interface ExperimentReport {
  readonly model: string;
  readonly outcome: OutcomeType | null;
  readonly control: string;
  readonly allocation: 'thompson' | 'fixed';
  readonly store: { readonly durable: boolean; readonly predictions_kept: number };
  readonly feedback: { readonly matched: number; readonly unmatched: number; readonly duplicate: number };
  readonly variants: readonly VariantReport[];
}

/** `weights`: the split's current weight per answering variant. */
export function experimentReport(e: Experiment, weights: ReadonlyMap<string, number>): ExperimentReport {
  const plan = e.plan;
  const type = plan.outcome?.type;
  const total = [...weights.values()].reduce((a, b) => a + b, 0);
  const empty = new VariantStats();
  const control = e.stats.get(plan.control) ?? empty;
  const variants: VariantReport[] = [];
  const names = [...plan.answering.map((n) => [n, n === plan.control ? 'control' : 'candidate'] as const), ...plan.shadows.map((s) => [s.name, 'shadow'] as const)];
  for (const [name, role] of names) {
    const stats = e.stats.get(name) ?? empty;
    const agreement = e.agreement.get(name);
    const test = e.tests.get(name);
    variants.push({
      name,
      role,
      ...(role !== 'shadow' ? { weight: total > 0 ? (weights.get(name) ?? 0) / total : 0 } : {}),
      requests: stats.requests,
      feedback: stats.feedback,
      metrics: type ? metricsOf(type, stats) : {},
      ...(role !== 'control'
        ? {
            agreement: {
              rows: Math.max(agreement?.labels.count ?? 0, agreement?.scoreDifference.count ?? 0),
              label_agreement: proportion(agreement?.labels),
              mean_abs_score_difference: mean(agreement?.scoreDifference),
            },
            ...(type ? { comparison: compare(e, type, control, stats, weights, name, test?.pValue ?? 1) } : {}),
          }
        : {}),
      ...(role === 'shadow' ? { shadow: { dropped: e.counters.shadowDropped.get(name) ?? 0, failed: e.counters.shadowFailed.get(name) ?? 0 } } : {}),
    });
  }
  return {
    model: e.model,
    outcome: type ?? null,
    control: plan.control,
    allocation: plan.thompson ? 'thompson' : 'fixed',
    store: { durable: e.durable, predictions_kept: e.indexed },
    feedback: { matched: e.counters.matched, unmatched: e.counters.unmatched, duplicate: e.counters.duplicate },
    variants,
  };
}

function metricsOf(type: OutcomeType, s: VariantStats): Record<string, Estimate> {
  if (type === 'classification') return { accuracy: proportion(s.correct), log_loss: mean(s.logLoss) };
  if (type === 'regression') {
    const mse = meanInterval(s.squaredError);
    const n = s.squaredError.count;
    return {
      mae: mean(s.absError),
      // RMSE's interval: the square roots of the mean squared error's interval's ends.
      rmse: { value: n > 0 ? Math.sqrt(s.squaredError.mean) : null, interval: mse ? [Math.sqrt(Math.max(0, mse.low)), Math.sqrt(mse.high)] : null, n },
    };
  }
  return { mean_reward: mean(s.reward) };
}

function compare(e: Experiment, type: OutcomeType, control: VariantStats, candidate: VariantStats, weights: ReadonlyMap<string, number>, name: string, alwaysValid: number): Comparison {
  const { moments, higherIsBetter } = candidate.primary(type);
  const controlMoments = control.primary(type).moments;
  let difference: number | null = null;
  let interval: Interval | undefined;
  let p = 1;
  if (moments.count > 0 && controlMoments.count > 0) {
    const test =
      type === 'classification'
        ? twoProportionZTest(successesOf(controlMoments), controlMoments.count, successesOf(moments), moments.count)
        : welchTTest(controlMoments, moments);
    ({ difference, interval } = test);
    p = test.pValue;
  }
  const effect = minimumEffectOf(e.plan, controlMoments);
  const cw = weights.get(e.plan.control);
  const vw = weights.get(name);
  const share = cw !== undefined && vw !== undefined && cw + vw > 0 && vw > 0 && cw > 0 ? vw / (cw + vw) : undefined;
  const needed = effect === undefined ? undefined : samplesNeeded(control.arm(type), candidate.arm(type), effect, share === undefined ? {} : { candidateShare: share });
  return {
    metric: type === 'classification' ? 'accuracy' : type === 'regression' ? 'mae' : 'mean_reward',
    higher_is_better: higherIsBetter,
    difference,
    interval: interval ? [interval.low, interval.high] : null,
    p_value: p,
    always_valid_p_value: alwaysValid,
    verdict: verdict(alwaysValid, difference ?? 0, higherIsBetter),
    minimum_effect: effect ?? null,
    samples_needed: needed ?? null,
  };
}

function proportion(m: Moments | undefined): Estimate {
  const n = m?.count ?? 0;
  if (!m || n === 0) return { value: null, interval: null, n: 0 };
  const i = proportionInterval(successesOf(m), n);
  return { value: m.mean, interval: [i.low, i.high], n };
}

function mean(m: Moments | undefined): Estimate {
  const n = m?.count ?? 0;
  if (!m || n === 0) return { value: null, interval: null, n: 0 };
  const i = meanInterval(m);
  return { value: m.mean, interval: i ? [i.low, i.high] : null, n };
}
