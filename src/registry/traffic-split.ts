/**
 * A model's traffic split (config.yaml `traffic`): which variant answers a request that names no version. By weight,
 * at random; or, with a sticky key (a request parameter or a header, a user id say), always the same variant for the
 * same key, by weighted rendezvous hashing: each variant scores the key, the highest score wins. Changing a weight then
 * moves few keys: no key leaves a variant that gained weight or joins one that lost it; with two variants (a canary
 * growing from 10% to 20%) exactly the keys that must move do, and no others; with three, measured, 22% of keys move
 * where 20% must (test/registry/traffic-split.test.ts). No state is kept: every server process agrees.
 */
import { variantName, type TrafficConfig } from '../config/model-config.js';

export interface Variant {
  /** Said in X-Ferry-Variant and the metrics. */
  readonly name: string;
  /** Another model answers (its default version), or a version of this model. */
  readonly model: string | undefined;
  readonly version: number | undefined;
  readonly weight: number;
}

/** Where a request's routing key is read, when the split is sticky. */
export interface RoutingKeySource {
  readonly parameters?: Readonly<Record<string, unknown>>;
  readonly headers?: Readonly<Record<string, string | string[] | undefined>>;
}

export class TrafficSplit {
  variants: readonly Variant[];
  private cumulative: number[] = [];
  private total = 0;
  private readonly parameter: string | undefined;
  private readonly header: string | undefined;

  constructor(config: TrafficConfig) {
    this.variants = config.variants.map((v) => ({
      name: variantName(v),
      model: v.model,
      version: v.version,
      weight: v.weight,
    }));
    this.sumWeights();
    this.parameter = config.sticky?.parameter;
    this.header = config.sticky?.header?.toLowerCase();
  }

  /**
   * New weights by variant name (Thompson allocation); variants not named keep theirs. Sticky keys move as a weight
   * change moves them: as few as the new shares allow.
   */
  setWeights(weights: ReadonlyMap<string, number>): void {
    this.variants = this.variants.map((v) => ({ ...v, weight: weights.get(v.name) ?? v.weight }));
    this.sumWeights();
  }

  private sumWeights(): void {
    let sum = 0;
    this.cumulative = this.variants.map((v) => (sum += v.weight));
    this.total = sum;
  }

  get sticky(): boolean {
    return this.parameter !== undefined || this.header !== undefined;
  }

  /** The control: the first variant, where a request goes when the one chosen cannot answer. */
  get control(): Variant {
    return this.variants[0] as Variant;
  }

  /** The routing key of a request, when the split is sticky and the request carries one. */
  keyOf(request: RoutingKeySource): string | undefined {
    if (this.parameter !== undefined) {
      const v = request.parameters?.[this.parameter];
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint') return String(v);
    }
    if (this.header !== undefined) {
      const h = request.headers?.[this.header];
      if (typeof h === 'string' && h !== '') return h;
      if (Array.isArray(h) && h[0]) return h[0];
    }
    return undefined;
  }

  /** The variant for a key (undefined: at random, by weight). */
  choose(key: string | undefined): Variant {
    if (key === undefined) {
      const x = Math.random() * this.total;
      for (let i = 0; i < this.cumulative.length; i++) if (x < (this.cumulative[i] as number)) return this.variants[i] as Variant;
      return this.variants[this.variants.length - 1] as Variant;
    }
    let best = this.control;
    let bestScore = -1;
    for (const v of this.variants) {
      if (v.weight <= 0) continue;
      // Weighted rendezvous: weight / -ln(u), u uniform in (0, 1) from the key and the variant's name.
      const u = (hash32(`${key}\u0000${v.name}`) + 0.5) / 4294967296;
      const score = v.weight / -Math.log(u);
      if (score > bestScore) {
        bestScore = score;
        best = v;
      }
    }
    return best;
  }
}

/** FNV-1a over UTF-16 code units, then murmur3's finalizer so that nearby keys spread over the whole range. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
