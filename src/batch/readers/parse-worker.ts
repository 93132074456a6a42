/**
 * The reader's side of a parse worker: starts csv-worker.ts in a worker thread and turns what it posts back into
 * an async iterable of batches. Parsing then overlaps with whatever the caller does with each batch (scoring,
 * writing) on its own thread. Ending the thread early is safe: it only reads a file and parses.
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { FerryError, internal } from '../../errors.js';
import type { RowBatch } from '../types.js';
import type { FromParseWorker, ToParseWorker } from './worker-messages.js';

/** The entry next to this module: .ts under tsx (tests, development), .js when built. */
const ENTRY = new URL(`./csv-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

function startThread(): Worker {
  return ENTRY.pathname.endsWith('.ts')
    ? // Under tsx a worker thread does not inherit the TypeScript loader: register it first.
      new Worker(
        `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(ENTRY.href)}); });`,
        { eval: true },
      )
    : new Worker(ENTRY);
}

export class ParseWorker {
  private readonly worker: Worker;
  private readonly inbox: FromParseWorker[] = [];
  private waiting: (() => void) | undefined;
  private ended = false;

  constructor(start: Extract<ToParseWorker, { type: 'start' }>) {
    this.worker = startThread();
    this.worker.on('message', (m: FromParseWorker) => this.receive(m));
    this.worker.on('error', (e) => this.receive({ type: 'error', code: 'INTERNAL', message: `the CSV parse worker failed: ${e.message}` }));
    this.worker.on('exit', (code) => this.receive({ type: 'error', code: 'INTERNAL', message: `the CSV parse worker exited (code ${code})` }));
    this.worker.postMessage(start);
  }

  private receive(m: FromParseWorker): void {
    if (this.ended) return;
    this.inbox.push(m);
    if (m.type !== 'batch') this.ended = true;
    this.waiting?.();
  }

  async *batches(): AsyncGenerator<RowBatch> {
    try {
      for (;;) {
        while (this.inbox.length === 0) await new Promise<void>((resolve) => (this.waiting = resolve));
        this.waiting = undefined;
        const m = this.inbox.shift() as FromParseWorker;
        if (m.type === 'done') return;
        if (m.type === 'error') throw m.code === 'INTERNAL' ? internal(m.message) : new FerryError(m.code, m.message);
        this.worker.postMessage({ type: 'more' } satisfies ToParseWorker);
        yield m.batch;
      }
    } finally {
      await this.stop();
    }
  }

  async stop(): Promise<void> {
    this.ended = true;
    await this.worker.terminate();
  }
}
