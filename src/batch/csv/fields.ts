/**
 * Finding where one CSV field ends, in bytes, with RFC 4180 quoting: a field that starts with a quote runs to the
 * next lone quote; a doubled quote inside it is one quote; delimiters and line ends inside it are data. A quote
 * anywhere else is an ordinary byte (lenient, as most writers and readers are), and bytes after a closing quote
 * up to the delimiter are kept, as Python's csv module does.
 *
 * Every function here knows that the bytes may stop in the middle of a field: when the data ends before the
 * field provably does and this is not the final stretch of the file, it answers INCOMPLETE and the caller retries
 * the whole row once more bytes have arrived.
 */
import type { Buffer } from 'node:buffer';

export const LF = 10;
export const CR = 13;
export const QUOTE = 34;
/** The field (or row) goes on past the bytes at hand: read more and try the row again. */
export const INCOMPLETE = -1;

/** The last field `FieldReader.read` found. */
export class FieldReader {
  /** Content, without the surrounding quotes (and without a CR before the line's LF). */
  start = 0;
  end = 0;
  /** The content came from inside quotes and holds doubled quotes to undo. */
  escaped = false;
  /** Bytes after a closing quote, before the delimiter (normally none). */
  tailStart = 0;
  tailEnd = 0;
  /** The file ended inside a quoted field. */
  unclosed = false;

  constructor(private readonly delimiter: number) {}

  /**
   * Reads the field starting at `i`. Returns the index of the byte that ends it (the delimiter or LF), `limit`
   * when the bytes ran out (the caller decides whether that is the end of the file), or INCOMPLETE.
   */
  read(b: Buffer, i: number, limit: number, final: boolean): number {
    const delimiter = this.delimiter;
    this.escaped = false;
    this.unclosed = false;
    if (i < limit && b[i] === QUOTE) {
      const close = closingQuote(b, i, limit, final);
      if (close === INCOMPLETE) return INCOMPLETE;
      this.start = i + 1;
      if (close >= limit) {
        this.end = limit;
        this.tailStart = this.tailEnd = limit;
        this.unclosed = true;
        return limit;
      }
      this.end = close;
      this.escaped = hasQuote(b, i + 1, close);
      let t = close + 1;
      while (t < limit) {
        const c = b[t];
        if (c === delimiter || c === LF) break;
        t++;
      }
      this.tailStart = close + 1;
      this.tailEnd = t < limit && b[t] === LF && t > close + 1 && b[t - 1] === CR ? t - 1 : t;
      return t;
    }
    let t = i;
    while (t < limit) {
      const c = b[t];
      if (c === delimiter || c === LF) break;
      t++;
    }
    this.start = i;
    this.end = t > i && b[t - 1] === CR && (t < limit ? b[t] === LF : final) ? t - 1 : t;
    this.tailStart = this.tailEnd = t;
    return t;
  }

  /** The field's text, unquoted. */
  text(b: Buffer): string {
    let s = this.end > this.start ? b.toString('utf8', this.start, this.end) : '';
    if (this.escaped) s = s.replaceAll('""', '"');
    if (this.tailEnd > this.tailStart) s += b.toString('utf8', this.tailStart, this.tailEnd);
    return s;
  }
}

/**
 * Skips the field starting at `i` without looking at its content: returns the index of the byte that ends it,
 * `limit` when the bytes ran out, or INCOMPLETE. Needs a line feed at `b[limit]` (the scanner's sentinel).
 */
export function skipField(b: Buffer, i: number, limit: number, final: boolean, delimiter: number): number {
  let t = i;
  let c = b[t];
  if (c === QUOTE && t < limit) {
    t = closingQuote(b, t, limit, final);
    if (t === INCOMPLETE || t >= limit) return t;
    c = b[++t];
  }
  while (c !== delimiter && c !== LF) c = b[++t];
  return t;
}

/**
 * The index of the quote that closes the quoted field opening at `open`; `limit` when the file ends inside it
 * (only when `final`); INCOMPLETE when more bytes are needed to tell (including a quote that is the last byte at
 * hand, which may be the first half of a doubled quote).
 */
function closingQuote(b: Buffer, open: number, limit: number, final: boolean): number {
  let q = open + 1;
  for (;;) {
    while (q < limit && b[q] !== QUOTE) q++;
    if (q >= limit) return final ? limit : INCOMPLETE;
    if (q + 1 >= limit) return final ? q : INCOMPLETE;
    if (b[q + 1] !== QUOTE) return q;
    q += 2;
  }
}

function hasQuote(b: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (b[i] === QUOTE) return true;
  return false;
}

/**
 * Reads one whole row as text (the header). Returns the fields and the index just past the row's line end, or
 * undefined when the row goes on past the bytes at hand and this is not the final stretch.
 */
export function readTextRow(
  b: Buffer,
  i: number,
  limit: number,
  final: boolean,
  delimiter: number,
): { fields: string[]; next: number } | undefined {
  const reader = new FieldReader(delimiter);
  const fields: string[] = [];
  for (;;) {
    const t = reader.read(b, i, limit, final);
    if (t === INCOMPLETE || (t >= limit && !final)) return undefined;
    fields.push(reader.text(b));
    if (t >= limit) return { fields, next: limit };
    if (b[t] === LF) return { fields, next: t + 1 };
    i = t + 1;
  }
}
