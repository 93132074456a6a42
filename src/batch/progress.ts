/** The progress line of `ferry batch` (rows done, rows/s, ETA, a bar) and its final summary. */
import type { JobProgress, JobSummary } from './job.js';

const WIDTH = 24;

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');

/**
 * The fraction done comes from bytes (text files), or from rows where the source has no byte offsets but knows its
 * row count (Parquet). A query's row count is unknown until it is read through: then there is no bar and no ETA.
 */
export function progressLine(p: JobProgress, startBytes: number, startRows: number): string {
  const seconds = p.elapsedMs / 1000;
  const rate = (p.counts.consumed - startRows) / Math.max(seconds, 1e-3);
  const tail = `${int(p.counts.consumed)} rows  ${int(rate)} rows/s`;
  const rejected = `rejected ${int(p.counts.rejected)}`;
  let fraction: number;
  let eta: number;
  if (p.inputSize > 0) {
    fraction = Math.min(1, p.inputBytes / p.inputSize);
    const bytesRate = (p.inputBytes - startBytes) / Math.max(seconds, 1e-3);
    eta = bytesRate > 0 ? (p.inputSize - p.inputBytes) / bytesRate : Infinity;
  } else if (p.inputRows !== undefined && p.inputRows > 0) {
    fraction = Math.min(1, p.counts.consumed / p.inputRows);
    eta = rate > 0 ? (p.inputRows - p.counts.consumed) / rate : Infinity;
  } else {
    return `${tail}  ${rejected}`;
  }
  const filled = Math.round(fraction * WIDTH);
  return `[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${(fraction * 100).toFixed(1)}%  ${tail}  ETA ${duration(eta)}  ${rejected}`;
}

/** Writes progress to stderr at most every `everyMs`: one rewritten line on a terminal, nothing otherwise. */
export function progressPrinter(everyMs = 250): { update: (p: JobProgress) => void; done: () => void } {
  const tty = process.stderr.isTTY;
  let last = 0;
  let start: { bytes: number; rows: number } | undefined;
  let shown = false;
  return {
    update(p) {
      start ??= { bytes: p.inputBytes, rows: p.counts.consumed };
      if (!tty || p.elapsedMs - last < everyMs) return;
      last = p.elapsedMs;
      shown = true;
      process.stderr.write(`\r${progressLine(p, start.bytes, start.rows)}\x1b[K`);
    },
    done() {
      if (shown) process.stderr.write('\n');
    },
  };
}

/** A job's time: 0.042 as "42 ms", 3.14159 as "3.1 s", 754 as "12 min 34 s". */
export function elapsed(seconds: number): string {
  if (seconds < 1) return `${Math.max(1, Math.round(seconds * 1000))} ms`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

export function summaryText(s: JobSummary): string {
  const lines = [
    `scored ${int(s.scored)} rows with model '${s.model}' version ${s.modelVersion} into ${s.output}`,
    `rows in ${int(s.consumed)}, scored ${int(s.scored)}, rejected ${int(s.rejected)}${s.rejected > 0 ? ` (see ${s.rejectsFile})` : ''}`,
    `${elapsed(s.seconds)}, ${int(s.rowsPerSecond)} rows/s${s.resumedFrom !== undefined ? ` (resumed at row ${int(s.resumedFrom)})` : ''}`,
  ];
  if (!s.finished) lines.push(`stopped before the end: the checkpoint is kept, and the same command resumes after row ${int(s.consumed)}`);
  return lines.join('\n');
}
