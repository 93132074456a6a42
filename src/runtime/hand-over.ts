/**
 * HandOverRuntime: a model under `execution: auto` serves from its main-thread session from the moment it is
 * loaded, while the measurement that decides its placement, and the start of its worker thread when it is too slow
 * for the main thread, happen after the server is ready. Runs then go to the worker and the main-thread session is
 * released once its last run is done.
 *
 * Why: the measurement (timed runs on synthetic input: 50-60 ms at start for the example image CNN) and the worker's
 * start (a new V8 isolate that loads onnxruntime and creates the session again, 80-100 ms here) used to come before
 * ready, and made up about a third of `ferry serve`'s start. The session that is measured can serve meanwhile.
 * Until the hand-over a slow model's runs stall the event loop as any main-thread model's do. If the worker fails
 * to start, the model stays on the main thread, with an error in the log.
 */
import type { Tensor, TensorSpec } from '../tensor/tensor.js';
import { messageOf, unavailable } from '../errors.js';
import type { ModelRuntime } from './runtime.js';

export interface HandOverOptions {
  /** "model 'x' version 1", for messages. */
  readonly label: string;
  readonly report?: (level: 'warn' | 'error' | 'info', message: string) => void;
}

/**
 * Decides where the model goes and starts it there: the runtime to move to, or undefined to stay. `wanted` turns
 * false once the model is being unloaded: nothing more should be started then. Timed runs go through `runner` (the
 * hand-over itself), so a release waits for the run in progress before it frees the session.
 */
export type HandOverDecision = (wanted: () => boolean, runner: ModelRuntime) => Promise<ModelRuntime | undefined>;

export class HandOverRuntime implements ModelRuntime {
  readonly platform: string;
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  readonly labels: ReadonlyMap<string, readonly (string | number)[]>;
  /** Settles once the decision is carried out: runs moved, staying, or the move failed. */
  readonly handedOver: Promise<void>;
  private current: ModelRuntime;
  private firstRuns = 0;
  private firstIdle: (() => void) | undefined;
  private firstReleased: Promise<void> | undefined;
  private released = false;

  constructor(
    private readonly first: ModelRuntime,
    decide: HandOverDecision,
    options: HandOverOptions,
  ) {
    this.current = first;
    this.platform = first.platform;
    this.inputs = first.inputs;
    this.outputs = first.outputs;
    this.labels = first.labels;
    this.handedOver = Promise.resolve()
      .then(() => decide(() => !this.released, this))
      .then(
        async (next) => {
          if (!next) return;
          if (this.released) {
            await next.release();
            return;
          }
          this.current = next;
          options.report?.('info', `${options.label}: now runs in ${describe(next)}`);
          await this.releaseFirst();
        },
        (e: unknown) => {
          options.report?.('error', `${options.label}: it could not move off the main thread (${messageOf(e)}); it stays there`);
        },
      );
  }

  /** Where runs go now: 'main' until the hand-over, then the new runtime's. */
  get placement(): string {
    return this.current.placement;
  }

  /** One run at a time on the main thread; after the hand-over, the new runtime's instances. */
  get concurrency(): number {
    return this.current.concurrency;
  }

  /** True once runs go to the new runtime. */
  get handed(): boolean {
    return this.current !== this.first;
  }

  async run(inputs: readonly Tensor[], outputNames: readonly string[]): Promise<Tensor[]> {
    const runtime = this.current;
    if (runtime !== this.first) return runtime.run(inputs, outputNames);
    if (this.firstReleased) throw unavailable('the model is unloading');
    this.firstRuns++;
    try {
      return await runtime.run(inputs, outputNames);
    } finally {
      if (--this.firstRuns === 0) this.firstIdle?.();
    }
  }

  /**
   * Not waiting for the decision: it waits for the round of loads to settle, and a load that fails after this runtime
   * was made (a config that does not fit it) releases it within that round. A runtime the decision still starts is
   * released where it arrives (`released` is set).
   */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await Promise.all([this.releaseFirst(), this.current !== this.first ? this.current.release() : undefined]);
  }

  /** Releases the first runtime once no run is using it (releasing a session during its run is not safe). */
  private releaseFirst(): Promise<void> {
    return (this.firstReleased ??= (async () => {
      if (this.firstRuns > 0) await new Promise<void>((resolve) => (this.firstIdle = resolve));
      await this.first.release();
    })());
  }
}

function describe(runtime: ModelRuntime): string {
  const n = runtime.concurrency;
  if (runtime.placement === 'thread') return `${n} worker thread${n === 1 ? '' : 's'}`;
  if (runtime.placement === 'process') return `${n} worker process${n === 1 ? '' : 'es'}`;
  return `the ${runtime.placement} placement`;
}
