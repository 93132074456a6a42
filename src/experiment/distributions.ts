/**
 * The normal and Student t distributions: survival functions and quantiles, written here rather than taken from
 * @stdlib, whose packages for them bring some 300 more into the install, where these take a hundred and fifty lines
 * and agree with scipy to about 1e-12 (test/experiment/statistics.test.ts).
 */
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
