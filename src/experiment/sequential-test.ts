/**
 * The always-valid p-value of a candidate against the control: a mixture sequential probability ratio test (mSPRT;
 * Johari, Koomen, Pekelis and Walsh, "Peeking at A/B tests", KDD 2017). It may be read after every outcome, and the
 * experiment stopped on it, without making a false winner likelier than alpha; a fixed-horizon p-value read that way
 * finds one in about a third of experiments with no difference at all (test/experiment/statistics.test.ts).
 *
 * It is fed the current estimate θ of the difference (candidate minus control) and that estimate's variance
 * v = s_control²/n_control + s_candidate²/n_candidate, which holds for unequal shares (90/10) too. Under no difference
 * θ is a Gaussian random walk in the information 1/v, and the likelihood ratio of "the difference is drawn from
 * N(0, tau²)" against "it is 0",
 *
 *   Λ = sqrt(v / (v + tau²)) · exp(θ² tau² / (2 v (v + tau²))),
 *
 * is a martingale: by Ville's inequality it ever exceeds 1/alpha with probability at most alpha. The p-value is the
 * running minimum of 1/Λ. tau is the scale of difference it is tuned to find: the experiment's minimum effect.
 *
 * The guarantee is for known variances; these are estimated, and early on, from few outcomes, an estimate can be far
 * too small, when one lucky run looks decisive. So nothing is concluded before each arm has minimumCount outcomes
 * (100). For a proportion (observeProportions) each arm also needs 10 successes and 10 failures, the usual condition
 * for its normal approximation, and its variance is that of (successes + 1) / (n + 2), never 0. Measured over 1,000
 * experiments with no difference, read every 50 outcomes up to 10,000, 10% of them to the candidate: at accuracy 0.7,
 * 20% false winners with the raw variances and no minimum, 3% with the smoothed variance; at accuracy 0.97, 7% with
 * both but not the 10 of each, 1% with all three.
 */
import type { ArmSummary } from './statistics.js';

/** What persists of a SequentialTest: with it, a restart goes on from the running minimum. */
export interface SequentialTestJSON {
  tau: number;
  minimumCount: number;
  pValue: number;
}

/** Successes and failures each arm needs before a difference of proportions is judged. */
const MINIMUM_OF_EACH = 10;

/**
 * The variance of one outcome of a proportion, from p = (successes + 1) / (n + 2): an arm with no failure yet (or no
 * success) then does not look certain, a variance of 0 that would make any difference from it decisive.
 */
export function proportionVariance(successes: number, n: number): number {
  const p = (successes + 1) / (n + 2);
  return p * (1 - p);
}

export class SequentialTest {
  private p = 1;

  constructor(
    readonly tau: number,
    readonly minimumCount = 100,
  ) {
    if (!(tau > 0 && Number.isFinite(tau))) throw new RangeError(`tau must be a positive number, not ${tau}`);
  }

  /**
   * One reading: the difference (candidate minus control), its variance, and each arm's outcomes so far. A reading
   * that cannot be judged (an arm below minimumCount, a variance of 0 or not a number) changes nothing.
   */
  observe(difference: number, variance: number, controlCount: number, candidateCount: number): void {
    if (!(Math.min(controlCount, candidateCount) >= this.minimumCount)) return;
    if (!(variance > 0 && Number.isFinite(variance) && Number.isFinite(difference))) return;
    this.p = Math.min(this.p, Math.exp(-logLikelihoodRatio(difference, variance, this.tau)));
  }

  /** A reading of two means (reward, an error, a log loss): a Moments is an ArmSummary. */
  observeMeans(control: ArmSummary, candidate: ArmSummary): void {
    const variance = control.variance / control.count + candidate.variance / candidate.count;
    this.observe(candidate.mean - control.mean, variance, control.count, candidate.count);
  }

  /** A reading of two proportions (accuracy). */
  observeProportions(controlSuccesses: number, controlN: number, candidateSuccesses: number, candidateN: number): void {
    const fewest = Math.min(controlSuccesses, controlN - controlSuccesses, candidateSuccesses, candidateN - candidateSuccesses);
    if (!(fewest >= MINIMUM_OF_EACH)) return;
    const difference = candidateSuccesses / candidateN - controlSuccesses / controlN;
    const variance = proportionVariance(controlSuccesses, controlN) / controlN + proportionVariance(candidateSuccesses, candidateN) / candidateN;
    this.observe(difference, variance, controlN, candidateN);
  }

  /** The always-valid p-value: never rises; 1 until there is evidence. */
  get pValue(): number {
    return this.p;
  }

  toJSON(): SequentialTestJSON {
    return { tau: this.tau, minimumCount: this.minimumCount, pValue: this.p };
  }

  /** Throws on a state that is not one: a test that forgot its evidence, or made some up, would report wrongly. */
  static from(json: unknown): SequentialTest {
    const { tau, minimumCount, pValue } = (json ?? {}) as Partial<Record<keyof SequentialTestJSON, unknown>>;
    if (typeof tau !== 'number' || typeof minimumCount !== 'number' || typeof pValue !== 'number' || !(pValue >= 0 && pValue <= 1)) {
      throw new TypeError(`not the state of a sequential test: ${JSON.stringify(json)}`);
    }
    const test = new SequentialTest(tau, minimumCount);
    test.p = pValue;
    return test;
  }
}

/** ln Λ: Λ itself overflows long before the p-value stops being interesting. */
function logLikelihoodRatio(difference: number, variance: number, tau: number): number {
  const t2 = tau * tau;
  return 0.5 * Math.log(variance / (variance + t2)) + (difference * difference * t2) / (2 * variance * (variance + t2));
}
