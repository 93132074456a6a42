/** The byte-level CSV parser behind `ferry batch`'s CSV reader (see scanner.ts for why it is written by hand). */
export { ByteNumberParser, parseNumberText } from './number.js';
export { FieldReader, INCOMPLETE, readTextRow, skipField } from './fields.js';
export {
  ACTION_FLOAT,
  ACTION_GENERIC,
  ACTION_INT,
  ACTION_SKIP,
  CsvScanner,
  integerReason,
  NUMERIC_BOOL,
  NUMERIC_FLOAT,
  NUMERIC_INT,
  NUMERIC_NONE,
  parseBool,
  quote,
} from './scanner.js';
export type { CsvScanPlan, RowSink } from './scanner.js';
