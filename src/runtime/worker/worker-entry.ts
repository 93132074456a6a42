/**
 * The program an inference worker runs, as a worker thread or as a child process: it loads the model with the
 * same runtime factory table the main thread uses (any model file) and answers run requests one at a time.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { isFerryError, messageOf } from '../../errors.js';
import type { ModelRuntime } from '../runtime.js';
import { loadModelFile } from '../model-files.js';
import type { FromWorker, ToWorker } from './messages.js';

function send(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  if (parentPort) parentPort.postMessage(message, transfer);
  else process.send!(message);
}

let runtime: ModelRuntime | undefined;

async function handle(message: ToWorker): Promise<void> {
  switch (message.type) {
    case 'load': {
      try {
        // Before the session exists: onnxruntime's pool threads are created by this thread and inherit its niceness.
        const niceWarning = message.nice > 0 ? lowerThisThreadsPriority(message.nice) : undefined;
        const loaded = await loadModelFile(message.file, { session: message.session, parameters: message.parameters });
        if (niceWarning) loaded.warnings.push(niceWarning);
        runtime = loaded.runtime;
        send({
          type: 'loaded',
          platform: runtime.platform,
          inputs: [...runtime.inputs],
          outputs: [...runtime.outputs],
          labels: [...runtime.labels.entries()].map(([k, v]) => [k, [...v]]),
          notes: loaded.notes,
          warnings: loaded.warnings,
        });
      } catch (e) {
        send({ type: 'load-failed', message: messageOf(e) });
      }
      return;
    }
    case 'run': {
      try {
        const outputs = await runtime!.run(message.inputs, message.outputNames);
        // Outputs are fresh arrays owned by this run: move them to the server instead of copying (threads only).
        const transfer: ArrayBuffer[] = [];
        for (const t of outputs) {
          const d = t.data;
          if (!Array.isArray(d) && d.byteOffset === 0 && d.byteLength === d.buffer.byteLength) transfer.push(d.buffer as ArrayBuffer);
        }
        send({ type: 'result', id: message.id, outputs }, transfer);
      } catch (e) {
        send({ type: 'error', id: message.id, code: isFerryError(e) ? e.code : 'INTERNAL', message: messageOf(e) });
      }
      return;
    }
    case 'release':
      await runtime?.release();
      runtime = undefined;
      send({ type: 'released' });
      process.exit(0);
  }
}

/**
 * Raises this thread's niceness (Linux: niceness is per thread, and setpriority() takes a thread id). Other systems
 * have no /proc/thread-self: the worker then runs at normal priority and the log says so.
 */
function lowerThisThreadsPriority(nice: number): string | undefined {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    setPriority(tid, nice);
    return undefined;
  } catch (e) {
    return `worker_nice ${nice} not applied (${messageOf(e)}): the worker runs at normal priority`;
  }
}

if (parentPort) parentPort.on('message', (m: ToWorker) => void handle(m));
else {
  process.on('message', (m: ToWorker) => void handle(m));
  // The server went away: nothing is left to answer.
  process.on('disconnect', () => process.exit(0));
}
