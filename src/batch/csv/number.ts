/**
 * Decimal numbers read straight from bytes, and the text fallback for every form the byte path declines.
 *
 * The byte path takes the common shapes (optional sign, digits, optional fraction, optional exponent) and
 * answers only when its result is provably the correctly rounded double, i.e. what Number() gives:
 * - up to 2^53 of mantissa and a power of ten up to 22: Clinger's fast path (an exact integer times or over an
 *   exact power of ten is one correctly rounded IEEE operation);
 * - up to 19 significant digits (what JavaScript's and Python's repr, pandas' to_csv and numpy's "%.18e" write):
 *   the mantissa held exactly as a double-double, multiplied or divided by the power of ten with error-free
 *   transformations (Dekker), and rounded; if the result lies so close to a rounding boundary that the tiny
 *   remaining error could matter (about one number in 10^8), it declines.
 * Anything else (20+ digits, exponents past 22, quotes, spaces, "nan", "inf") goes to Number() on the field's
 * text, so the values are exactly JavaScript's whichever path took them.
 */

import { Buffer } from 'node:buffer';

/** 1e0 .. 1e22: every one of them is exact in a double. */
const POW10 = Float64Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));
const TWO_53 = 9007199254740992;
/** Far above the error of longMantissa's arithmetic (below 2^-100 relative), far below a double's rounding step. */
const MARGIN = 2 ** -80;
const SPLITTER = 134217729; // 2^27 + 1, Dekker's split

/** The rounding error of the product a * b (which is `p`): a * b = p + error exactly. */
function productError(a: number, b: number, p: number): number {
  let t = SPLITTER * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLITTER * b;
  const bh = t - (t - b);
  const bl = b - bh;
  return ah * bh - p + ah * bl + al * bh + al * bl;
}

/**
 * hi * 10^extra + lo (hi < 1e15, lo < 10^extra, extra <= 4: at most 19 digits) times 10^scale, correctly rounded;
 * NaN where that cannot be guaranteed cheaply.
 */
function longMantissa(hi: number, lo: number, extra: number, scale: number): number {
  // The mantissa, exactly, as mh + ml.
  const p10 = POW10[extra] as number;
  const p = hi * p10;
  const pe = productError(hi, p10, p);
  const s = p + lo;
  const v = s - p;
  const se = p - (s - v) + (lo - v);
  const low = pe + se; // two integers below 2^11: exact
  const mh = s + low;
  const ml = low - (mh - s);
  if (scale === 0) return mh; // s + low is the mantissa exactly, so its rounding is the correct one
  let a: number;
  let t: number;
  if (scale > 0 && scale <= 22) {
    const m = POW10[scale] as number;
    a = mh * m;
    t = productError(mh, m, a) + ml * m;
  } else if (scale < 0 && scale >= -22) {
    const d = POW10[-scale] as number;
    a = mh / d;
    const ad = a * d;
    t = (mh - ad - productError(a, d, ad) + ml) / d;
  } else {
    return NaN;
  }
  // a + t is the value to within far less than `margin`; if both ends of that interval round alike, so does it.
  const margin = Math.abs(a) * MARGIN;
  const r = a + (t + margin);
  return r === a + (t - margin) ? r : NaN;
}

/**
 * Parses numbers from bytes. The bytes must end with a sentinel that is not part of a number (the scanner puts a
 * line feed just past the bytes at hand): the loops then need no bounds checks, which is most of their cost.
 * Either method sets `end` to where the number's bytes stopped; the caller checks that this is where the field
 * ends, so "1.5x" is never taken for 1.5.
 */
export class ByteNumberParser {
  /** Where the last parse stopped (index of the first byte not part of the number). */
  end = 0;

  /**
   * The common case only: at most 2^53 of mantissa and a power of ten up to 22. NaN for anything else, including
   * numbers `parseAny` takes. Kept small (under V8's inlining limit of 460 bytecodes) so that it is inlined into
   * the scanner's loop: that alone is worth about a third of the parse time.
   */
  parse(b: Uint8Array, start: number): number {
    let i = start;
    let c = b[i] as number;
    const negative = c === 45; /* - */
    if (negative || c === 43 /* + */) c = b[++i] as number;
    let mantissa = 0;
    const intStart = i;
    while (c >= 48 && c <= 57) {
      mantissa = mantissa * 10 + (c - 48);
      c = b[++i] as number;
    }
    let scale = 0;
    if (c === 46 /* . */) {
      const fracStart = ++i;
      c = b[i] as number;
      while (c >= 48 && c <= 57) {
        mantissa = mantissa * 10 + (c - 48);
        c = b[++i] as number;
      }
      scale = fracStart - i;
      if (i - intStart === 1) return NaN; // "." alone
    } else if (i === intStart) return NaN;
    if (c === 101 /* e */ || c === 69 /* E */) {
      c = b[++i] as number;
      const expNegative = c === 45;
      if (expNegative || c === 43) c = b[++i] as number;
      let exp = 0;
      const expStart = i;
      while (c >= 48 && c <= 57 && exp < 1000) {
        exp = exp * 10 + (c - 48);
        c = b[++i] as number;
      }
      if (i === expStart || (c >= 48 && c <= 57)) return NaN;
      scale += expNegative ? -exp : exp;
    }
    // Past 2^53 the running mantissa has been rounded (it only grows, so checking once suffices).
    if (mantissa >= TWO_53) return NaN;
    this.end = i;
    let value: number;
    if (mantissa === 0 || scale === 0) value = mantissa;
    else if (scale > 0 && scale <= 22) value = mantissa * (POW10[scale] as number);
    else if (scale < 0 && scale >= -22) value = mantissa / (POW10[-scale] as number);
    else return NaN;
    return negative ? -value : value;
  }

  /**
   * Any decimal in the plain form (optional sign, digits, optional fraction, optional exponent): up to 19
   * significant digits with exact arithmetic (longMantissa), beyond that Number() on the bytes, which need no
   * further check since they were just read. NaN when the bytes at `start` are not in the plain form.
   */
  parseAny(b: Uint8Array, start: number): number {
    let i = start;
    let c = b[i] as number;
    const negative = c === 45;
    if (negative || c === 43) c = b[++i] as number;
    // The digits, leading zeros aside, as hi (the first 15) * 10^extra + lo (the rest).
    let hi = 0;
    let lo = 0;
    let extra = 0;
    let digits = 0;
    let scale = 0;
    let point = false;
    for (;; c = b[++i] as number) {
      if (c === 46 && !point) {
        point = true;
        continue;
      }
      if (c < 48 || c > 57) break;
      digits++;
      if (point) scale--;
      if (hi < 1e14) hi = hi * 10 + (c - 48);
      else if (extra < 5) {
        lo = lo * 10 + (c - 48);
        extra++;
      } else extra = 99; // 20 digits or more: leave it to Number()
    }
    if (digits === 0) {
      this.end = i;
      return NaN;
    }
    if (c === 101 || c === 69) {
      c = b[++i] as number;
      const expNegative = c === 45;
      if (expNegative || c === 43) c = b[++i] as number;
      let exp = 0;
      const expStart = i;
      for (; c >= 48 && c <= 57; c = b[++i] as number) if (exp < 100000) exp = exp * 10 + (c - 48);
      if (i === expStart) {
        this.end = i;
        return NaN;
      }
      scale += expNegative ? -exp : exp;
    }
    this.end = i;
    let value = NaN;
    if (extra === 0) {
      if (hi === 0 || scale === 0) value = hi;
      else if (scale > 0 && scale <= 22) value = hi * (POW10[scale] as number);
      else if (scale < 0 && scale >= -22) value = hi / (POW10[-scale] as number);
    } else if (extra <= 4) {
      value = longMantissa(hi, lo, extra, scale);
    }
    if (value !== value) return Number(Buffer.from(b.buffer, b.byteOffset + start, i - start).toString('latin1'));
    return negative ? -value : value;
  }
}

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const SPECIAL = /^([+-]?)(nan|inf|infinity)$/i;

/**
 * A number from a field's text, for the forms the byte path declines: surrounding spaces, long mantissas, large
 * exponents, "nan", "inf", "-Infinity" (any case). Returns undefined when the text is not a decimal number.
 * Deliberately narrower than Number(): "" , "0x1f", "1_000" and "  " are not numbers in a data file.
 */
export function parseNumberText(text: string): number | undefined {
  const t = text.trim();
  if (DECIMAL.test(t)) return Number(t);
  const special = SPECIAL.exec(t);
  if (special) {
    if ((special[2] as string).toLowerCase() === 'nan') return NaN;
    return special[1] === '-' ? -Infinity : Infinity;
  }
  return undefined;
}
