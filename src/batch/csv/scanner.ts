/**
 * The CSV row scanner: bytes in, numbers in a Float64Array out, with no string made for a field unless its text
 * is needed (an id, a BYTES input, a reject's message, a number in an unusual form).
 *
 * Written by hand rather than taken from a library: the well-kept CSV parsers for Node (csv-parse, papaparse,
 * fast-csv) all hand back each field as a string (or a row as an array of strings), and that string per field is
 * most of the cost at millions of rows. DESIGN.md's batch-scoring measurements: a byte-level parser of this kind
 * is what reaches 3x numpy's np.loadtxt pipeline.
 *
 * Chunks: `scan` works on the bytes at hand and stops at the start of a row that goes on past them; the caller
 * keeps those bytes, appends the next chunk and calls again, so a field or row may straddle chunks freely (the
 * straddling row is parsed twice, which costs one row per chunk). A row is committed only once its line end was
 * seen, so a half-parsed row leaves nothing behind.
 */
import type { Buffer } from 'node:buffer';
import type { Reject } from '../types.js';
import { CR, FieldReader, INCOMPLETE, LF, skipField } from './fields.js';
import { ByteNumberParser, parseNumberText } from './number.js';

/** What the scanner does with each header column (plain numbers, not enums: they sit in the hot loop). */
/** Not mapped: find where it ends, look at nothing. */
export const ACTION_SKIP = 0;
/** A number parsed from the bytes into its slot (falls back to the generic path for unusual forms). */
export const ACTION_FLOAT = 1;
/** As ACTION_FLOAT, then checked to be an integer within intMin..intMax. */
export const ACTION_INT = 2;
/** Decoded to text first: an id, a BYTES input, a BOOL input, or a column that is several of these. */
export const ACTION_GENERIC = 3;

/** How a Generic column's text becomes a value in the numeric row (also used by the fallbacks). */
export const NUMERIC_NONE = 0;
export const NUMERIC_FLOAT = 1;
export const NUMERIC_INT = 2;
export const NUMERIC_BOOL = 3;

export interface CsvScanPlan {
  readonly delimiter: number;
  /** The header: names for messages; its length is the expected field count. */
  readonly names: readonly string[];
  /** Per column. */
  readonly actions: Uint8Array;
  readonly numericKinds: Uint8Array;
  /** Per column: its slot in the numeric row, or -1. */
  readonly numericSlots: Int32Array;
  /** Per column: its slot in the text row, or -1. */
  readonly textSlots: Int32Array;
  /** Per column: 1 when an empty field is a missing value (NaN) rather than a reason to reject the row. */
  readonly emptyIsNaN: Uint8Array;
  /** Per column, for Int columns. */
  readonly intMin: Float64Array;
  readonly intMax: Float64Array;
  /** Pairs (from, to) of numeric / text slots filled by copying: a column that feeds more than one element. */
  readonly numericCopies: Int32Array;
  readonly textCopies: Int32Array;
  /** The id column, or -1. */
  readonly idColumn: number;
  /** Slots per row in the numeric and the text row. */
  readonly width: number;
  readonly textWidth: number;
  readonly shard: { readonly index: number; readonly count: number };
}

/** Where good rows go: `numbers` holds `rows` rows of `width` values; `texts` rows of `textWidth` strings. */
export interface RowSink {
  numbers: Float64Array;
  readonly texts: string[];
  rows: number;
  readonly rowNumbers: number[];
  readonly ids: string[];
  readonly rejects: Reject[];
}

export class CsvScanner {
  /** Number of the next data row. */
  nextRow: number;
  /** Rows consumed (good, rejected or skipped for sharding) since `resetCounts`. */
  consumed = 0;
  /** Rows of this shard (good or rejected) since `resetCounts`. */
  taken = 0;

  private readonly numbers = new ByteNumberParser();
  private readonly field: FieldReader;
  private readonly rowTexts: string[];
  private rowId: string | undefined = undefined;
  private reason: string | undefined = undefined;

  constructor(
    private readonly plan: CsvScanPlan,
    private readonly sink: RowSink,
    firstRow: number,
  ) {
    this.nextRow = firstRow;
    this.field = new FieldReader(plan.delimiter);
    this.rowTexts = new Array<string>(plan.textWidth).fill('');
  }

  resetCounts(): void {
    this.consumed = 0;
    this.taken = 0;
  }

  /**
   * Scans rows from `pos` until `maxTaken` rows of this shard were taken or the bytes run out. Returns where it
   * stopped: the start of the next row. Below `limit` (with fewer than `maxTaken` taken) that row goes on past
   * the bytes at hand; with `final` (no more bytes will come) it always reads to `limit`.
   * `b[limit]` is overwritten: `b` must be at least one byte longer than the data.
   */
  scan(b: Buffer, pos: number, limit: number, final: boolean, maxTaken: number): number {
    const { index, count } = this.plan.shard;
    // The sentinel: a line feed just past the bytes at hand stops every unquoted loop without a bounds check.
    if (limit >= b.length) throw new RangeError('the CSV scanner needs one spare byte past the data for its sentinel');
    b[limit] = LF;
    while (pos < limit) {
      if (this.taken >= maxTaken) return pos;
      const c = b[pos];
      if (c === LF) {
        pos++; // a blank line is not a row
        continue;
      }
      if (c === CR) {
        if (pos + 1 >= limit) return final ? limit : pos;
        if (b[pos + 1] === LF) {
          pos += 2;
          continue;
        }
      }
      let next: number;
      if (count > 1 && this.nextRow % count !== index) {
        next = this.skipRow(b, pos, limit, final);
        if (next === INCOMPLETE) return pos;
        this.nextRow++;
        this.consumed++;
      } else {
        next = this.parseRow(b, pos, limit, final);
        if (next === INCOMPLETE) return pos;
      }
      pos = next;
    }
    return pos;
  }

  private skipRow(b: Buffer, i: number, limit: number, final: boolean): number {
    const delimiter = this.plan.delimiter;
    for (;;) {
      i = skipField(b, i, limit, final, delimiter);
      if (i === INCOMPLETE) return INCOMPLETE;
      if (i >= limit) return final ? limit : INCOMPLETE;
      if (b[i] === LF) return i + 1;
      i++;
    }
  }

  /** Parses one row of this shard; returns the start of the next row, or INCOMPLETE. */
  private parseRow(b: Buffer, i: number, limit: number, final: boolean): number {
    const plan = this.plan;
    const delimiter = plan.delimiter;
    const actions = plan.actions;
    const columns = actions.length;
    const slots = plan.numericSlots;
    const numbers = this.sink.numbers;
    const parser = this.numbers;
    const rowBase = this.sink.rows * plan.width;
    this.reason = undefined;
    this.rowId = undefined;
    let column = 0;
    let next: number;
    for (;;) {
      const action = column < columns ? actions[column] : ACTION_SKIP;
      let t: number;
      if (action === ACTION_FLOAT || action === ACTION_INT) {
        let v = parser.parse(b, i);
        if (v !== v) v = parser.parseAny(b, i); // 16+ digits, large exponents, or not a plain number at all
        t = parser.end;
        let ok = v === v; // NaN: not in the plain form (quoted, spaces, "nan", ...): the generic path decides
        if (t >= limit) {
          if (!final) return INCOMPLETE; // the number may go on in the next chunk
        } else if (ok) {
          const c = b[t];
          if (c === CR && t + 1 < limit && b[t + 1] === LF) t++;
          else if (c !== delimiter && c !== LF) ok = false;
        }
        if (ok) {
          if (
            action === ACTION_INT &&
            this.reason === undefined &&
            !(Number.isInteger(v) && v >= (plan.intMin[column] as number) && v <= (plan.intMax[column] as number))
          ) {
            this.field.read(b, i, limit, final);
            this.reason = this.intReason(column, this.field.text(b), v);
          }
          numbers[rowBase + (slots[column] as number)] = v;
        } else {
          t = this.generic(b, i, limit, final, column, rowBase);
          if (t === INCOMPLETE) return INCOMPLETE;
        }
      } else if (action === ACTION_SKIP) {
        t = skipField(b, i, limit, final, delimiter);
        if (t === INCOMPLETE) return INCOMPLETE;
      } else {
        t = this.generic(b, i, limit, final, column, rowBase);
        if (t === INCOMPLETE) return INCOMPLETE;
      }
      column++;
      if (t >= limit) {
        if (!final) return INCOMPLETE;
        next = limit;
        break;
      }
      if (b[t] === LF) {
        next = t + 1;
        break;
      }
      i = t + 1;
    }
    this.commit(column, rowBase);
    return next;
  }

  /** Decodes the field as text and does whatever its column needs. Returns where the field ended. */
  private generic(b: Buffer, i: number, limit: number, final: boolean, column: number, rowBase: number): number {
    const field = this.field;
    const t = field.read(b, i, limit, final);
    if (t === INCOMPLETE || (t >= limit && !final)) return INCOMPLETE;
    const plan = this.plan;
    const text = field.text(b);
    const name = plan.names[column] as string;
    if (field.unclosed && this.reason === undefined) this.reason = `column '${name}': a quote opened here is never closed`;
    const textSlot = plan.textSlots[column] as number;
    if (textSlot >= 0) this.rowTexts[textSlot] = text;
    if (column === plan.idColumn) {
      this.rowId = text;
      if (text === '' && this.reason === undefined) this.reason = `column '${name}' (the id) is empty`;
    }
    const kind = plan.numericKinds[column] ;
    if (kind === NUMERIC_NONE || this.reason !== undefined) return t;
    if (text.trim() === '') {
      if (plan.emptyIsNaN[column] === 1) this.sink.numbers[rowBase + (plan.numericSlots[column] as number)] = NaN;
      else this.reason = `column '${name}' is empty`;
      return t;
    }
    let v: number | undefined;
    if (kind === NUMERIC_BOOL) {
      v = parseBool(text);
      if (v === undefined) this.reason = `column '${name}': ${quote(text)} is not a boolean (true, false, 1 or 0)`;
    } else {
      v = parseNumberText(text);
      if (v === undefined) this.reason = `column '${name}': ${quote(text)} is not a number`;
      else if (kind === NUMERIC_INT) this.reason = this.intReason(column, text, v);
    }
    if (v !== undefined) this.sink.numbers[rowBase + (plan.numericSlots[column] as number)] = v;
    return t;
  }

  private intReason(column: number, text: string, v: number): string | undefined {
    const plan = this.plan;
    return integerReason(plan.names[column] as string, text, v, plan.intMin[column] as number, plan.intMax[column] as number);
  }

  private commit(fields: number, rowBase: number): void {
    const plan = this.plan;
    const sink = this.sink;
    const row = this.nextRow++;
    this.consumed++;
    this.taken++;
    const expected = plan.names.length;
    if (fields !== expected) this.reason = `${fields} field${fields === 1 ? '' : 's'}, the header has ${expected}`;
    if (this.reason !== undefined) {
      sink.rejects.push(this.rowId === undefined ? { row, reason: this.reason } : { row, id: this.rowId, reason: this.reason });
      return;
    }
    const copies = plan.numericCopies;
    for (let k = 0; k < copies.length; k += 2) {
      sink.numbers[rowBase + (copies[k + 1] as number)] = sink.numbers[rowBase + (copies[k] as number)] as number;
    }
    const texts = this.rowTexts;
    const textCopies = plan.textCopies;
    for (let k = 0; k < textCopies.length; k += 2) texts[textCopies[k + 1] as number] = texts[textCopies[k] as number] as string;
    for (let k = 0; k < texts.length; k++) sink.texts.push(texts[k] as string);
    sink.ids.push(this.rowId ?? String(row));
    sink.rowNumbers.push(row);
    sink.rows++;
  }
}

/** true/false (any case) or 1/0, surrounding spaces allowed. */
export function parseBool(text: string): 1 | 0 | undefined {
  const t = text.trim().toLowerCase();
  if (t === 'true' || t === '1') return 1;
  if (t === 'false' || t === '0') return 0;
  return undefined;
}

/** Why `v` (read from `text`) does not fit an integer input taking min..max, or undefined when it does. */
export function integerReason(name: string, text: string, v: number, min: number, max: number): string | undefined {
  if (!Number.isInteger(v)) return `column '${name}': ${quote(text)} is not an integer`;
  if (v < min || v > max) return `column '${name}': ${quote(text)} is out of range (${min} to ${max})`;
  return undefined;
}

/** A value as it appears in a reject's reason: JSON-quoted, cut short when long. */
export function quote(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}...` : text);
}
