/**
 * A model served by a pool of inference workers (Triton's instance_group): each worker has its own session, so
 * `count` runs go at once, off the thread that parses requests. A worker that dies is replaced; only the runs it
 * held fail.
 */
import { FerryError, unavailable } from '../../errors.js';
import type { Tensor, TensorSpec } from '../../tensor/tensor.js';
import type { ModelRuntime } from '../runtime.js';
import { WorkerInstance, type WorkerSpec } from './worker-instance.js';

export interface WorkerPoolOptions extends WorkerSpec {
  readonly count: number;
  /** Where the pool reports deaths and replacements (the registry's log). */
  readonly report?: (level: 'warn' | 'error' | 'info', message: string) => void;
}

const MAX_RESPAWN_DELAY_MS = 30_000;

export class WorkerPoolRuntime implements ModelRuntime {
  readonly platform: string;
  readonly placement: string;
  readonly concurrency: number;
  private readonly slots: (WorkerInstance | undefined)[];
  private readonly waiting: { inputs: readonly Tensor[]; outputNames: readonly string[]; resolve: (t: Tensor[]) => void; reject: (e: unknown) => void }[] = [];
  private released = false;

  private constructor(
    private readonly options: WorkerPoolOptions,
    first: Awaited<ReturnType<typeof WorkerInstance.start>>,
    rest: WorkerInstance[],
  ) {
    this.placement = options.kind;
    this.platform = first.loaded.platform;
    this.concurrency = options.count;
    this.inputs = first.loaded.inputs;
    this.outputs = first.loaded.outputs;
    this.labels = new Map(first.loaded.labels);
    this.notes = first.loaded.notes;
    this.warnings = first.loaded.warnings;
    this.slots = [first.instance, ...rest];
    this.slots.forEach((w, i) => this.watch(w!, i));
  }

  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  readonly labels: ReadonlyMap<string, readonly (string | number)[]>;
  readonly notes: string[];
  readonly warnings: string[];

  static async start(options: WorkerPoolOptions): Promise<WorkerPoolRuntime> {
    const starts = Array.from({ length: options.count }, () => WorkerInstance.start(options));
    const settled = await Promise.allSettled(starts);
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) {
      for (const s of settled) if (s.status === 'fulfilled') await s.value.instance.release();
      throw (failed as PromiseRejectedResult).reason;
    }
    const ok = settled.map((s) => (s as PromiseFulfilledResult<Awaited<(typeof starts)[number]>>).value);
    return new WorkerPoolRuntime(options, ok[0]!, ok.slice(1).map((s) => s.instance));
  }

  /** Process ids of the child-process workers (for operators and tests). */
  get pids(): number[] {
    return this.slots.map((w) => w?.pid).filter((p): p is number => p !== undefined);
  }

  run(inputs: readonly Tensor[], outputNames: readonly string[]): Promise<Tensor[]> {
    if (this.released) return Promise.reject(unavailable(`${this.options.label} is unloading`));
    return new Promise((resolve, reject) => {
      this.waiting.push({ inputs, outputNames, resolve, reject });
      this.pump();
    });
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    for (const w of this.waiting.splice(0)) w.reject(unavailable(`${this.options.label} is unloading`));
    await Promise.all(this.slots.map((w) => w?.release()));
  }

  /** Hands waiting runs to idle workers. */
  private pump(): void {
    for (const worker of this.slots) {
      if (this.waiting.length === 0) return;
      if (!worker || worker.busy) continue;
      const job = this.waiting.shift()!;
      worker.run(job.inputs, job.outputNames).then(job.resolve, job.reject).finally(() => this.pump());
    }
  }

  private watch(worker: WorkerInstance, slot: number): void {
    worker.onDeath = (reason) => {
      this.slots[slot] = undefined;
      if (this.released) return;
      this.options.report?.('error', `${reason}; starting a replacement`);
      this.respawn(slot, 0);
    };
  }

  private respawn(slot: number, attempt: number): void {
    const delay = attempt === 0 ? 0 : Math.min(MAX_RESPAWN_DELAY_MS, 500 * 2 ** (attempt - 1));
    setTimeout(() => {
      if (this.released) return;
      WorkerInstance.start(this.options).then(
        ({ instance }) => {
          if (this.released) {
            void instance.release();
            return;
          }
          this.slots[slot] = instance;
          this.watch(instance, slot);
          this.options.report?.('info', `${this.options.label}: replacement inference worker is ready`);
          this.pump();
        },
        (e: unknown) => {
          this.options.report?.('error', `${this.options.label}: replacement worker failed to start: ${(e as Error).message}`);
          if (this.slots.every((w) => w === undefined)) {
            for (const w of this.waiting.splice(0)) w.reject(new FerryError('UNAVAILABLE', `${this.options.label} has no working inference worker: ${(e as Error).message}`));
          }
          this.respawn(slot, attempt + 1);
        },
      );
    }, delay).unref();
  }
}
