/**
 * The parse worker's program: runs the CSV batch loop in a worker thread and posts each batch to the reader,
 * moving (not copying) the typed arrays. It runs at most `ahead` batches ahead of what the reader took, so
 * memory stays bounded when scoring is the slower side.
 */
import { open } from 'node:fs/promises';
import { parentPort } from 'node:worker_threads';
import { isFerryError, messageOf } from '../../errors.js';
import type { RowBatch } from '../types.js';
import { csvBatches } from './csv-batches.js';
import { planInputs } from './input-plan.js';
import type { FromParseWorker, ToParseWorker } from './worker-messages.js';

function post(message: FromParseWorker, transfer: ArrayBuffer[] = []): void {
  parentPort!.postMessage(message, transfer);
}

function buffersOf(batch: RowBatch): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const t of batch.inputs) {
    const d = t.data;
    // toTensors makes a fresh array of exactly the batch's size for each input: its whole buffer can move.
    if (!Array.isArray(d) && d.byteOffset === 0 && d.byteLength === d.buffer.byteLength) out.push(d.buffer as ArrayBuffer);
  }
  return out;
}

async function run(start: Extract<ToParseWorker, { type: 'start' }>): Promise<void> {
  let credits = start.ahead;
  let wake: (() => void) | undefined;
  parentPort!.on('message', (m: ToParseWorker) => {
    if (m.type !== 'more') return;
    credits++;
    wake?.();
  });
  const { job } = start;
  const file = await open(job.path, 'r');
  try {
    const plan = planInputs(start.header, { batchSize: job.batchSize, mapColumns: () => ({ mappings: start.mappings, idColumn: start.idColumn }) }, true);
    for await (const batch of csvBatches(file, plan, job, () => false)) {
      while (credits === 0) await new Promise<void>((resolve) => (wake = resolve));
      credits--;
      post({ type: 'batch', batch }, buffersOf(batch));
    }
    post({ type: 'done' });
  } catch (e) {
    post({ type: 'error', code: isFerryError(e) ? e.code : 'INTERNAL', message: messageOf(e) });
  } finally {
    await file.close();
  }
}

if (parentPort) parentPort.once('message', (m: ToParseWorker) => void (m.type === 'start' ? run(m) : undefined));
