/**
 * The statistics of an experiment: fixed-horizon tests and intervals against scipy 1.10, the always-valid test's false
 * winners and power by simulation, Thompson shares, and what degenerate inputs give.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  Moments,
  SequentialTest,
  meanInterval,
  normalQuantile,
  proportionInterval,
  proportionSummary,
  samplesNeeded,
  studentTQuantile,
  studentTSurvival,
  thompsonShares,
  twoProportionZTest,
  verdict,
  welchTTest,
  type Verdict,
} from '../../src/experiment/statistics.js';

/** Within rel of expected (of scale, where expected is the small difference of larger numbers), or 1e-12 near 0. */
function close(actual: number | undefined, expected: number, rel = 1e-6, scale = Math.abs(expected)): void {
  assert.ok(actual !== undefined && Math.abs(actual - expected) <= rel * scale + 1e-12, `${actual} is not ${expected}`);
}

/** mulberry32: a seeded uniform on [0, 1), so that every simulation here is the same on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const momentsOf = (values: readonly number[]): Moments => {
  const m = new Moments();
  for (const v of values) m.add(v);
  return m;
};

// The data of the Welch cases, built the same way in the python that computed the expected values.
const range = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));
const welchCases = {
  small: { a: [0.42, 0.51, 0.39, 0.47, 0.55], b: [0.61, 0.48, 0.66, 0.59] },
  nearZero: { a: range(2000, (i) => ((i * 37) % 101) / 10), b: range(500, (i) => ((i * 53) % 97) / 10 + 0.2) },
  large: { a: range(300, (i) => i % 7), b: range(40, (i) => 3 + ((i * 13) % 31) / 3) },
};

/** No NaN anywhere in a result. */
function assertNoNaN(value: unknown, what: string): void {
  if (typeof value === 'number') assert.ok(!Number.isNaN(value), `${what} is NaN`);
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) assertNoNaN(v, `${what}.${k}`);
}

describe('Moments', () => {
  it('agrees with a two-pass mean and variance, far from 0 too, and survives its checkpoint', () => {
    for (const offset of [0, 1e9]) {
      const values = range(1001, (i) => offset + ((i * 7919) % 1000) / 100);
      const mean = values.reduce((s, v) => s + v, 0) / values.length;
      const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1);
      const m = momentsOf(values);
      assert.equal(m.count, 1001);
      close(m.mean, mean, 1e-14);
      // Far from 0 Welford keeps 8 digits (a sum of squares, at 1e18, would keep none).
      close(m.variance, variance, offset === 0 ? 1e-13 : 1e-8);
      const back = Moments.from(JSON.parse(JSON.stringify(m)));
      assert.deepEqual([back.count, back.mean, back.variance], [m.count, m.mean, m.variance]);
    }
    assert.equal(momentsOf([]).variance, 0);
    assert.equal(momentsOf([3]).variance, 0);
    assert.throws(() => new Moments().add(NaN), RangeError);
    assert.throws(() => Moments.from({ count: -1, mean: 0, m2: 0 }), TypeError);
    assert.throws(() => Moments.from('garbage'), TypeError);
  });
});

describe('distributions and fixed-horizon tests, against scipy 1.10', () => {
  it('the t and normal quantiles and tails', () => {
    // scipy.stats.t.ppf(p, df); for df 1 and 2 the closed forms tan(pi (p - 1/2)) and (2p - 1) / sqrt(2p(1 - p)).
    close(studentTQuantile(0.975, 1), Math.tan(Math.PI * 0.475), 1e-12);
    close(studentTQuantile(0.975, 2), 0.95 / Math.sqrt(2 * 0.975 * 0.025), 1e-12);
    close(studentTQuantile(0.975, 7), 2.3646242510102993);
    close(studentTQuantile(0.975, 30), 2.0422724563012373);
    close(studentTQuantile(0.975, 1234.5), 1.9618874833313449);
    close(studentTQuantile(0.005, 3), -5.840909299756432);
    close(studentTQuantile(0.9, 4.5), 1.5008853173934673);
    // scipy.stats.t.sf(t, df)
    close(studentTSurvival(2.5, 3), 0.04385332350403277);
    close(studentTSurvival(-1, 10), 0.82955343384897);
    close(studentTSurvival(0.3, 1234.5), 0.38211383100468044);
    close(studentTSurvival(8, 2.5), 0.0038283220655217225);
    // scipy.stats.norm.ppf(p)
    close(normalQuantile(0.975), 1.959963984540054);
    close(normalQuantile(0.8), 0.8416212335729143);
    close(normalQuantile(1e-10), -6.361340902404056);
    close(normalQuantile(0.3), -0.5244005127080409);
  });

  it("Wilson intervals, as scipy.stats.binomtest(k, n).proportion_ci(level, method='wilson')", () => {
    const cases: [number, number, number, number, number][] = [
      [0, 10, 0.95, 0, 0.27753279986288926],
      [7, 10, 0.95, 0.39677814746114526, 0.892208732593699],
      [700, 1000, 0.95, 0.6708761390827828, 0.7275931575229951],
      [10, 10, 0.95, 0.7224672001371109, 1],
      [1, 3, 0.95, 0.06149194472039626, 0.7923403991979523],
      [7, 10, 0.99, 0.32002467920110256, 0.9204336834769342],
    ];
    for (const [k, n, level, low, high] of cases) {
      const interval = proportionInterval(k, n, level);
      close(interval.low, low);
      close(interval.high, high);
    }
    assert.deepEqual(proportionInterval(0, 0), { low: 0, high: 1 });
  });

  it("the two-proportion z-test: pooled z and p (statsmodels' proportions_ztest), unpooled interval", () => {
    // p1, p2, pp = cs/cn, ts/tn, (cs+ts)/(cn+tn); z = (p2-p1)/sqrt(pp*(1-pp)*(1/cn+1/tn)); p = 2*norm.sf(abs(z));
    // interval: p2-p1 -+ norm.ppf(0.975)*sqrt(p1*(1-p1)/cn + p2*(1-p2)/tn)   (scipy.stats.norm)
    const cases: [number, number, number, number, number, number, number, number][] = [
      [700, 1000, 750, 1000, 2.5039154291806742, 0.012282738972377298, 0.01092341006144585, 0.08907658993855425],
      [7000, 10000, 7010, 10000, 0.15437697225229077, 0.877312509469711, -0.011695953212360364, 0.013695953212360366],
      [9000, 12000, 160, 200, 1.621328481396492, 0.10494720990913817, -0.005974903757207488, 0.10597490375720758],
      [5, 10, 9, 10, 1.9518001458970664, 0.050961936967763306, 0.03860049819680128, 0.7613995018031987],
    ];
    for (const [cs, cn, ts, tn, z, p, low, high] of cases) {
      const test = twoProportionZTest(cs, cn, ts, tn);
      close(test.difference, ts / tn - cs / cn, 1e-12);
      close(test.z, z);
      close(test.pValue, p);
      close(test.interval?.low, low);
      close(test.interval?.high, high);
    }
  });

  it('Welch\'s t-test as scipy.stats.ttest_ind(b, a, equal_var=False), and t intervals as scipy.stats.t.interval', () => {
    // df = (va+vb)**2/(va**2/(na-1)+vb**2/(nb-1)) with va = a.var(ddof=1)/na; interval: d -+ t.ppf(0.975, df)*sqrt(va+vb)
    const expected = {
      small: { t: 2.447256069995673, p: 0.04998462796217996, df: 5.998808746811938, low: 1.0825317155252479e-5, high: 0.23398917468284475 },
      nearZero: { t: -0.13823278408520379, p: 0.8900916446737249, df: 790.6136501442622, low: -0.29716898286710103, high: 0.25806898286710334 },
      large: { t: 9.961533518055345, p: 8.387221230544334e-13, df: 43.569904917155064, low: 3.9429439749910786, high: 5.943722691675586 },
    };
    for (const [name, { a, b }] of Object.entries(welchCases)) {
      const e = expected[name as keyof typeof expected];
      const test = welchTTest(momentsOf(a), momentsOf(b));
      close(test.t, e.t);
      close(test.pValue, e.p);
      close(test.df, e.df);
      // The small case's low end is 1e-5, the difference of two numbers near 0.12: judged on the interval's width.
      close(test.interval?.low, e.low, 1e-6, e.high - e.low);
      close(test.interval?.high, e.high, 1e-6, e.high - e.low);
    }
    // scipy.stats.t.interval(level, n-1, loc=np.mean(x), scale=scipy.stats.sem(x))
    const small = meanInterval(momentsOf(welchCases.small.a));
    close(small?.low, 0.3873396105618301);
    close(small?.high, 0.5486603894381699);
    const large = meanInterval(momentsOf(welchCases.large.b), 0.9);
    close(large?.low, 7.120157243726988);
    close(large?.high, 8.746509422939678);
  });

  it('the sample still needed: (z(0.975) + z(0.8))² (vc/(1-w) + vt/w) / effect² in all, shared by w', () => {
    // total = (norm.ppf(0.975)+norm.ppf(0.8))**2*(vc/(1-w)+vt/w)/d**2: 16482.6 (50/50), 6619.2 (90/10)
    assert.deepEqual(samplesNeeded({ count: 100, variance: 0.21 }, { count: 100, variance: 0.21 }, 0.02), { control: 8142, candidate: 8142 });
    const unequal = samplesNeeded({ count: 900, variance: 0.21 }, { count: 100, variance: 0.1875 }, 0.05, { candidateShare: 0.1 });
    assert.deepEqual(unequal, { control: 5958 - 900, candidate: 662 - 100 });
    assert.deepEqual(samplesNeeded({ count: 9000, variance: 0.21 }, { count: 1000, variance: 0.1875 }, 0.05), { control: 0, candidate: 0 });
  });
});

describe('degenerate inputs', () => {
  it('give p = 1, undefined where nothing can be said, and never NaN', () => {
    const results: [string, unknown][] = [
      ['z no outcome', twoProportionZTest(0, 0, 0, 0)],
      ['z one arm empty', twoProportionZTest(5, 10, 0, 0)],
      ['z all failures', twoProportionZTest(0, 10, 0, 20)],
      ['z all successes', twoProportionZTest(10, 10, 20, 20)],
      ['welch empty', welchTTest(momentsOf([]), momentsOf([]))],
      ['welch one value', welchTTest(momentsOf([1]), momentsOf([1, 2, 3]))],
      ['welch constant', welchTTest(momentsOf([2, 2, 2]), momentsOf([5, 5]))],
      ['welch one constant', welchTTest(momentsOf([2, 2, 2]), momentsOf([1, 5, 9]))],
    ];
    for (const [name, result] of results) {
      assertNoNaN(result, name);
      assert.ok((result as { pValue: number }).pValue <= 1, name);
    }
    for (const [name, result] of results.slice(0, 7)) assert.equal((result as { pValue: number }).pValue, 1, name);
    assert.equal(twoProportionZTest(0, 0, 0, 0).interval, undefined);
    assert.equal(welchTTest(momentsOf([1]), momentsOf([1, 2])).interval, undefined);
    assert.equal(meanInterval(momentsOf([4])), undefined);
    assertNoNaN(meanInterval(momentsOf([4, 4])), 'constant mean interval');
    assertNoNaN(proportionSummary(0, 0), 'empty proportion');
    const none = [
      samplesNeeded({ count: 1, variance: 0.2 }, { count: 50, variance: 0.2 }, 0.02),
      samplesNeeded({ count: 50, variance: 0 }, { count: 50, variance: 0 }, 0.02),
      samplesNeeded({ count: 50, variance: 0.2 }, { count: 50, variance: 0.2 }, 0),
      samplesNeeded({ count: 50, variance: 0.2 }, { count: 50, variance: 0.2 }, 0.02, { candidateShare: 0 }),
    ];
    assert.deepEqual(none, [undefined, undefined, undefined, undefined]);
    const test = new SequentialTest(0.02);
    test.observe(0.1, 0, 500, 500);
    test.observe(0.1, NaN, 500, 500);
    test.observe(0.5, 1e-6, 99, 500);
    test.observeProportions(500, 500, 490, 500);
    test.observeMeans(momentsOf([]), momentsOf([]));
    assert.equal(test.pValue, 1, 'a variance of 0, NaN, too few outcomes, too few failures: no evidence');
    assert.equal(verdict(NaN, 1, true), 'no_difference_yet');
    assert.deepEqual(thompsonShares([]), []);
  });
});

describe('verdict and the sequential test', () => {
  it('the verdict follows the sign of the difference and whether higher is better', () => {
    const cases: [number, number, boolean, Verdict][] = [
      [0.01, 0.03, true, 'candidate_better'],
      [0.01, 0.03, false, 'control_better'],
      [0.01, -0.03, false, 'candidate_better'],
      [0.01, -0.03, true, 'control_better'],
      [0.2, 0.03, true, 'no_difference_yet'],
      [0.01, 0, true, 'no_difference_yet'],
    ];
    for (const [p, d, higher, v] of cases) assert.equal(verdict(p, d, higher), v);
  });

  it('its p-value only falls, and resumes from its checkpoint', () => {
    const test = new SequentialTest(0.05);
    test.observeProportions(700, 1000, 780, 1000);
    const strong = test.pValue;
    assert.ok(strong < 0.05, `${strong}`);
    test.observeProportions(700, 1000, 700, 1000);
    assert.equal(test.pValue, strong, 'a later reading with no difference does not take the evidence back');
    const back = SequentialTest.from(JSON.parse(JSON.stringify(test)));
    assert.deepEqual(back.toJSON(), test.toJSON());
    back.observeProportions(1400, 2000, 1600, 2000);
    assert.ok(back.pValue < strong);
    assert.throws(() => SequentialTest.from({ tau: 0.05, minimumCount: 100, pValue: 2 }), TypeError);
    assert.throws(() => new SequentialTest(0), RangeError);
  });
});

interface Reading {
  /** The always-valid test's verdict at the first reading where it had one. */
  found: Verdict;
  /** A fixed-horizon z-test read the same way declared a winner at some reading. */
  naive: boolean;
}

/**
 * One simulated experiment on accuracy: outcomes arrive one by one, to the candidate with probability share, and
 * both tests are read after every 50; it ends at total outcomes, or once both have declared.
 */
function accuracyExperiment(random: () => number, control: number, candidate: number, share: number, total: number, tau: number): Reading {
  const test = new SequentialTest(tau);
  let [cs, cn, ts, tn] = [0, 0, 0, 0];
  let found: Verdict = 'no_difference_yet';
  let naive = false;
  for (let i = 1; i <= total; i++) {
    if (random() < share) {
      tn++;
      if (random() < candidate) ts++;
    } else {
      cn++;
      if (random() < control) cs++;
    }
    // The same burn-in for both, so that it is not what makes the difference between them.
    if (i % 50 !== 0 || Math.min(cn, tn) < test.minimumCount) continue;
    test.observeProportions(cs, cn, ts, tn);
    if (found === 'no_difference_yet') found = verdict(test.pValue, ts / tn - cs / cn, true);
    naive ||= twoProportionZTest(cs, cn, ts, tn).pValue < 0.05;
    if (naive && found !== 'no_difference_yet') break;
  }
  return { found, naive };
}

function rates(runs: readonly Reading[]): { alwaysValid: number; naive: number; control: number } {
  const share = (f: (r: Reading) => boolean) => runs.filter(f).length / runs.length;
  return { alwaysValid: share((r) => r.found !== 'no_difference_yet'), naive: share((r) => r.naive), control: share((r) => r.found === 'control_better') };
}

describe('the always-valid test, simulated (seeded)', () => {
  it('with no difference, read after every 50 outcomes, declares a winner in at most 5% of 1,000 experiments; a fixed-horizon z-test read so, in far more', () => {
    // Measured: 50/50 2.6% against 36%; 90/10 3.1% against 34%; accuracy 0.97 at 90/10 1.3% against 28%.
    const random = seeded(1);
    const cases = [
      { name: '0.70 vs 0.70, 50/50, 5,000 each', accuracy: 0.7, share: 0.5, total: 10_000 },
      { name: '0.70 vs 0.70, 90/10, 18,000 and 2,000', accuracy: 0.7, share: 0.1, total: 20_000 },
      { name: '0.97 vs 0.97, 90/10, 9,000 and 1,000', accuracy: 0.97, share: 0.1, total: 10_000 },
    ];
    for (const { name, accuracy, share, total } of cases) {
      const runs = range(1000, () => accuracyExperiment(random, accuracy, accuracy, share, total, 0.05));
      const r = rates(runs);
      assert.ok(r.alwaysValid <= 0.05, `${name}: always-valid false winners ${r.alwaysValid}`);
      assert.ok(r.naive > 0.2, `${name}: fixed-horizon false winners ${r.naive}`);
    }
  });

  it('finds a 5-point difference in accuracy (0.70 against 0.75) within 5,000 outcomes each, tuned for 2 points', () => {
    // Measured: 200 of 200 found, all for the candidate, on average after some 1,800 outcomes each.
    const random = seeded(2);
    const r = rates(range(200, () => accuracyExperiment(random, 0.7, 0.75, 0.5, 10_000, 0.02)));
    assert.ok(r.alwaysValid >= 0.9, `found in ${r.alwaysValid}`);
    assert.equal(r.control, 0);
  });

  it('with rewards (skewed: exponential, mean 1) and no difference, declares a winner in at most 5% of 1,000', () => {
    // Measured: 1.4%. tau = 0.1, the server's default for rewards: a tenth of the control's standard deviation.
    const random = seeded(3);
    let winners = 0;
    for (let e = 0; e < 1000; e++) {
      const [control, candidate] = [new Moments(), new Moments()];
      const test = new SequentialTest(0.1);
      for (let i = 1; i <= 4000 && test.pValue >= 0.05; i++) {
        (random() < 0.5 ? candidate : control).add(-Math.log(1 - random()));
        if (i % 50 === 0) test.observeMeans(control, candidate);
      }
      if (test.pValue < 0.05) winners++;
    }
    assert.ok(winners <= 50, `${winners} false winners`);
  });
});

describe('thompsonShares', () => {
  const sum = (shares: readonly number[]) => shares.reduce((s, x) => s + x, 0);

  it('favours the clearly better arm, keeps the others at the floor, and sums to 1', () => {
    const beta = thompsonShares([{ successes: 70, failures: 30 }, { successes: 90, failures: 10 }, { successes: 60, failures: 40 }], { random: seeded(4) });
    close(sum(beta), 1, 1e-12);
    assert.ok(beta[1]! >= 0.85, `${beta}`);
    for (const s of beta) assert.ok(s >= 0.05 - 1e-12, `${beta}`);
    // An error (regression): the lower mean wins.
    const random = seeded(5);
    const errors = (mean: number) => momentsOf(range(200, () => mean + 0.5 * (random() - 0.5)));
    const gaussian = thompsonShares([errors(1.2), errors(1.0)], { higherIsBetter: false, random: seeded(6), floor: 0.1 });
    close(sum(gaussian), 1, 1e-12);
    close(gaussian[0], 0.1, 1e-12);
    close(gaussian[1], 0.9, 1e-12);
  });

  it('splits evenly between equal arms, the same way for the same seed, and gives an arm with no data a chance', () => {
    const equal = thompsonShares([{ successes: 50, failures: 50 }, { successes: 50, failures: 50 }], { random: seeded(7) });
    assert.ok(Math.abs(equal[0]! - 0.5) < 0.05, `${equal}`);
    assert.deepEqual(thompsonShares([{ successes: 5, failures: 3 }, { successes: 4, failures: 4 }], { random: seeded(8) }), thompsonShares([{ successes: 5, failures: 3 }, { successes: 4, failures: 4 }], { random: seeded(8) }));
    const random = seeded(9);
    const known = momentsOf(range(100, () => random()));
    const fresh = thompsonShares([known, new Moments()], { random: seeded(10), floor: 0 });
    assert.ok(fresh[1]! > 0.3 && fresh[1]! < 0.7, `an arm with no value yet: ${fresh}`);
    assert.deepEqual(thompsonShares([new Moments(), momentsOf([1])]), [0.5, 0.5], 'nothing to compare on yet');
    assert.deepEqual(thompsonShares([{ successes: 900, failures: 100 }, { successes: 1, failures: 99 }, { successes: 0, failures: 90 }], { floor: 0.5, random: seeded(11) }).map((s) => s.toFixed(6)), ['0.333333', '0.333333', '0.333333']);
  });
});
