/**
 * What the JSON Lines and CSV writers share: the layout check, the resumable file, and building the text of many
 * rows at once. Each format supplies how one stretch of rows is spelled.
 */
import type { ScoredBatch, Writer, WriterOptions, WriterState } from '../types.js';
import { ByteSink } from './byte-sink.js';
import { checkBatch, makeLayout, type Layout, type OutputData } from './layout.js';
import { ResumableTextFile } from './resumable-file.js';
import { Serial } from './serial.js';
import { cellFormatter, type CellFormatter, type Flavor } from './text-cells.js';

/** Rows turned into one string at a time: bounds the memory a very large batch takes while it is formatted. */
const ROWS_PER_STRING = 4096;

export interface TextFormat {
  /** The state's format tag, e.g. 'jsonl'. */
  readonly name: string;
  readonly flavor: Flavor;
  /** Text written once at the top of a new file (CSV's header line). */
  header?(layout: Layout): string;
  /** Returns a function that spells rows [start, end) of a batch: ids and one cell formatter per output. */
  rowsFormatter(layout: Layout, options: WriterOptions): (ids: readonly string[], cells: readonly CellFormatter[], start: number, end: number) => string;
  /**
   * Optional, and used instead of rowsFormatter when given: spells rows [start, end) straight into bytes. Must
   * write exactly the bytes of rowsFormatter's text in UTF-8.
   */
  rowsEncoder?(layout: Layout, options: WriterOptions): (ids: readonly string[], outs: readonly OutputData[], start: number, end: number, sink: ByteSink) => void;
}

/** Starting size of the byte buffer of an encoding writer; it grows to what a stretch of rows needs. */
const SINK_BYTES = 1 << 20;

export async function openTextWriter(path: string, format: TextFormat, options: WriterOptions): Promise<Writer> {
  const layout = makeLayout(options);
  const spell = format.rowsFormatter(layout, options);
  const encode = format.rowsEncoder?.(layout, options);
  const sink = encode === undefined ? undefined : new ByteSink(SINK_BYTES);
  const file = await ResumableTextFile.open(path, format.name, options.resume);
  if (format.header !== undefined && file.isEmpty) await file.append(format.header(layout), 0);
  const serial = new Serial(`${format.name} writer for ${path}`);

  return {
    write(batch: ScoredBatch): Promise<void> {
      // Checked before anything is queued: a bad batch is refused and leaves the writer usable.
      let outs: OutputData[];
      try {
        outs = checkBatch(layout, batch);
      } catch (e) {
        return Promise.reject(e);
      }
      if (encode !== undefined && sink !== undefined) {
        return serial.run(async () => {
          const n = batch.ids.length;
          for (let start = 0; start < n; start += ROWS_PER_STRING) {
            const end = Math.min(n, start + ROWS_PER_STRING);
            encode(batch.ids, outs, start, end, sink);
            await file.append(sink.take(), end - start);
          }
        });
      }
      const cells: CellFormatter[] = outs.map((out) => cellFormatter(out, format.flavor));
      return serial.run(async () => {
        const n = batch.ids.length;
        for (let start = 0; start < n; start += ROWS_PER_STRING) {
          const end = Math.min(n, start + ROWS_PER_STRING);
          await file.append(spell(batch.ids, cells, start, end), end - start);
        }
      });
    },
    commit(): Promise<WriterState> {
      return serial.run(() => file.commit());
    },
    close(): Promise<void> {
      return serial.close(async () => {
        await file.close();
      });
    },
    async release(): Promise<void> {
      await serial.idle();
      await file.release();
    },
  };
}
