/**
 * HandOverRuntime: serves a model from its main-thread session while its worker threads start, then hands every
 * new run to the workers and releases the main-thread session once its last run is done.
 *
 * Why: `execution: auto` decides placement by timing runs on a main-thread session. A model found too slow for the
 * main thread used to wait for its worker threads (a new V8 isolate that loads onnxruntime and creates the session
 * again, about 80-100 ms here) before it, and so the server, was ready. The session that was just measured can
 * already serve, so the model is ready at once and only its placement changes a moment later. Until then its runs
 * stall the event loop as any main-thread model's do. If the workers fail to start, the model stays on the main
 * thread, with an error in the log.
 */
import type { Tensor, TensorSpec } from '../tensor/tensor.js';
import { messageOf } from '../errors.js';
import type { ModelRuntime } from './runtime.js';

export interface HandOverOptions {
  /** The runtime it moves to (what `placement` and `concurrency` describe from the start). */
  readonly placement: string;
  readonly concurrency: number;
  readonly report?: (level: 'warn' | 'error' | 'info', message: string) => void;
  /** "model 'x' version 1", for messages. */
  readonly label: string;
}

export class HandOverRuntime implements ModelRuntime {
  readonly platform: string;
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  readonly labels: ReadonlyMap<string, readonly (string | number)[]>;
  readonly placement: string;
  readonly concurrency: number;
  /** Settles once runs go to the new runtime, or once it failed to start and the first one stays. */
  readonly handedOver: Promise<void>;
  private current: ModelRuntime;
  private firstRuns = 0;
  private firstIdle: (() => void) | undefined;
  private firstReleased: Promise<void> | undefined;
  private released = false;

  constructor(
    private readonly first: ModelRuntime,
    next: Promise<ModelRuntime>,
    options: HandOverOptions,
  ) {
    this.current = first;
    this.platform = first.platform;
    this.inputs = first.inputs;
    this.outputs = first.outputs;
    this.labels = first.labels;
    this.placement = options.placement;
    this.concurrency = options.concurrency;
    this.handedOver = next.then(
      async (runtime) => {
        if (this.released) {
          await runtime.release();
          return;
        }
        this.current = runtime;
        options.report?.('info', `${options.label}: now runs in its ${options.placement === 'process' ? 'worker processes' : 'worker threads'}`);
        await this.releaseFirst();
      },
      (e: unknown) => {
        options.report?.('error', `${options.label}: its worker threads did not start (${messageOf(e)}); it stays on the main thread`);
      },
    );
  }

  /** True once runs go to the new runtime. */
  get handed(): boolean {
    return this.current !== this.first;
  }

  async run(inputs: readonly Tensor[], outputNames: readonly string[]): Promise<Tensor[]> {
    const runtime = this.current;
    if (runtime !== this.first) return runtime.run(inputs, outputNames);
    this.firstRuns++;
    try {
      return await runtime.run(inputs, outputNames);
    } finally {
      if (--this.firstRuns === 0) this.firstIdle?.();
    }
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.handedOver;
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
