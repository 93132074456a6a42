/**
 * Records (a row whose values are already typed: a JSON object, a Parquet row, a PostgreSQL row) to good rows in a
 * RowStore or to rejects. Shared by the JSON Lines, Parquet and PostgreSQL readers so that the same bad value is
 * refused with the same reason whatever the source: "column 'x' is null", "column 'x': "abc" is not a number".
 *
 * A value may be a number, a bigint (64-bit integers from DuckDB), a string (PostgreSQL's numeric and bigint come as
 * text, and are parsed as CSV parses a field), a boolean, null, or an array (nested arrays are flattened) that fills
 * as many elements of its input as it holds.
 */
import { integerReason, parseBool, parseNumberText, quote } from '../csv/index.js';
import type { InputLayout, InputPlan, RowStore } from './input-plan.js';

/** A record: values by column name (JSON Lines) or by column index (Parquet, PostgreSQL). */
export type SourceRecord = Readonly<Record<string, unknown>> | readonly unknown[];

export class RecordParser {
  private readonly rowTexts: string[];
  private record: SourceRecord = [];

  constructor(
    private readonly plan: InputPlan,
    private readonly store: RowStore,
  ) {
    this.rowTexts = new Array<string>(plan.textWidth).fill('');
  }

  private value(c: number): unknown {
    const r = this.record;
    return Array.isArray(r) ? r[c] : (r as Record<string, unknown>)[this.plan.header[c] as string];
  }

  /** Adds the record as a good row, or its reason as a reject. */
  add(record: SourceRecord, row: number): void {
    const { plan, store } = this;
    this.record = record;
    let id: string | undefined;
    let reason: string | undefined;
    if (plan.idColumn !== undefined) {
      const name = plan.header[plan.idColumn] as string;
      const v = this.value(plan.idColumn);
      if (typeof v === 'string' && v !== '') id = v;
      else if (typeof v === 'number' || typeof v === 'bigint') id = String(v);
      else reason = v === undefined || v === null || v === '' ? `column '${name}' (the id) is missing` : `column '${name}' (the id) is not a string or a number`;
    }
    const rowBase = store.rows * plan.width;
    for (let k = 0; k < plan.inputs.length && reason === undefined; k++) {
      reason = this.fill(plan.inputs[k] as InputLayout, rowBase);
    }
    if (reason !== undefined) {
      store.rejects.push(id === undefined ? { row, reason } : { row, id, reason });
      return;
    }
    for (const t of this.rowTexts) store.texts.push(t);
    store.ids.push(id ?? String(row));
    store.rowNumbers.push(row);
    store.rows++;
  }

  /** Fills one input's elements of this row; returns why it cannot, if it cannot. */
  private fill(input: InputLayout, rowBase: number): string | undefined {
    const { mapping, elements } = input;
    if (mapping.columns.length === 1 && !input.text && input.info.kind === 'float') {
      // The common case, {"features": [30 numbers]}: straight into the row, no copy of the values.
      const v = this.value(mapping.columns[0] as number);
      if (Array.isArray(v) && v.length === elements && this.numbersInto(v, rowBase + input.offset)) return undefined;
    }
    const values: unknown[] = [];
    for (const c of mapping.columns) {
      const v = this.value(c);
      if (v === undefined) {
        if (input.missingIsNaN) values.push(null);
        else if (input.missingIsEmpty) values.push('');
        else return `column '${this.plan.header[c] as string}' is missing`;
        continue;
      }
      if (Array.isArray(v)) flatten(v, values);
      else values.push(v);
      if (values.length > elements) break;
    }
    if (values.length !== elements) {
      const names = mapping.columns.map((c) => `'${this.plan.header[c]}'`).join(', ');
      return `input '${mapping.input}' takes ${elements} value${elements === 1 ? '' : 's'} a row, column${mapping.columns.length === 1 ? '' : 's'} ${names} hold${mapping.columns.length === 1 ? 's' : ''} ${values.length > elements ? 'more' : values.length}`;
    }
    const name = mapping.columns.length === 1 ? (this.plan.header[mapping.columns[0] as number] as string) : undefined;
    for (let j = 0; j < elements; j++) {
      const v = values[j];
      const where = name ?? (this.plan.header[mapping.columns[j] as number] as string);
      const column = name !== undefined && elements > 1 ? `${where}[${j}]` : where;
      if (input.text) {
        if (typeof v === 'string') this.rowTexts[input.offset + j] = v;
        else if (v === null && input.missingIsEmpty) this.rowTexts[input.offset + j] = ''; // a missing category or text
        else if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') this.rowTexts[input.offset + j] = String(v);
        else return `column '${column}': ${shown(v)} is not a string`;
        continue;
      }
      const x = this.number(input, column, v);
      if (typeof x === 'string') return x;
      this.store.numbers[rowBase + input.offset + j] = x;
    }
    return undefined;
  }

  /** Copies an array that holds only numbers into the numeric row; false (having written some) if it does not. */
  private numbersInto(values: readonly unknown[], at: number): boolean {
    const numbers = this.store.numbers;
    for (let j = 0; j < values.length; j++) {
      const v = values[j];
      if (typeof v !== 'number') return false;
      numbers[at + j] = v;
    }
    return true;
  }

  /** The value as a number for this input, or why it is not one. */
  private number(input: InputLayout, column: string, v: unknown): number | string {
    const { info } = input;
    if (input.missingIsNaN && (v === null || (typeof v === 'string' && v.trim() === ''))) return NaN;
    if (v === null) return `column '${column}' is null`;
    if (info.kind === 'bool') {
      if (typeof v === 'boolean') return v ? 1 : 0;
      if (v === 0 || v === 1 || v === 0n || v === 1n) return Number(v);
      const b = typeof v === 'string' ? parseBool(v) : undefined;
      return b ?? `column '${column}': ${shown(v)} is not a boolean (true, false, 1 or 0)`;
    }
    let x: number | undefined;
    if (typeof v === 'number') x = v;
    else if (typeof v === 'bigint') x = Number(v);
    else if (typeof v === 'string') {
      if (v.trim() === '') return `column '${column}' is empty`;
      x = parseNumberText(v); // "NaN", "Infinity", numbers written as strings, PostgreSQL's numeric and bigint
    }
    if (x === undefined) return `column '${column}': ${shown(v)} is not a number`;
    if (info.kind === 'int' || info.kind === 'bigint') {
      return integerReason(column, typeof v === 'string' ? v : String(v), x, info.min as number, info.max as number) ?? x;
    }
    return x;
  }
}

function flatten(values: readonly unknown[], out: unknown[]): void {
  for (const v of values) {
    if (Array.isArray(v)) flatten(v, out);
    else out.push(v);
  }
}

/** A value as it appears in a reason: strings quoted, anything else as JSON, cut short when long. */
export function shown(v: unknown): string {
  if (typeof v === 'string') return quote(v);
  if (typeof v === 'bigint') return String(v);
  const s = (v instanceof Date ? v.toISOString() : JSON.stringify(v)) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 40)}...` : s;
}
