/**
 * Just enough of the Prometheus text exposition format to read one histogram: samples with labels, then a
 * histogram's cumulative buckets, sum and count, the difference between two scrapes, and its mean and quantiles
 * (interpolated within a bucket, as PromQL's histogram_quantile does).
 */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

// name, optional {labels}, value, optional timestamp
const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\S+)?\s*$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?/y;

export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = SAMPLE_LINE.exec(line);
    if (!m) continue; // a line this reader does not understand cannot be the histogram it looks for
    const value = parseValue(m[3] as string);
    if (value === undefined) continue;
    samples.push({ name: m[1] as string, labels: parseLabels(m[2] ?? ''), value });
  }
  return samples;
}

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  for (let m = LABEL.exec(text); m; m = LABEL.exec(text)) {
    labels[m[1] as string] = (m[2] as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    if (LABEL.lastIndex >= text.length) break;
  }
  return labels;
}

function parseValue(text: string): number | undefined {
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  const n = Number(text);
  return Number.isNaN(n) ? undefined : n;
}

export interface Histogram {
  /** Cumulative counts by upper bound (`le`), ascending; the last bound is Infinity. */
  readonly buckets: readonly { readonly le: number; readonly count: number }[];
  readonly sum: number;
  readonly count: number;
}

/**
 * The histogram `name` summed over every series whose labels include `match` (so a model's versions add up when
 * no version is given); undefined when no series matches.
 */
export function findHistogram(samples: readonly Sample[], name: string, match: Readonly<Record<string, string>>): Histogram | undefined {
  const matches = (labels: Readonly<Record<string, string>>) => Object.entries(match).every(([k, v]) => labels[k] === v);
  const byLe = new Map<number, number>();
  let sum = 0;
  let count = 0;
  let found = false;
  for (const s of samples) {
    if (!s.name.startsWith(name) || !matches(s.labels)) continue;
    const suffix = s.name.slice(name.length);
    if (suffix === '_bucket') {
      const le = parseValue(s.labels.le ?? '');
      if (le === undefined || Number.isNaN(le)) continue;
      byLe.set(le, (byLe.get(le) ?? 0) + s.value);
      found = true;
    } else if (suffix === '_sum') {
      sum += s.value;
      found = true;
    } else if (suffix === '_count') {
      count += s.value;
      found = true;
    }
  }
  if (!found) return undefined;
  const buckets = [...byLe].map(([le, c]) => ({ le, count: c })).sort((a, b) => a.le - b.le);
  return { buckets, sum, count };
}

/** What happened between two scrapes. A bucket missing from `before` counts from zero (a new series). */
export function histogramDelta(before: Histogram | undefined, after: Histogram): Histogram {
  if (!before) return after;
  const was = new Map(before.buckets.map((b) => [b.le, b.count]));
  return {
    buckets: after.buckets.map((b) => ({ le: b.le, count: b.count - (was.get(b.le) ?? 0) })),
    sum: after.sum - before.sum,
    count: after.count - before.count,
  };
}

export function histogramMean(h: Histogram): number | undefined {
  return h.count > 0 ? h.sum / h.count : undefined;
}

/**
 * The q-quantile (0..1) from the buckets, interpolated linearly within the bucket it falls in (the lower bound of
 * the first bucket is 0). In the +Inf bucket the answer is the highest finite bound, as in histogram_quantile.
 * `integers`: the observations are whole numbers of at least 1 (batch sizes), so a bucket (a, b] really spans
 * floor(a)+1 .. b; without this, all-ones in a bucket (0, 1] would read as a median of 0.5.
 */
export function histogramQuantile(h: Histogram, q: number, options: { integers?: boolean } = {}): number | undefined {
  const total = h.buckets.length > 0 ? (h.buckets[h.buckets.length - 1] as { count: number }).count : 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let lowerLe = 0;
  let lowerCount = 0;
  for (const b of h.buckets) {
    if (b.count >= rank) {
      if (b.le === Infinity) return lowerLe;
      const inBucket = b.count - lowerCount;
      const low = options.integers ? Math.min(Math.floor(lowerLe) + 1, b.le) : lowerLe;
      return inBucket > 0 ? low + (b.le - low) * ((rank - lowerCount) / inBucket) : b.le;
    }
    lowerLe = b.le;
    lowerCount = b.count;
  }
  return lowerLe;
}
