/**
 * The statistics of an experiment between a model's control variant and its candidates, from the outcomes fed back
 * per prediction: per variant a metric with its 95% interval; per candidate against the control the difference, its
 * interval, a fixed-horizon p-value, the verdict and the outcomes still needed; and Thompson-sampling shares of the
 * traffic (thompson.ts). The always-valid p-value, the one that may be read after every outcome, is in
 * sequential-test.ts; the distributions in distributions.ts. All pure and synchronous.
 */
import { proportionVariance } from './sequential-test.js';

export { SequentialTest, proportionVariance, type SequentialTestJSON } from './sequential-test.js';
export { normalQuantile, normalSurvival, studentTQuantile, studentTSurvival } from './distributions.js';
export { thompsonShares, type BetaArm, type ThompsonOptions } from './thompson.js';
import { normalQuantile, normalSurvival, studentTQuantile, studentTSurvival } from './distributions.js';

/** What persists of a Moments. */
export interface MomentsJSON {
  count: number;
  mean: number;
  m2: number;
}

/**
 * Count, mean and variance of a stream of values, in one pass (Welford): no sum of squares to lose every digit when
 * the values are large and close together, and three numbers to checkpoint.
 */
export class Moments {
  private n = 0;
  private mu = 0;
  private m2 = 0;

  /** A value that is not finite throws: one would make every later mean NaN, in the checkpoint too. */
  add(x: number): void {
    if (!Number.isFinite(x)) throw new RangeError(`not a finite value: ${x}`);
    this.n++;
    const delta = x - this.mu;
    this.mu += delta / this.n;
    this.m2 += delta * (x - this.mu);
  }

  get count(): number {
    return this.n;
  }

  get mean(): number {
    return this.mu;
  }

  /** The sample variance (divided by n - 1); 0 until there are two values. */
  get variance(): number {
    return this.n < 2 ? 0 : this.m2 / (this.n - 1);
  }

  toJSON(): MomentsJSON {
    return { count: this.n, mean: this.mu, m2: this.m2 };
  }

  /** Throws on a state that is not one (a damaged checkpoint): better said than every later result NaN. */
  static from(json: unknown): Moments {
    const { count, mean, m2 } = (json ?? {}) as Partial<Record<keyof MomentsJSON, unknown>>;
    if (!(Number.isSafeInteger(count) && (count as number) >= 0 && Number.isFinite(mean) && Number.isFinite(m2) && (m2 as number) >= 0)) {
      throw new TypeError(`not the state of a Moments: ${JSON.stringify(json)}`);
    }
    const m = new Moments();
    m.n = count as number;
    m.mu = m.n === 0 ? 0 : (mean as number);
    m.m2 = m.n < 2 ? 0 : (m2 as number);
    return m;
  }
}

/** For a Moments of 0/1 values (right or wrong answers): how many were 1. */
export function successesOf(m: Moments): number {
  return Math.round(m.mean * m.count);
}

/** What the comparisons need of an arm: a Moments is one. */
export interface ArmSummary {
  readonly count: number;
  readonly mean: number;
  readonly variance: number;
}

/**
 * A proportion as an ArmSummary, for the sample size and the sequential test: the variance is proportionVariance's,
 * which an arm with no failure yet (or no success) does not bring to 0.
 */
export function proportionSummary(successes: number, n: number): ArmSummary {
  return { count: n, mean: n > 0 ? successes / n : 0, variance: proportionVariance(successes, n) };
}

/** The x with P(Z > x) = q, for any q in [0, 1]. */
const normalUpper = (q: number): number => -normalQuantile(q);

// ---- Intervals and fixed-horizon tests ----

export interface Interval {
  readonly low: number;
  readonly high: number;
}

/** z of a two-sided interval at this level. */
const twoSided = (level: number): number => normalUpper((1 - level) / 2);

/** Wilson's score interval: unlike p ± z·se it stays inside [0, 1] and does not collapse to a point at 0 or n. */
export function proportionInterval(successes: number, n: number, level = 0.95): Interval {
  if (!(n > 0)) return { low: 0, high: 1 };
  const z = twoSided(level);
  const p = successes / n;
  const z2n = (z * z) / n;
  const centre = (p + z2n / 2) / (1 + z2n);
  const half = (z / (1 + z2n)) * Math.sqrt((p * (1 - p)) / n + z2n / (4 * n));
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/** Student's t interval of the mean; undefined below two values, where there is no variance to scale it by. */
export function meanInterval(m: ArmSummary, level = 0.95): Interval | undefined {
  if (!(m.count >= 2)) return undefined;
  const half = -studentTQuantile((1 - level) / 2, m.count - 1) * Math.sqrt(m.variance / m.count);
  return { low: m.mean - half, high: m.mean + half };
}

export interface ProportionTest {
  /** Candidate minus control. */
  readonly difference: number;
  /** 95%, from the unpooled standard error; undefined when an arm has no outcome. */
  readonly interval: Interval | undefined;
  readonly z: number;
  /** Two-sided, from the pooled standard error (what statsmodels' proportions_ztest computes). */
  readonly pValue: number;
}

export function twoProportionZTest(controlSuccesses: number, controlN: number, candidateSuccesses: number, candidateN: number): ProportionTest {
  if (!(controlN > 0 && candidateN > 0)) return { difference: 0, interval: undefined, z: 0, pValue: 1 };
  const pc = controlSuccesses / controlN;
  const pt = candidateSuccesses / candidateN;
  const difference = pt - pc;
  const half = twoSided(0.95) * Math.sqrt((pc * (1 - pc)) / controlN + (pt * (1 - pt)) / candidateN);
  const interval = { low: difference - half, high: difference + half };
  const pooled = (controlSuccesses + candidateSuccesses) / (controlN + candidateN);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / controlN + 1 / candidateN));
  // Every outcome the same in both arms: no evidence of a difference, where z would be 0/0.
  if (!(se > 0)) return { difference, interval, z: 0, pValue: 1 };
  const z = difference / se;
  return { difference, interval, z, pValue: Math.min(1, 2 * normalSurvival(Math.abs(z))) };
}

export interface MeanTest {
  /** Candidate minus control. */
  readonly difference: number;
  /** 95%, Welch's; undefined while an arm has fewer than two values. */
  readonly interval: Interval | undefined;
  readonly t: number;
  /** Welch-Satterthwaite; 0 while an arm has fewer than two values. */
  readonly df: number;
  readonly pValue: number;
}

/** Welch's t-test (unequal variances), as scipy.stats.ttest_ind(candidate, control, equal_var=False). */
export function welchTTest(control: ArmSummary, candidate: ArmSummary): MeanTest {
  const difference = control.count > 0 && candidate.count > 0 ? candidate.mean - control.mean : 0;
  if (!(control.count >= 2 && candidate.count >= 2)) return { difference, interval: undefined, t: 0, df: 0, pValue: 1 };
  const vc = control.variance / control.count;
  const vt = candidate.variance / candidate.count;
  const v = vc + vt;
  if (!(v > 0)) return { difference, interval: { low: difference, high: difference }, t: 0, df: control.count + candidate.count - 2, pValue: 1 };
  // As shares of v, so that tiny or huge variances neither underflow nor overflow when squared.
  const df = 1 / ((vc / v) ** 2 / (control.count - 1) + (vt / v) ** 2 / (candidate.count - 1));
  const se = Math.sqrt(v);
  const half = -studentTQuantile(0.025, df) * se;
  const t = difference / se;
  return { difference, interval: { low: difference - half, high: difference + half }, t, df, pValue: Math.min(1, 2 * studentTSurvival(Math.abs(t), df)) };
}

// ---- Sample size and verdict ----

export interface SampleSizeOptions {
  /** The candidate's share of the traffic the two arms get (from the split's weights); default, the observed share. */
  candidateShare?: number;
  alpha?: number;
  power?: number;
}

/**
 * The outcomes each arm still needs (beyond those it has) for a fixed-horizon two-sided test at alpha (0.05) to
 * find a difference of minimumEffect with the given power (0.8), from the variances observed so far. Per arm, because
 * with unequal shares (90/10) the arms need very different counts. A proportion's arm is proportionSummary's. It
 * is what a fixed-horizon test needs: the always-valid test, paying for being read at any time, usually needs more.
 * Undefined until each arm has two outcomes and a variance, or without an effect or a share to size for.
 */
export function samplesNeeded(
  control: Pick<ArmSummary, 'count' | 'variance'>,
  candidate: Pick<ArmSummary, 'count' | 'variance'>,
  minimumEffect: number,
  options: SampleSizeOptions = {},
): { control: number; candidate: number } | undefined {
  const share = options.candidateShare ?? candidate.count / (control.count + candidate.count);
  if (!(control.count >= 2 && candidate.count >= 2 && minimumEffect > 0 && share > 0 && share < 1)) return undefined;
  // The variance of the difference is spread / total, for a total of outcomes shared between the two arms.
  const spread = control.variance / (1 - share) + candidate.variance / share;
  if (!(spread > 0 && Number.isFinite(spread))) return undefined;
  const z = normalUpper((options.alpha ?? 0.05) / 2) + normalUpper(1 - (options.power ?? 0.8));
  const total = (z * z * spread) / (minimumEffect * minimumEffect);
  return {
    control: Math.max(0, Math.ceil(total * (1 - share)) - control.count),
    candidate: Math.max(0, Math.ceil(total * share) - candidate.count),
  };
}

export type Verdict = 'candidate_better' | 'control_better' | 'no_difference_yet';

/** From the always-valid p-value: reading it after every outcome does not make a false winner likelier. */
export function verdict(pValue: number, difference: number, higherIsBetter: boolean, alpha = 0.05): Verdict {
  if (!(pValue < alpha) || !(difference !== 0)) return 'no_difference_yet';
  return difference > 0 === higherIsBetter ? 'candidate_better' : 'control_better';
}
