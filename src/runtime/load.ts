/**
 * Loads a model file into a runtime and decides where its inference runs (the model config's `execution`):
 * on the main thread for cheap models (no hop: measured 1.0-1.2x the HTTP ceiling with batching, against 0.6-0.95x
 * through one worker thread), in worker threads or child processes for heavy ones, so they never stall the
 * requests of other models. `auto` measures a warm-up run and moves the model to a worker thread when one run
 * takes longer than AUTO_THREAD_THRESHOLD_MS. With one instance (the default) that measurement and the move come
 * after start-up, the model serving from its main-thread session meanwhile (hand-over.ts).
 */
import { availableParallelism } from 'node:os';
import type { ModelConfig, SessionConfig } from '../config/model-config.js';
import { messageOf } from '../errors.js';
import { withFeatures } from '../features/feature-runtime.js';
import { withGeneratedInputs } from './generated-inputs.js';
import { loadModelFile } from './model-files.js';
import type { ModelCalls } from './pipeline/pipeline-runtime.js';
import type { ModelRuntime } from './runtime.js';
import { HandOverRuntime, type HandOverDecision } from './hand-over.js';
import { measureRun } from './warmup.js';
import { WorkerPoolRuntime } from './worker/worker-pool.js';

/**
 * A run of AUTO_MEASURE_ROWS rows slower than this would stall the event loop, and so every other model's
 * requests, for longer than a cheap model's whole latency budget once batches fill up under load.
 */
export const AUTO_THREAD_THRESHOLD_MS = 1;
/** Rows per measured run for models that batch: a batch of this size is common under load. */
export const AUTO_MEASURE_ROWS = 8;
/** Default `worker_nice`: see workerThreads(). */
export const DEFAULT_WORKER_NICE = 10;
/** Timed runs per measurement; the fastest counts (warmup.ts). */
export const AUTO_MEASURE_RUNS = 5;

export interface RuntimeLoadResult {
  readonly runtime: ModelRuntime;
  /** Decisions and graph fixes, worth an info line. */
  readonly notes: string[];
  /** Parts of the model or config that are not honoured, worth a warning. */
  readonly warnings: string[];
}

export interface LoadContext {
  readonly config: ModelConfig;
  /** "model 'x' version 1", for messages. */
  readonly label: string;
  readonly report?: (level: 'warn' | 'error' | 'info', message: string) => void;
  /**
   * Resolves when the loads started with this one are all over. Work that times itself (the `auto` placement
   * measurement) waits for it, so other models' session creation does not land inside its timings.
   */
  readonly settled?: Promise<void>;
  /**
   * True for the loads of the server's start: an `auto` model may then serve from the main thread while its
   * placement is measured after ready (hand-over.ts). A later load (a new version beside a serving one) measures
   * first, so that the version takes traffic where it will stay.
   */
  readonly startUp?: boolean;
  /** The model's name (a pipeline refuses to name itself as a step). */
  readonly model?: string;
  /** Other models of the server, called by a pipeline's steps (the data plane's infer). */
  readonly models?: ModelCalls;
}

export type RuntimeLoader = (file: string, context: LoadContext) => Promise<RuntimeLoadResult>;

/**
 * Loads a version: its model (a file through the runtime factory table, placed; or a pipeline of other models), then
 * the wrappers its config asks for (generated lengths, features, postprocess), released again if they do not fit.
 */
export const loadRuntime: RuntimeLoader = async (file, context) => {
  const loaded = context.config.pipeline ? await loadPipelineOf(context) : await loadPlaced(file, context);
  try {
    const runtime = withFeatures(withGeneratedInputs(loaded.runtime, context.config.input), context.config);
    return { ...loaded, runtime };
  } catch (e) {
    await loaded.runtime.release();
    throw e;
  }
};

async function loadPipelineOf(context: LoadContext): Promise<RuntimeLoadResult> {
  const { loadPipeline } = await import('./pipeline/pipeline-runtime.js');
  if (!context.models) throw new Error('pipelines are served by ferry serve, which calls their steps');
  return loadPipeline(context.config.pipeline!, context.model, context.models);
}

/** A model file, in the placement its config asks for (`execution`). */
async function loadPlaced(file: string, { config, label, report, settled = Promise.resolve(), startUp = true }: LoadContext): Promise<RuntimeLoadResult> {
  const parameters = config.parameters;
  const group = config.instance_group?.[0];
  const count = group?.count ?? 1;
  const session = sessionConfig(config);
  const workerSession = withThreads(session, Math.max(1, Math.floor(availableParallelism() / count)));
  const nice = config.worker_nice ?? DEFAULT_WORKER_NICE;
  const execution = config.execution ?? 'auto';
  if (execution === 'thread' || execution === 'process') {
    const pool = await WorkerPoolRuntime.start({ kind: execution, count, file, session: workerSession, parameters, nice, label, ...(report ? { report } : {}) });
    await warmUp(pool, pool.warnings);
    return { runtime: pool, notes: [...pool.notes, `runs in ${workers(count, execution)}`], warnings: pool.warnings };
  }
  const loaded = await loadModelFile(file, { session: withThreads(session, 1), parameters });
  const notes = [...loaded.notes];
  const warnings = [...loaded.warnings];
  const rows = config.max_batch_size !== 0 && loaded.runtime.inputs.every((s) => s.shape?.[0] === -1) ? AUTO_MEASURE_ROWS : 1;
  const runs = `a run of ${rows} row${rows > 1 ? 's' : ''}`;
  if (execution === 'auto' && count === 1 && startUp) {
    // Ready once warmed up (one row, as worker instances are: onnxruntime's first-run costs, not a full batch's);
    // the measurement and a move to a worker thread happen after start-up (hand-over.ts).
    try {
      await measureRun(loaded.runtime, 1, 0);
    } catch (e) {
      notes.push(`warm-up skipped: the model refused a synthetic input (${messageOf(e)}); it runs on the main thread`);
      return { runtime: loaded.runtime, notes, warnings };
    }
    const decide: HandOverDecision = async (wanted, runner) => {
      // Timed once the current round of loads is over, so no other model's loading lands inside the timings.
      await settled;
      if (!wanted()) return undefined;
      let ms: number;
      try {
        ms = await measureRun(runner, rows, AUTO_MEASURE_RUNS);
      } catch (e) {
        report?.('info', `${label}: not measured, the model refused a synthetic input of ${rows} rows (${messageOf(e)}): it stays on the main thread`);
        return undefined;
      }
      if (ms <= AUTO_THREAD_THRESHOLD_MS) {
        report?.('info', `${label}: ${runs} takes ${ms.toFixed(2)} ms: it stays on the main thread`);
        return undefined;
      }
      report?.('info', `${label}: ${runs} takes ${ms.toFixed(1)} ms, more than ${AUTO_THREAD_THRESHOLD_MS} ms: it moves to ${workers(count, 'thread')} so it never stalls other models (set execution: main to keep it on the main thread)`);
      if (!wanted()) return undefined;
      const pool = await WorkerPoolRuntime.start({ kind: 'thread', count, file, session: workerSession, parameters, nice, label, ...(report ? { report } : {}) });
      const poolWarnings: string[] = [];
      await warmUp(pool, poolWarnings);
      for (const w of [...pool.warnings, ...poolWarnings]) report?.('warn', `${label}: ${w}`);
      return pool;
    };
    notes.push('runs on the main thread until a measured run, once start-up is over, says whether it should move to a worker thread');
    return { runtime: new HandOverRuntime(loaded.runtime, decide, { label, ...(report ? { report } : {}) }), notes, warnings };
  }
  let ms: number | undefined;
  try {
    ms = await measureRun(loaded.runtime, rows);
  } catch (e) {
    notes.push(`warm-up skipped: the model refused a synthetic input (${messageOf(e)})`);
  }
  if (execution === 'auto' && ms !== undefined && ms > AUTO_THREAD_THRESHOLD_MS) {
    await loaded.runtime.release();
    const pool = await WorkerPoolRuntime.start({ kind: 'thread', count, file, session: workerSession, parameters, nice, label, ...(report ? { report } : {}) });
    await warmUp(pool, warnings);
    notes.push(`${runs} takes ${ms.toFixed(1)} ms, more than ${AUTO_THREAD_THRESHOLD_MS} ms: it runs in ${workers(count, 'thread')} so it never stalls other models (set execution: main to keep it on the main thread)`);
    return { runtime: pool, notes, warnings };
  }
  if (count > 1) warnings.push(`instance_group count ${count} needs execution: thread or process; on the main thread one session runs at a time`);
  if (ms !== undefined) notes.push(`${runs} takes ${ms.toFixed(2)} ms: it runs on the main thread`);
  return { runtime: loaded.runtime, notes, warnings };
}

function workers(count: number, kind: 'thread' | 'process'): string {
  return `${count} worker ${kind === 'thread' ? 'thread' : 'process'}${count === 1 ? '' : kind === 'thread' ? 's' : 'es'}`;
}

/**
 * Default intra-op threads, unless the config sets them. A model on the main thread is cheap by choice: one thread
 * (onnxruntime's pool would spin on the other cores and take them from the event loop and from other processes,
 * for no gain on small batches). A model in workers gets every core, shared among its instances, at a raised
 * niceness (DEFAULT_WORKER_NICE): measured here, a CNN with onnxruntime's default pool (all cores, spinning, normal
 * priority) starved the main thread and took a tabular model's p99 from about 1 ms to 52 ms under mixed load;
 * limiting it to the cores but one kept the p99 under 5 ms but halved the CNN's own speed when it ran alone;
 * niceness keeps the p99 and gives the CNN the idle cores (BENCHMARKS.md, mixed load).
 */
function withThreads(session: SessionConfig | undefined, threads: number): SessionConfig {
  if (session?.intra_op_num_threads !== undefined) return session;
  return { ...session, intra_op_num_threads: threads };
}

/** KIND_GPU asks for CUDA unless the config names its providers. */
function sessionConfig(config: ModelConfig): SessionConfig | undefined {
  const kind = config.instance_group?.[0]?.kind;
  if (kind === 'KIND_GPU' && !config.session?.execution_providers) return { ...config.session, execution_providers: ['cuda', 'cpu'] };
  return config.session;
}

async function warmUp(runtime: ModelRuntime, warnings: string[]): Promise<void> {
  try {
    await Promise.all(Array.from({ length: runtime.concurrency }, () => measureRun(runtime, 1, 1)));
  } catch (e) {
    warnings.push(`warm-up failed: ${messageOf(e)}`);
  }
}
