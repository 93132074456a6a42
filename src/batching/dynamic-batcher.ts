/**
 * DynamicBatcher: one per loaded model version. It queues checked requests, merges those that can share a run
 * (same shapes past the batch dimension, or differing only where a pad value allows), runs them through the
 * model, and hands each caller its own rows back. It knows no protocol.
 *
 * Scheduling, measured on this project's 2-core machines (../shared/DESIGN.md): with no queue delay a batch is
 * whatever arrived while the model was busy, flushed with setImmediate, which kept p99 low and filled batches
 * under load without a timer. A queue delay (Triton's max_queue_delay_microseconds) trades latency for fuller
 * batches when asked for. Deadlines are enforced while a request waits: a run that has started cannot be
 * cancelled, so an expired request is dropped before it is batched, never run late.
 */
import { FerryError, invalid, unavailable } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { concatPadded, concatRows, splitRows, type PadValue } from './concat-split.js';

export interface BatcherOptions {
  /** "model 'x' version 1", for messages. */
  readonly label: string;
  /** False: every request runs alone, as sent (max_batch_size 0). */
  readonly batching: boolean;
  /** Most rows in one run; a single request larger than this still runs, alone. */
  readonly maxBatchSize: number;
  readonly maxQueueDelayMs: number;
  readonly preferredBatchSizes: readonly number[];
  /** Requests waiting at most; 0 = no limit. */
  readonly maxQueueSize: number;
  /** Runs at once: the number of model instances. */
  readonly maxInFlight: number;
  readonly pad: ReadonlyMap<string, PadValue>;
}

export type BatchRunner = (inputs: Tensor[], outputNames: readonly string[]) => Promise<Tensor[]>;

/** What the batcher reports, for metrics; kept as an interface so batching imports no metrics library. */
export interface BatchObserver {
  queued(ms: number): void;
  ran(rows: number, ms: number): void;
}

interface Pending {
  readonly inputs: Tensor[];
  readonly outputNames: readonly string[];
  readonly rows: number;
  readonly key: string;
  readonly enqueuedAt: number;
  readonly deadline: number | undefined;
  readonly resolve: (outputs: Tensor[]) => void;
  readonly reject: (e: unknown) => void;
}

export class DynamicBatcher {
  private queue: Pending[] = [];
  private inFlight = 0;
  private flushQueued = false;
  private delayTimer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private deadlineAt = Infinity;
  private stopping = false;
  private idle: (() => void) | undefined;
  private soloKeys = 0;
  private lastKey: { readonly inputs: readonly KeyShape[]; readonly outputNames: readonly string[]; readonly key: string } | undefined;
  private readonly limit: number;

  constructor(
    readonly options: BatcherOptions,
    private readonly runner: BatchRunner,
    private readonly observer?: BatchObserver,
  ) {
    const preferred = Math.max(0, ...options.preferredBatchSizes.filter((p) => p <= options.maxBatchSize));
    this.limit = preferred > 0 ? preferred : options.maxBatchSize;
  }

  get queued(): number {
    return this.queue.length;
  }

  get running(): number {
    return this.inFlight;
  }

  /**
   * Queues a request. `inputs` are what the runtime's run takes, checked and prepared, in model order;
   * `deadline` is a performance.now() time after which the request must not start.
   */
  infer(inputs: readonly Tensor[], outputNames: readonly string[], deadline?: number): Promise<Tensor[]> {
    const o = this.options;
    if (this.stopping) return Promise.reject(unavailable(`${o.label} is stopping`));
    if (o.maxQueueSize > 0 && this.queue.length >= o.maxQueueSize) {
      return Promise.reject(new FerryError('RESOURCE_EXHAUSTED',
        `${o.label} is overloaded: its queue is full (${o.maxQueueSize} requests waiting); retry later, or raise dynamic_batching.max_queue_size`));
    }
    const rows = o.batching ? batchRows(inputs) : 0;
    const key = o.batching ? this.keyOf(inputs, outputNames) : `solo${this.soloKeys++}`;
    return new Promise<Tensor[]>((resolve, reject) => {
      this.queue.push({ inputs: inputs as Tensor[], outputNames, rows, key, enqueuedAt: performance.now(), deadline, resolve, reject });
      if (deadline !== undefined && deadline < this.deadlineAt) this.armDeadline(deadline);
      this.schedule();
    });
  }

  /**
   * The batch key of a request (batchKey). Under load nearly every request has the shapes and outputs of the one
   * before it, so that one's key is kept and compared against, rather than a new string built per request.
   */
  private keyOf(inputs: readonly Tensor[], outputNames: readonly string[]): string {
    const last = this.lastKey;
    if (last && last.outputNames === outputNames && sameKeyShapes(last.inputs, inputs, this.options.pad)) return last.key;
    const key = batchKey(inputs, outputNames, this.options.pad);
    // Names and shapes only: holding the tensors would keep the last request's data alive past its answer.
    this.lastKey = { inputs: inputs.map((t) => ({ name: t.name, shape: t.shape })), outputNames, key };
    return key;
  }

  /** Stops taking requests and resolves once every queued and running request has been answered. */
  stop(): Promise<void> {
    this.stopping = true;
    if (this.queue.length === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => (this.idle = resolve));
  }

  private schedule(): void {
    if (this.inFlight >= this.options.maxInFlight || this.flushQueued) return;
    const delay = this.options.maxQueueDelayMs;
    if (delay > 0 && this.queuedRows() < this.limit) {
      if (!this.delayTimer) {
        const wait = Math.max(0, this.queue[0]!.enqueuedAt + delay - performance.now());
        this.delayTimer = setTimeout(() => {
          this.delayTimer = undefined;
          this.flush();
        }, wait);
      }
      return;
    }
    this.flushQueued = true;
    setImmediate(() => {
      this.flushQueued = false;
      this.flush();
    });
  }

  private queuedRows(): number {
    let rows = 0;
    for (const p of this.queue) rows += p.rows;
    return rows;
  }

  private flush(): void {
    if (this.delayTimer) {
      clearTimeout(this.delayTimer);
      this.delayTimer = undefined;
    }
    while (this.inFlight < this.options.maxInFlight && this.queue.length > 0) {
      const batch = this.take();
      if (batch.length > 0) this.run(batch);
    }
    if (this.queue.length === 0) this.disarmDeadline();
    this.checkIdle();
  }

  /** Takes the oldest request and every later one that can share its run, in arrival order, up to the size limit. */
  private take(): Pending[] {
    const now = performance.now();
    const batch: Pending[] = [];
    const rest: Pending[] = [];
    let rows = 0;
    let key: string | undefined;
    for (const p of this.queue) {
      if (p.deadline !== undefined && p.deadline <= now) {
        this.expire(p, now);
        continue;
      }
      if (key === undefined) {
        key = p.key;
        batch.push(p);
        rows = p.rows;
      } else if (p.key === key && rows + p.rows <= this.limit) {
        batch.push(p);
        rows += p.rows;
      } else {
        rest.push(p);
      }
    }
    this.queue = rest;
    return batch;
  }

  private run(batch: Pending[]): void {
    this.inFlight++;
    const started = performance.now();
    for (const p of batch) this.observer?.queued(started - p.enqueuedAt);
    const first = batch[0]!;
    let inputs: Tensor[];
    try {
      inputs = batch.length === 1 ? first.inputs : first.inputs.map((t, i) => {
        const parts = batch.map((p) => p.inputs[i]!);
        const pad = this.options.pad.get(t.name);
        return pad === undefined ? concatRows(parts) : concatPadded(parts, pad);
      });
    } catch (e) {
      this.finish(batch, e);
      return;
    }
    this.runner(inputs, first.outputNames).then(
      (outputs) => {
        this.observer?.ran(batch.length === 1 && !this.options.batching ? 1 : batch.reduce((n, p) => n + p.rows, 0), performance.now() - started);
        if (batch.length === 1) {
          first.resolve(outputs);
          this.finish([], undefined);
          return;
        }
        let split: Tensor[][];
        try {
          split = splitRows(outputs, batch.map((p) => p.rows));
        } catch {
          void this.runEachAlone(batch); // rows that do not split back (a model answering the wrong count): alone
          return;
        }
        batch.forEach((p, i) => p.resolve(split[i]!));
        this.finish([], undefined);
      },
      (e: unknown) => (batch.length > 1 && !(e instanceof FerryError && e.code === 'UNAVAILABLE') ? void this.runEachAlone(batch) : this.finish(batch, e)),
    );
  }

  /**
   * A run of several requests failed (a JavaScript model that throws on one record, an input the model refuses):
   * each request is run again on its own, so only those that fail alone are answered with the error (a model with
   * side effects may so see a request twice). A model that is gone (UNAVAILABLE) fails the batch at once, and a
   * request whose deadline passed meanwhile is not run again.
   */
  private async runEachAlone(batch: Pending[]): Promise<void> {
    for (const p of batch) {
      const started = performance.now();
      if (p.deadline !== undefined && p.deadline <= started) {
        this.expire(p, started);
        continue;
      }
      try {
        const outputs = await this.runner(p.inputs, p.outputNames);
        this.observer?.ran(p.rows, performance.now() - started);
        p.resolve(outputs);
      } catch (e) {
        p.reject(e);
      }
    }
    this.finish([], undefined);
  }

  /** Ends a run: rejects its waiters when it failed (every waiter of a failed batch), then takes the next batch. */
  private finish(failed: Pending[], error: unknown): void {
    for (const p of failed) p.reject(error);
    this.inFlight--;
    if (this.queue.length > 0) this.schedule();
    this.checkIdle();
  }

  private expire(p: Pending, now: number): void {
    p.reject(new FerryError('DEADLINE_EXCEEDED',
      `${this.options.label}: the request's deadline passed after ${Math.round(now - p.enqueuedAt)} ms in the queue; it was not run`));
  }

  private armDeadline(at: number): void {
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineAt = at;
    // Disarmed as soon as the queue empties, so a deadline far ahead (gRPC clients often set one on every call)
    // never holds a stopping process open.
    this.deadlineTimer = setTimeout(() => this.sweepDeadlines(), Math.max(0, at - performance.now()));
  }

  private disarmDeadline(): void {
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    this.deadlineAt = Infinity;
  }

  /** Drops every expired request from the queue and re-arms for the next deadline. */
  private sweepDeadlines(): void {
    this.disarmDeadline();
    const now = performance.now();
    let next = Infinity;
    this.queue = this.queue.filter((p) => {
      if (p.deadline === undefined) return true;
      if (p.deadline <= now) {
        this.expire(p, now);
        return false;
      }
      next = Math.min(next, p.deadline);
      return true;
    });
    if (next < Infinity) this.armDeadline(next);
    this.checkIdle();
  }

  private checkIdle(): void {
    if (this.idle && this.queue.length === 0 && this.inFlight === 0) {
      this.disarmDeadline();
      const idle = this.idle;
      this.idle = undefined;
      idle();
    }
  }
}

/** Rows of a request: the first dimension, which every input must agree on. */
function batchRows(inputs: readonly Tensor[]): number {
  const rows = inputs[0]!.shape[0]!;
  for (const t of inputs) {
    if (t.shape[0] !== rows) {
      throw invalid(`inputs disagree on the batch dimension (dimension 0): '${inputs[0]!.name}' has ${rows} rows, '${t.name}' has ${t.shape[0]}`);
    }
  }
  return rows;
}

/** Requests share a run when their shapes past dimension 0 match (padded inputs: their rank) and they want the same outputs. */
function batchKey(inputs: readonly Tensor[], outputNames: readonly string[], pad: ReadonlyMap<string, PadValue>): string {
  let key = '';
  for (const t of inputs) key += pad.has(t.name) ? `p${t.shape.length}|` : `${t.shape.slice(1).join('x')}|`;
  return `${key}>${outputNames.join(',')}`;
}

type KeyShape = Pick<Tensor, 'name' | 'shape'>;

/** True when two requests' inputs give the same batchKey (the output names compared by the caller). */
function sameKeyShapes(a: readonly KeyShape[], b: readonly KeyShape[], pad: ReadonlyMap<string, PadValue>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.name !== y.name || x.shape.length !== y.shape.length) return false;
    if (pad.has(x.name)) continue; // padded: only the rank is in the key
    for (let d = 1; d < x.shape.length; d++) if (x.shape[d] !== y.shape[d]) return false;
  }
  return true;
}
