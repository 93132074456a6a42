/**
 * Thompson allocation (traffic.allocation: thompson): the answering variants' weights follow the chance that each is
 * the best, given the outcomes so far (Seldon Core v1's bandit routers, which v2 dropped), with a floor so that no
 * variant starves. And the minimum effect an experiment is sized and tuned for.
 */
import { successesOf, thompsonShares, type Moments } from './statistics.js';
import type { ExperimentPlan } from './experiment-plan.js';
import type { VariantStats } from './variant-stats.js';

/** Default minimum effect for classification: 2 points of accuracy. */
const CLASSIFICATION_EFFECT = 0.02;
/** For regression and reward, a tenth of the control's standard deviation, once this many outcomes show it. */
const OUTCOMES_FOR_SPREAD = 30;

/** The effect to size for: configured, or a default from the outcome type (undefined: not known yet). */
export function minimumEffectOf(plan: ExperimentPlan, control: Moments): number | undefined {
  const outcome = plan.outcome;
  if (!outcome) return undefined;
  if (outcome.minimumEffect !== undefined) return outcome.minimumEffect;
  if (outcome.type === 'classification') return CLASSIFICATION_EFFECT;
  return control.count >= OUTCOMES_FOR_SPREAD && control.variance > 0 ? 0.1 * Math.sqrt(control.variance) : undefined;
}

/** New weights for the answering variants (summing to 1), or undefined when the outcome cannot rank them. */
export function reallocate(plan: ExperimentPlan, stats: ReadonlyMap<string, VariantStats>, random: () => number = Math.random): Map<string, number> | undefined {
  const type = plan.outcome?.type;
  if (!type) return undefined;
  const arms = plan.answering.map((name) => stats.get(name)?.primary(type).moments);
  let shares: number[];
  if (type === 'classification') {
    shares = thompsonShares(
      arms.map((m) => {
        const successes = m ? successesOf(m) : 0;
        return { successes, failures: (m?.count ?? 0) - successes };
      }),
      { floor: plan.allocationFloor, random },
    );
  } else {
    const summaries = arms.map((m) => ({ count: m?.count ?? 0, mean: m?.mean ?? 0, variance: m?.variance ?? 0 }));
    shares = thompsonShares(summaries, { floor: plan.allocationFloor, higherIsBetter: type === 'reward', random });
  }
  return new Map(plan.answering.map((name, i) => [name, shares[i] as number]));
}
