/**
 * One feature's transforms, compiled once at load into a closure that writes a row's columns: constants bound,
 * lookups in Maps, no branching on the config per row. What each option means is scikit-learn's (StandardScaler,
 * MinMaxScaler, KBinsDiscretizer's inner edges, OneHotEncoder and OrdinalEncoder with their unknown-category
 * handling, SimpleImputer's statistics), so a fitted pipeline's numbers carry over as they are (test/features
 * checks each against scikit-learn itself).
 */
import { invalid } from '../errors.js';
import type { FeatureConfig, MissingPolicy } from '../config/feature-config-schema.js';

/** What a feature's row turned out to be, for drift: a number's value, or a category's verdict. */
export const SEEN = 0;
export const UNSEEN = 1;
export const MISSING = 2;

/** Writes row `r` of a number or category column into `out` from `at`; returns a drift code or value. */
export type ColumnWriter = (value: number | string, r: number, out: Float32Array | Float64Array, at: number) => number;

export interface CompiledColumns {
  readonly width: number;
  readonly write: ColumnWriter;
}

function missingError(f: FeatureConfig, r: number): never {
  throw invalid(`row ${r}: feature '${f.name}' is missing (its config says missing: reject; give it missing: {default: value} to fill it in)`);
}

/** The replacement for a missing value, or undefined when a missing value is refused. */
function replacementOf(missing: MissingPolicy | undefined): number | string | undefined {
  if (missing === undefined || missing === 'reject' || missing === 'unknown') return undefined;
  return Object.values(missing)[0] as number | string;
}

export function numberColumns(f: FeatureConfig): CompiledColumns {
  const replace = replacementOf(f.missing);
  const fill = replace === undefined ? undefined : Number(replace);
  if (fill !== undefined && !Number.isFinite(fill)) throw new Error(`feature '${f.name}': missing value ${JSON.stringify(replace)} is not a number`);
  const [lo, hi] = f.clip ?? [-Infinity, Infinity];
  const clip = f.clip !== undefined;
  const log = f.log ? Math.log : f.log1p ? Math.log1p : undefined;
  const logName = f.log ? 'log' : 'log1p';
  const logFloor = f.log ? 0 : -1;
  const shift = f.standard?.mean ?? f.min_max?.min ?? 0;
  const scale = f.standard?.scale ?? (f.min_max ? f.min_max.max - f.min_max.min : 1);
  const edges = f.bucketize?.edges;
  const oneHotBuckets = f.bucketize?.encode === 'one_hot';
  const value = (x: number, r: number): number => {
    if (Number.isNaN(x)) x = fill ?? missingError(f, r);
    if (clip) x = x < lo ? lo : x > hi ? hi : x;
    if (log !== undefined) {
      if (!(x > logFloor)) throw invalid(`row ${r}: feature '${f.name}' is ${x}, and ${logName} needs a value above ${logFloor} (clip it in the config)`);
      x = log(x);
    }
    return x;
  };
  if (edges) {
    const width = oneHotBuckets ? edges.length + 1 : 1;
    return {
      width,
      write: (v, r, out, at) => {
        const x = v as number;
        const bin = bucketOf(edges, value(x, r));
        if (oneHotBuckets) out[at + bin] = 1;
        else out[at] = bin;
        return x;
      },
    };
  }
  return {
    width: 1,
    write: (v, r, out, at) => {
      const x = v as number;
      out[at] = (value(x, r) - shift) / scale;
      return x;
    },
  };
}

/** The bin of `x`: how many edges are at or below it (KBinsDiscretizer's and numpy.digitize's right-open bins). */
export function bucketOf(edges: readonly number[], x: number): number {
  let low = 0;
  let high = edges.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (edges[mid]! <= x) low = mid + 1;
    else high = mid;
  }
  return low;
}

export function categoryColumns(f: FeatureConfig): CompiledColumns {
  const encoding = (f.one_hot ?? f.ordinal)!;
  const vocabulary = encoding.vocabulary.map(String);
  const index = new Map(vocabulary.map((v, i) => [v, i]));
  const unknown = encoding.unknown ?? 'error';
  const replace = replacementOf(f.missing);
  const fill = replace === undefined ? undefined : String(replace);
  const treatAsUnknown = f.missing === 'unknown';
  const size = vocabulary.length;
  // A fill-in value that every missing row would then be refused for is refused at load instead.
  if (fill !== undefined && !index.has(fill) && unknown === 'error') {
    throw new Error(`feature '${f.name}': its missing value ${JSON.stringify(fill)} is not in its vocabulary, and unknown categories are refused (unknown: error)`);
  }
  const lookup = (v: string, r: number): number | undefined => {
    const i = index.get(v);
    if (i === undefined && unknown === 'error') {
      const known = vocabulary.length > 12 ? `${vocabulary.slice(0, 12).join(', ')}, ...` : vocabulary.join(', ');
      throw invalid(`row ${r}: feature '${f.name}' has the unknown category ${JSON.stringify(v)} (known: ${known}; set unknown: ignore or bucket to accept it)`);
    }
    return i;
  };
  const resolve = (v: string, r: number): [number | undefined, number] => {
    if (v !== '') return [lookup(v, r), SEEN];
    if (fill !== undefined) return [lookup(fill, r), MISSING];
    if (!treatAsUnknown) missingError(f, r);
    if (unknown === 'error') throw invalid(`row ${r}: feature '${f.name}' is missing, which its config treats as an unknown category, and unknown categories are refused (unknown: error)`);
    return [undefined, MISSING];
  };
  if (f.one_hot) {
    return {
      width: unknown === 'bucket' ? size + 1 : size,
      write: (v, r, out, at) => {
        const [i, how] = resolve(v as string, r);
        if (i !== undefined) out[at + i] = 1;
        else if (unknown === 'bucket') out[at + size] = 1;
        return i === undefined && how === SEEN ? UNSEEN : how;
      },
    };
  }
  return {
    width: 1,
    write: (v, r, out, at) => {
      const [i, how] = resolve(v as string, r);
      out[at] = i ?? (unknown === 'bucket' ? size : -1);
      return i === undefined && how === SEEN ? UNSEEN : how;
    },
  };
}

/** A text feature: its tokens' ids, padded or cut to `length`. */
export interface CompiledTokens {
  readonly length: number;
  /** Writes row r's ids into `out` from `at`; returns [unknown tokens, tokens], for drift ([-1, 0] when missing). */
  write(text: string, r: number, out: BigInt64Array | Int32Array, at: number): readonly [number, number];
}

export function textTokens(f: FeatureConfig): CompiledTokens {
  const t = f.tokens!;
  const index = new Map(t.vocabulary.map((v, i) => [String(v), i]));
  const pattern = new RegExp(t.pattern ?? '\\w+', 'g');
  const lower = t.lowercase ?? true;
  const pad = t.pad_id ?? 0;
  const unknownId = t.unknown_id;
  const length = t.length;
  const replace = replacementOf(f.missing);
  const fill = replace === undefined ? undefined : String(replace);
  return {
    length,
    write(text, r, out, at) {
      let missing = false;
      if (text === '') {
        missing = true;
        if (fill !== undefined) text = fill;
        else if (f.missing !== 'unknown') missingError(f, r);
      }
      const big = out instanceof BigInt64Array;
      let n = 0;
      let tokens = 0;
      let unknown = 0;
      for (const m of (lower ? text.toLowerCase() : text).matchAll(pattern)) {
        tokens++;
        let id = index.get(m[0]);
        if (id === undefined) {
          unknown++;
          if (unknownId === undefined) continue;
          id = unknownId;
        }
        if (n < length) {
          if (big) (out as BigInt64Array)[at + n] = BigInt(id);
          else (out as Int32Array)[at + n] = id;
          n++;
        }
      }
      for (; n < length; n++) {
        if (big) (out as BigInt64Array)[at + n] = BigInt(pad);
        else (out as Int32Array)[at + n] = pad;
      }
      return missing ? [-1, 0] : [unknown, tokens];
    },
  };
}
