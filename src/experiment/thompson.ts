/**
 * Thompson sampling: each arm's share of the traffic is the chance that it is the best given the outcomes so far,
 * estimated from posterior draws, with a floor so that no arm starves. The Beta sampler is written here (Marsaglia and
 * Tsang's Gamma method) rather than taken from @stdlib/random-base-beta, which pulls in some 230 packages.
 */
import type { ArmSummary } from './statistics.js';
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
