/**
 * One inference worker: a worker thread or a child process holding its own copy of the model (an onnxruntime
 * session, or a JavaScript model's instance).
 *
 * Facts that shape this (measured, ../shared/DESIGN.md): terminating a worker thread while its session.run is in
 * progress aborts the whole process, so a thread is only ever ended after it has released its session (drained);
 * and a native crash in any thread ends the process, so isolating a model that may crash, or killing a stuck
 * run, takes a child process.
 */
import type * as ChildProcesses from 'node:child_process';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { FerryError } from '../../errors.js';
import { lazyBuiltin } from '../../lazy-builtin.js';
import type { SessionConfig } from '../../config/model-config.js';
import type { Tensor } from '../../tensor/tensor.js';
import { forPosting } from '../../tensor/transferable.js';
import type { FromWorker, ToWorker } from './messages.js';
import { withMmapThreshold } from '../native-memory.js';

export type WorkerKind = 'thread' | 'process';

/** What a worker loads, and how it runs. */
export interface WorkerSpec {
  readonly kind: WorkerKind;
  readonly file: string;
  readonly session: SessionConfig | undefined;
  /** config.yaml's `parameters`, for a JavaScript model. */
  readonly parameters?: Readonly<Record<string, string>> | undefined;
  /** OS niceness of the worker (and so of onnxruntime's threads in it). */
  readonly nice: number;
  /** "model 'x' version 1", for messages. */
  readonly label: string;
}

/** The entry next to this module: .ts under tsx (tests), .js when built. */
const ENTRY = new URL(`./worker-entry${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

/** Node flags to pass on (a loader such as tsx), without the test runner's own. */
const EXEC_ARGV = process.execArgv.filter((a) => !a.startsWith('--test'));

type Loaded = Extract<FromWorker, { type: 'loaded' }>;

/** Only `execution: process` forks. */
const childProcesses = lazyBuiltin<typeof ChildProcesses>('node:child_process');

interface Transport {
  /** `transfer`: buffers moved to a worker thread rather than copied (a child process gets copies). */
  send(message: ToWorker, transfer?: ArrayBuffer[]): void;
  kill(): void;
  readonly pid: number | undefined;
}

export class WorkerInstance {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (t: Tensor[]) => void; reject: (e: unknown) => void }>();
  private transport!: Transport;
  private onLoaded: ((m: Loaded | Error) => void) | undefined;
  private onReleased: (() => void) | undefined;
  private exited = false;
  /** Set by the pool: called once when the worker ends without having been asked to. */
  onDeath: ((reason: string) => void) | undefined;

  private constructor(
    readonly kind: WorkerKind,
    private readonly label: string,
  ) {}

  /** Starts a worker and loads the model in it. */
  static async start({ kind, file, session, parameters, nice, label }: WorkerSpec): Promise<{ instance: WorkerInstance; loaded: Loaded }> {
    const instance = new WorkerInstance(kind, label);
    const loaded = new Promise<Loaded | Error>((resolve) => (instance.onLoaded = resolve));
    instance.transport = kind === 'thread' ? instance.startThread() : instance.startProcess();
    instance.transport.send({ type: 'load', file, session, parameters, nice });
    const result = await loaded;
    if (result instanceof Error) {
      instance.transport.kill();
      throw result;
    }
    return { instance, loaded: result };
  }

  get pid(): number | undefined {
    return this.transport.pid;
  }

  get busy(): boolean {
    return this.pending.size > 0;
  }

  run(inputs: readonly Tensor[], outputNames: readonly string[]): Promise<Tensor[]> {
    if (this.exited) return Promise.reject(new FerryError('INTERNAL', `${this.label}: inference worker has exited`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const { tensors, transfer } = forPosting(inputs);
      this.transport.send({ type: 'run', id, inputs: tensors, outputNames }, transfer);
    });
  }

  /** Drains: the worker releases its session after the run in progress, then exits. */
  release(): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => {
      this.onReleased = resolve;
      this.transport.send({ type: 'release' });
    });
  }

  private receive(m: FromWorker): void {
    switch (m.type) {
      case 'loaded':
        this.onLoaded?.(m);
        this.onLoaded = undefined;
        return;
      case 'load-failed':
        this.onLoaded?.(new Error(m.message));
        this.onLoaded = undefined;
        return;
      case 'result':
      case 'error': {
        const waiter = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (m.type === 'result') waiter?.resolve(m.outputs);
        else waiter?.reject(new FerryError(m.code, m.message));
        return;
      }
      case 'released':
        return;
    }
  }

  private ended(how: string): void {
    if (this.exited) return;
    this.exited = true;
    const released = this.onReleased;
    if (released) {
      released();
      return;
    }
    const reason = `inference worker (${this.kind}${this.transport?.pid ? ` ${this.transport.pid}` : ''}) of ${this.label} ${how}`;
    this.onLoaded?.(new Error(`${reason} while loading`));
    for (const waiter of this.pending.values()) {
      waiter.reject(new FerryError('INTERNAL', `${reason} during the run; the worker is being replaced, retry the request`));
    }
    this.pending.clear();
    this.onDeath?.(reason);
  }

  private startThread(): Transport {
    const worker = ENTRY.pathname.endsWith('.ts')
      ? // Under tsx (tests, development) a worker thread does not inherit the TypeScript loader: register it first.
        new Worker(`import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(ENTRY.href)}); });`, { eval: true })
      : new Worker(ENTRY);
    worker.on('message', (m: FromWorker) => this.receive(m));
    worker.on('error', (e) => this.ended(`failed: ${e.message}`));
    worker.on('exit', (code) => this.ended(`exited with code ${code}`));
    return {
      send: (message, transfer) => worker.postMessage(message, transfer),
      kill: () => void worker.terminate(),
      pid: undefined,
    };
  }

  private startProcess(): Transport {
    const child: ChildProcesses.ChildProcess = childProcesses().fork(fileURLToPath(ENTRY), [], {
      execArgv: EXEC_ARGV,
      env: withMmapThreshold(process.env), // the process exits on unload anyway; its own reloads after a crash do not grow it
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.on('message', (m: FromWorker) => this.receive(m));
    child.on('exit', (code, signal) => this.ended(signal ? `was killed by ${signal}` : `exited with code ${code}`));
    child.on('error', (e) => this.ended(`failed: ${e.message}`));
    return {
      send: (message) => {
        if (child.connected) child.send(message);
      },
      kill: () => void child.kill('SIGKILL'),
      pid: child.pid,
    };
  }
}
