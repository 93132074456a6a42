/**
 * Model management in a cluster (`--processes N`): the primary serves the management port and asks every server
 * process to carry out each load and unload (each holds its own models), answering once all have; the index comes
 * from one of them. Loads and unloads that succeeded are replayed, in order, to a server process started later (a
 * replacement for one that died), once it has loaded, so every process serves the same models.
 */
import type { Worker } from 'node:cluster';
import { FerryError, type ErrorCode } from './errors.js';
import type { ControlOutcome, ModelManagement, PromoteOutcome } from './core/model-control.js';
import type { IndexEntry } from './registry/registry.js';

type Action =
  | { readonly action: 'index'; readonly readyOnly: boolean }
  | { readonly action: 'load'; readonly name: string; readonly config?: unknown }
  | { readonly action: 'unload'; readonly name: string }
  | { readonly action: 'promote'; readonly name: string; readonly variant: string };

export type ManagementMessage =
  | { type: 'ferry:manage'; id: number; request: Action }
  | { type: 'ferry:managed'; id: number; ok: true; value: unknown }
  | { type: 'ferry:managed'; id: number; ok: false; code: ErrorCode; message: string }
  | { type: 'ferry:loaded' };

/** In the primary: forwards management actions to the server processes. */
export class ClusterManagement implements ModelManagement {
  private nextId = 0;
  private readonly waiting = new Map<number, (m: Extract<ManagementMessage, { type: 'ferry:managed' }>) => void>();
  /** Successful loads and unloads, by model, in the order they happened: what a new process must catch up on. */
  private readonly history = new Map<string, Extract<Action, { action: 'load' | 'unload' }>>();
  private readonly loadedWorkers = new Set<Worker>();

  /** Listens to a newly forked server process. */
  watch(worker: Worker): void {
    worker.on('message', (m: ManagementMessage) => {
      if (m?.type === 'ferry:managed') {
        this.waiting.get(m.id)?.(m);
        this.waiting.delete(m.id);
      } else if (m?.type === 'ferry:loaded') {
        this.loadedWorkers.add(worker);
        void this.replay(worker);
      }
    });
    worker.once('exit', () => this.loadedWorkers.delete(worker));
  }

  async index(readyOnly = false): Promise<IndexEntry[]> {
    const worker = [...this.loadedWorkers][0];
    if (!worker) throw new FerryError('UNAVAILABLE', 'no server process has finished loading yet');
    return (await this.ask(worker, { action: 'index', readyOnly })) as IndexEntry[];
  }

  load(name: string, config?: unknown): Promise<ControlOutcome> {
    return this.everywhere(config === undefined ? { action: 'load', name } : { action: 'load', name, config });
  }

  unload(name: string): Promise<ControlOutcome> {
    return this.everywhere({ action: 'unload', name });
  }

  async promote(name: string, variant: string): Promise<PromoteOutcome> {
    return (await this.everywhere({ action: 'promote', name, variant })) as PromoteOutcome;
  }

  private async everywhere(request: Extract<Action, { action: 'load' | 'unload' | 'promote' }>): Promise<ControlOutcome> {
    const workers = [...this.loadedWorkers];
    if (workers.length === 0) throw new FerryError('UNAVAILABLE', 'no server process has finished loading yet');
    const results = await Promise.allSettled(workers.map((w) => this.ask(w, request)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    const done = results.find((r): r is PromiseFulfilledResult<unknown> => r.status === 'fulfilled');
    if (done) {
      this.history.delete(request.name);
      // A promote is replayed as the load of the config it made, so a later process does not depend on the split.
      this.history.set(request.name, request.action === 'promote' ? { action: 'load', name: request.name, config: (done.value as PromoteOutcome).config } : request);
    }
    if (failed) throw failed.reason;
    return (results[0] as PromiseFulfilledResult<unknown>).value as ControlOutcome;
  }

  private async replay(worker: Worker): Promise<void> {
    for (const request of this.history.values()) await this.ask(worker, request).catch(() => undefined);
  }

  private ask(worker: Worker, request: Action): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const onExit = (): void => {
        this.waiting.delete(id);
        reject(new FerryError('UNAVAILABLE', `server process ${worker.process.pid} exited before answering`));
      };
      worker.once('exit', onExit);
      this.waiting.set(id, (m) => {
        worker.off('exit', onExit);
        if (m.ok) resolve(m.value);
        else reject(new FerryError(m.code, `server process ${worker.process.pid}: ${m.message}`));
      });
      worker.send({ type: 'ferry:manage', id, request } satisfies ManagementMessage);
    });
  }
}

/** In a server process: carries out the primary's management requests, and says when its start-up load is over. */
export function answerPrimary(management: ModelManagement, loaded: Promise<void>): void {
  process.on('message', (m: ManagementMessage) => {
    if (m?.type !== 'ferry:manage') return;
    const r = m.request;
    const run =
      r.action === 'index' ? management.index(r.readyOnly)
      : r.action === 'load' ? management.load(r.name, r.config)
      : r.action === 'promote' ? management.promote(r.name, r.variant)
      : management.unload(r.name);
    run.then(
      (value) => process.send!({ type: 'ferry:managed', id: m.id, ok: true, value } satisfies ManagementMessage),
      (e: unknown) => {
        const code: ErrorCode = e instanceof FerryError ? e.code : 'INTERNAL';
        process.send!({ type: 'ferry:managed', id: m.id, ok: false, code, message: e instanceof Error ? e.message : String(e) } satisfies ManagementMessage);
      },
    );
  });
  void loaded.then(() => process.send?.({ type: 'ferry:loaded' } satisfies ManagementMessage));
}

