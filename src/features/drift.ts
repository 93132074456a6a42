/**
 * Live per-feature distributions over a sliding window of the latest rows, against what the model was trained on:
 * the population stability index of each number with a `reference` (its training bins' shares), and for every
 * feature the share of missing values, for categories the share of categories never seen in training, for texts
 * the share of tokens outside the vocabulary. Kept in ring buffers of one entry per row, updated as each request is
 * prepared (a bin search and two counter updates a feature), read when metrics are scraped.
 */
import type { FeatureConfig } from '../config/feature-config-schema.js';
import { bucketOf, MISSING, UNSEEN } from './feature-steps.js';

/** Rows kept per feature unless drift.window says. */
export const DEFAULT_DRIFT_WINDOW = 10_000;
/** Shares below this count as this in the PSI (an empty bin would make it infinite); the usual floor. */
const PSI_FLOOR = 1e-4;

export interface FeatureDriftReport {
  readonly feature: string;
  /** Rows in the window now. */
  readonly rows: number;
  readonly missingShare: number;
  /** Categories: rows whose category was never seen in training; texts: tokens outside the vocabulary. */
  readonly unseenShare?: number;
  /** Numbers with a reference: the population stability index of the window against training. */
  readonly psi?: number;
}

/** A ring of `size` small codes whose counts per code are kept as they enter and leave. */
class CountingRing {
  private readonly ring: Uint16Array;
  private next = 0;
  filled = 0;
  readonly counts: Float64Array;

  constructor(size: number, codes: number) {
    this.ring = new Uint16Array(size);
    this.counts = new Float64Array(codes);
  }

  push(code: number): void {
    if (this.filled === this.ring.length) this.counts[this.ring[this.next]!]! -= 1;
    else this.filled++;
    this.ring[this.next] = code;
    this.counts[code]! += 1;
    this.next = this.next + 1 === this.ring.length ? 0 : this.next + 1;
  }
}

interface Tracked {
  readonly name: string;
  readonly kind: 'number' | 'category' | 'text';
  readonly ring: CountingRing;
  readonly edges?: readonly number[];
  readonly shares?: readonly number[];
  /** Texts: tokens and unknown tokens per row, in rings of their own. */
  readonly tokens?: { readonly total: Float64Array; readonly unknown: Float64Array; sumTotal: number; sumUnknown: number; next: number };
}

export class DriftWindows {
  private readonly tracked: Tracked[];
  private readonly observers: ((value: number) => void)[];
  private readonly tokenObservers: ((unknown: number, total: number) => void)[];

  constructor(features: readonly FeatureConfig[], private readonly window: number) {
    this.tracked = features.map((f) => {
      const kind = f.type ?? 'number';
      const bins = f.reference ? f.reference.edges.length + 1 : 0;
      // Codes: numbers 0..bins-1 their bin (0 without a reference), then one for missing; categories SEEN, UNSEEN,
      // MISSING; texts 0 or MISSING.
      const codes = kind === 'number' ? Math.max(bins, 1) + 1 : 3;
      const t: Tracked = { name: f.name, kind, ring: new CountingRing(window, codes), ...(f.reference ? { edges: f.reference.edges, shares: normalised(f.reference.shares) } : {}) };
      if (kind === 'text') return { ...t, tokens: { total: new Float64Array(window), unknown: new Float64Array(window), sumTotal: 0, sumUnknown: 0, next: 0 } };
      return t;
    });
    this.observers = this.tracked.map((t) => {
      if (t.kind !== 'number') return (code: number) => t.ring.push(code);
      const edges = t.edges;
      const missing = missingCode(t);
      return (x: number) => t.ring.push(Number.isNaN(x) ? missing : edges ? bucketOf(edges, x) : 0);
    });
    this.tokenObservers = this.tracked.map((t) => (unknown: number, total: number) => {
      t.ring.push(unknown < 0 ? MISSING : 0);
      const k = t.tokens!;
      k.sumTotal += total - k.total[k.next]!;
      k.sumUnknown += Math.max(0, unknown) - k.unknown[k.next]!;
      k.total[k.next] = total;
      k.unknown[k.next] = Math.max(0, unknown);
      k.next = k.next + 1 === this.window ? 0 : k.next + 1;
    });
  }

  /**
   * Records one request's rows, once all its features went through: per feature and row two slots, a number's raw
   * value (NaN: missing) or a category's code (feature-steps.ts SEEN/UNSEEN/MISSING), or a text's unknown tokens
   * (-1: missing) and its tokens.
   */
  observe(seen: Float64Array, rows: number): void {
    for (let f = 0; f < this.tracked.length; f++) {
      const at = f * rows * 2;
      if (this.tracked[f]!.kind === 'text') {
        const observe = this.tokenObservers[f]!;
        for (let r = 0; r < rows; r++) observe(seen[at + r * 2]!, seen[at + r * 2 + 1]!);
      } else {
        const observe = this.observers[f]!;
        for (let r = 0; r < rows; r++) observe(seen[at + r * 2]!);
      }
    }
  }

  report(): FeatureDriftReport[] {
    return this.tracked.map((t) => {
      const rows = t.ring.filled;
      const c = t.ring.counts;
      const share = (n: number) => (rows === 0 ? 0 : n / rows);
      if (t.kind === 'category') return { feature: t.name, rows, missingShare: share(c[MISSING]!), unseenShare: share(c[UNSEEN]!) };
      if (t.kind === 'text') {
        const k = t.tokens!;
        return { feature: t.name, rows, missingShare: share(c[MISSING]!), unseenShare: k.sumTotal === 0 ? 0 : k.sumUnknown / k.sumTotal };
      }
      const bins = t.edges ? t.edges.length + 1 : 0;
      const missingShare = share(c[missingCode(t)]!);
      if (!t.shares) return { feature: t.name, rows, missingShare };
      const present = rows - c[bins]!;
      return { feature: t.name, rows, missingShare, ...(present > 0 ? { psi: psi(Array.from(c.subarray(0, bins), (n) => n / present), t.shares) } : {}) };
    });
  }
}

/** A number's code for a missing value: after its bins (one bin, 0, without a reference). */
function missingCode(t: Tracked): number {
  return t.edges ? t.edges.length + 1 : 1;
}

/** The population stability index: sum over bins of (actual - expected) * ln(actual / expected). */
export function psi(actual: readonly number[], expected: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = Math.max(actual[i]!, PSI_FLOOR);
    const e = Math.max(expected[i]!, PSI_FLOOR);
    sum += (a - e) * Math.log(a / e);
  }
  return sum;
}

function normalised(shares: readonly number[]): number[] {
  const total = shares.reduce((a, b) => a + b, 0);
  return shares.map((s) => s / total);
}
