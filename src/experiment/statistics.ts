/**
 * The statistics of an experiment between a model's control variant and its candidates, from the outcomes fed back
 * per prediction: per variant a metric with its 95% interval; per candidate against the control the difference, its
 * interval, a fixed-horizon p-value, the verdict and the outcomes still needed; and Thompson-sampling shares of the
 * traffic. The always-valid p-value, the one that may be read after every outcome, is in sequential-test.ts. All pure
 * and synchronous.
 *
 * The normal and Student t distributions and the beta sampler are written here, not taken from @stdlib: its packages
 * for them bring some 300 more into the install, where these take a hundred lines and are exact to about 1e-12
 * (against mpmath; to 1e-10 beyond a million degrees of freedom). The tests hold them to scipy's values.
 */
import { proportionVariance } from './sequential-test.js';

export { SequentialTest, proportionVariance, type SequentialTestJSON } from './sequential-test.js';

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

// ---- The normal and Student t distributions ----

/** Lanczos' approximation (g = 7, 9 terms): lnΓ to about 1e-15 relative, all that the t distribution needs. */
const LANCZOS = [
  676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

function lnGamma(x: number): number {
  if (x < 0.5) return lnGamma(x + 1) - Math.log(x);
  const z = x - 1;
  let sum = 0.99999999999980993;
  LANCZOS.forEach((c, i) => (sum += c / (z + i + 1)));
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** b0 + a1 / (b1 + a2 / (b2 + ...)) by the modified Lentz method, term by term until the next changes nothing. */
function continuedFraction(b0: number, a: (n: number) => number, b: (n: number) => number): number {
  const tiny = 1e-300;
  let f = b0 === 0 ? tiny : b0;
  let c = f;
  let d = 0;
  for (let n = 1; n <= 100_000; n++) {
    d = b(n) + a(n) * d;
    c = b(n) + a(n) / c;
    d = 1 / (d === 0 ? tiny : d);
    if (c === 0) c = tiny;
    f *= c * d;
    if (Math.abs(c * d - 1) <= 2 * Number.EPSILON) break;
  }
  return f;
}

/** The Stirling series' remainder, lnΓ(x) - ((x - 1/2) ln x - x + ln(2π)/2), for x >= 10. */
function stirlingRemainder(x: number): number {
  const r = 1 / (x * x);
  return (1 / 12 - r * (1 / 360 - r * (1 / 1260 - r * (1 / 1680 - r / 1188)))) / x;
}

/**
 * ln B(a, b). When the larger argument is large (a t with many degrees of freedom) lnΓ(a) and lnΓ(a + b) agree in
 * most of their digits; their difference is then taken from Stirling's series, whose terms do not cancel.
 */
function lnBeta(a: number, b: number): number {
  const [small, large] = a < b ? [a, b] : [b, a];
  if (large < 10) return lnGamma(small) + lnGamma(large) - lnGamma(small + large);
  const sum = small + large;
  const difference = -(large - 0.5) * Math.log1p(small / large) - small * Math.log(sum) + small + stirlingRemainder(large) - stirlingRemainder(sum);
  return lnGamma(small) + difference;
}

/** ln x from x or from 1 - x, whichever has the digits. */
const lnOf = (x: number, oneMinusX: number): number => (x > 0.5 ? Math.log1p(-oneMinusX) : Math.log(x));

/**
 * The regularised incomplete beta function I_x(a, b), by its continued fraction on the side where that converges
 * fast. y = 1 - x is passed too: computed by the caller as t²/(ν + t²), it keeps digits that 1 - x would lose.
 */
function regularizedBeta(x: number, y: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (y <= 0) return 1;
  if (x > (a + 1) / (a + b + 2)) return 1 - regularizedBeta(y, x, b, a);
  const lnFront = a * lnOf(x, y) + b * lnOf(y, x) - lnBeta(a, b);
  const term = (n: number): number => {
    const m = Math.floor(n / 2);
    return n % 2 === 0 ? (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m)) : -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1));
  };
  return Math.exp(lnFront) / (a * continuedFraction(1, term, () => 1));
}

/**
 * erfc(x): a series (of positive terms, so no cancellation) for small x, the continued fraction of the incomplete
 * gamma function Q(1/2, x²) beyond, where the series would leave 1 - erf(x) with few correct digits.
 */
function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return 2 - erfc(-x);
  const z = x * x;
  if (z < 2) {
    let term = 1;
    let sum = 1;
    for (let k = 1; term > sum * Number.EPSILON; k++) sum += term *= z / (k + 0.5);
    return 1 - ((2 * x) / Math.sqrt(Math.PI)) * Math.exp(-z) * sum;
  }
  if (z > 750) return 0;
  const fraction = continuedFraction(z + 0.5, (n) => -n * (n - 0.5), (n) => z + 2 * n + 0.5);
  return (x * Math.exp(-z)) / (Math.sqrt(Math.PI) * fraction);
}

/** P(Z > x) for a standard normal Z, accurate in the far tail too (no 1 - cdf). */
export function normalSurvival(x: number): number {
  return 0.5 * erfc(x / Math.SQRT2);
}

function normalDensity(x: number): number {
  return Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
}

/** P(T > t) for Student's t with df degrees of freedom (df may be fractional, as Welch's is). */
export function studentTSurvival(t: number, df: number): number {
  if (Number.isNaN(t) || !(df > 0)) return NaN;
  if (df === Infinity) return normalSurvival(t);
  const t2 = t * t;
  if (t2 === Infinity) return t > 0 ? 0 : 1;
  const tail = 0.5 * regularizedBeta(df / (df + t2), t2 / (df + t2), df / 2, 0.5);
  return t >= 0 ? tail : 1 - tail;
}

function studentTDensity(t: number, df: number): number {
  return Math.exp(-lnBeta(df / 2, 0.5) - 0.5 * Math.log(df) - ((df + 1) / 2) * Math.log1p((t * t) / df));
}

/**
 * The x > 0 with survival(x) = q (q < 1/2): Newton's method from a close guess, kept inside a bracket by bisection,
 * so the heavy tails of a t with one or two degrees of freedom, where Newton alone crawls, still converge.
 */
function upperQuantile(q: number, survival: (x: number) => number, density: (x: number) => number, guess: number): number {
  let low = 0;
  let high = Math.max(guess, 1);
  while (survival(high) > q) [low, high] = [high, high * 2];
  let x = Math.min(Math.max(guess, low), high);
  for (let i = 0; i < 200; i++) {
    const excess = survival(x) - q;
    if (excess > 0) low = x;
    else high = x;
    let next = x + excess / density(x);
    if (!(next > low && next < high)) next = (low + high) / 2;
    const step = Math.abs(next - x);
    x = next;
    if (step <= 4 * Number.EPSILON * x) break;
  }
  return x;
}

/** The x > 0 with P(Z > x) = q < 1/2, from a first guess good to 5e-4 (Abramowitz and Stegun 26.2.23). */
function normalTail(q: number): number {
  const t = Math.sqrt(-2 * Math.log(q));
  const guess = t - (2.515517 + 0.802853 * t + 0.010328 * t * t) / (1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t ** 3);
  return upperQuantile(q, normalSurvival, normalDensity, guess);
}

/** The t > 0 with P(T > t) = q < 1/2, from the normal one corrected by Cornish-Fisher's first two terms. */
function studentTTail(q: number, df: number): number {
  const z = normalTail(q);
  if (df === Infinity) return z;
  const guess = z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df * df);
  return upperQuantile(q, (t) => studentTSurvival(t, df), (t) => studentTDensity(t, df), guess);
}

/** A quantile from a solver of the upper tail, which is given the smaller tail: 1 - p would lose its digits. */
function quantile(p: number, tail: (q: number) => number): number {
  if (Number.isNaN(p) || p < 0 || p > 1) return NaN;
  if (p === 0 || p === 1) return p === 0 ? -Infinity : Infinity;
  if (p === 0.5) return 0;
  return p < 0.5 ? -tail(p) : tail(1 - p);
}

export function normalQuantile(p: number): number {
  return quantile(p, normalTail);
}

export function studentTQuantile(p: number, df: number): number {
  return df > 0 ? quantile(p, (q) => studentTTail(q, df)) : NaN;
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

// ---- Thompson sampling ----

/** A classification arm: its correct and wrong answers. The posterior is Beta(successes + 1, failures + 1). */
export interface BetaArm {
  readonly successes: number;
  readonly failures: number;
}

export interface ThompsonOptions {
  /** False where the metric is an error (regression): then the lowest draw wins. Default true. */
  higherIsBetter?: boolean;
  /** Draws per call; the shares are exact to about 1/sqrt(draws). Default 2000. */
  draws?: number;
  /** The least share an arm keeps, so that none starves and each can still show it got better. Default 0.05. */
  floor?: number;
  /** Uniform on [0, 1); tests pass a seeded one. Default Math.random. */
  random?: () => number;
}

type Random = () => number;

function sampleNormal(random: Random): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** Marsaglia and Tsang's method; below shape 1 by their boost, Gamma(a) = Gamma(a + 1)·U^(1/a). */
function sampleGamma(shape: number, random: Random): number {
  if (shape < 1) return sampleGamma(shape + 1, random) * Math.pow(1 - random(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = sampleNormal(random);
    const cube = (1 + c * x) ** 3;
    if (cube <= 0) continue;
    const u = 1 - random();
    if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - cube + Math.log(cube))) return d * cube;
  }
}

function sampleBeta(a: number, b: number, random: Random): number {
  const x = sampleGamma(a, random);
  return x / (x + sampleGamma(b, random));
}

const isBeta = (arm: BetaArm | ArmSummary): arm is BetaArm => 'successes' in arm;

/**
 * One posterior draw per arm. A Gaussian arm's mean is drawn from N(mean, variance / n); one with fewer than two
 * values, whose variance is unknown, from a weak prior: the spread of a single value of the other arms (pooled),
 * around its one value or the others' mean, so that it is tried often until it has its own. Undefined when no
 * Gaussian arm has two values yet: nothing to compare on.
 */
function posteriorSamplers(arms: readonly (BetaArm | ArmSummary)[]): ((random: Random) => number)[] | undefined {
  const known = arms.filter((a): a is ArmSummary => !isBeta(a) && a.count >= 2);
  const weight = known.reduce((sum, a) => sum + a.count - 1, 0);
  const pooledVariance = known.reduce((sum, a) => sum + (a.count - 1) * a.variance, 0) / weight;
  const pooledMean = known.reduce((sum, a) => sum + a.count * a.mean, 0) / known.reduce((sum, a) => sum + a.count, 0);
  if (known.length === 0 && arms.some((a) => !isBeta(a))) return undefined;
  return arms.map((arm) => {
    if (isBeta(arm)) return (random: Random) => sampleBeta(arm.successes + 1, arm.failures + 1, random);
    const centre = arm.count >= 1 ? arm.mean : pooledMean;
    const sd = arm.count >= 2 ? Math.sqrt(arm.variance / arm.count) : Math.sqrt(pooledVariance);
    return (random: Random) => centre + sd * sampleNormal(random);
  });
}

/**
 * Raises each share below the floor to it, taking what that costs from the others in proportion to their shares,
 * again until none is below (taking from one can push it under). A floor above 1/arms gives equal shares.
 */
function applyFloor(shares: readonly number[], floor: number): number[] {
  const f = Math.min(Math.max(floor, 0), 1 / shares.length);
  const floored = new Set<number>();
  for (;;) {
    const free = shares.reduce((sum, s, i) => (floored.has(i) ? sum : sum + s), 0);
    const scale = free > 0 ? (1 - f * floored.size) / free : 0;
    const result = shares.map((s, i) => (floored.has(i) ? f : s * scale));
    const below = result.map((s, i) => i).filter((i) => !floored.has(i) && (result[i] as number) < f);
    if (below.length === 0 || free === 0) return result;
    for (const i of below) floored.add(i);
  }
}

/**
 * Thompson sampling: each arm's share of the traffic is the chance that it is the best, estimated as the share of
 * posterior draws it wins (a tie splits the win), then floored. The arms are all Beta (classification accuracy) or
 * all Gaussian (reward, regression error: a Moments is one).
 */
export function thompsonShares(arms: readonly BetaArm[] | readonly ArmSummary[], options: ThompsonOptions = {}): number[] {
  if (arms.length === 0) return [];
  const floor = options.floor ?? 0.05;
  const samplers = posteriorSamplers(arms);
  if (samplers === undefined) return applyFloor(arms.map(() => 1 / arms.length), floor);
  const random = options.random ?? Math.random;
  const draws = Math.max(1, Math.floor(options.draws ?? 2000));
  const sign = options.higherIsBetter === false ? -1 : 1;
  const wins = arms.map(() => 0);
  const values = arms.map(() => 0);
  for (let k = 0; k < draws; k++) {
    samplers.forEach((draw, i) => (values[i] = sign * draw(random)));
    const best = Math.max(...values);
    const winners = values.map((v, i) => (v === best ? i : -1)).filter((i) => i >= 0);
    for (const i of winners) wins[i] = (wins[i] as number) + 1 / winners.length;
  }
  return applyFloor(
    wins.map((w) => w / draws),
    floor,
  );
}
