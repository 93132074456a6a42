/**
 * The ONNX runtime: one onnxruntime-node InferenceSession per loaded model version.
 */
import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { FerryError, internal, invalid, messageOf } from '../../errors.js';
import type { Tensor, TensorSpec } from '../../tensor/tensor.js';
import type { TensorData } from '../../tensor/datatypes.js';
import type { ModelRuntime } from '../runtime.js';
import type { SessionConfig } from '../../config/model-config.js';
import { ortFromV2, v2FromOrt, v2Shape } from './onnx-types.js';
import { fixZipMap } from './zipmap-fix.js';

export const ONNX_PLATFORM = 'onnxruntime_onnx';

/**
 * onnxruntime's own log (not JSON, straight to stderr): fatal only by default. Its errors are also thrown, and ferry
 * reports them in its log with the model they concern (a missing CUDA library, for one, printed a red line before
 * ferry's own warning). FERRY_ONNXRUNTIME_LOG_LEVEL (verbose, info, warning, error, fatal) shows more when debugging.
 */
const ORT_LOG_LEVELS = ['verbose', 'info', 'warning', 'error', 'fatal'] as const;
const requestedLogLevel = process.env.FERRY_ONNXRUNTIME_LOG_LEVEL as (typeof ORT_LOG_LEVELS)[number] | undefined;
ort.env.logLevel = requestedLogLevel && ORT_LOG_LEVELS.includes(requestedLogLevel) ? requestedLogLevel : 'fatal';

export interface OnnxLoadResult {
  readonly runtime: ModelRuntime;
  /** Graph fixes applied, worth an info line. */
  readonly notes: string[];
  /** Parts of the model that are not served, worth a warning. */
  readonly warnings: string[];
}

/** Loads a .onnx file. Throws with a message that says why the model cannot be served. */
export async function loadOnnxModel(file: string, session?: SessionConfig): Promise<OnnxLoadResult> {
  const bytes = await readFile(file);
  const notes: string[] = [];
  const warnings: string[] = [];
  const fix = await fixZipMap(bytes);
  if (fix.model) notes.push(`replaced ZipMap on ${[...fix.labels.keys()].join(', ')} by the probability tensor`);
  const created = await createSession(fix.model ?? bytes, file, session, warnings);
  return describeSession(created, fix.labels, notes, warnings);
}

/** What a provider needs, said with its failure (onnxruntime's own message only says a library did not load). */
const PROVIDER_NEEDS: Readonly<Record<string, string>> = {
  cuda: ': it needs an NVIDIA GPU, CUDA 12 and cuDNN 9 libraries, and onnxruntime-node\'s CUDA binaries (README, GPU)',
  tensorrt: ': it needs an NVIDIA GPU, CUDA 12, cuDNN 9 and TensorRT libraries, and onnxruntime-node\'s GPU binaries (README, GPU)',
};

/**
 * Creates the session with the configured execution providers, in order of preference. onnxruntime-node throws
 * when a provider cannot start (CUDA libraries missing) rather than falling back, so ferry drops that provider,
 * says so, and tries the next; CPU always works.
 */
async function createSession(model: Uint8Array, file: string, config: SessionConfig | undefined, warnings: string[]): Promise<ort.InferenceSession> {
  const base: ort.InferenceSession.SessionOptions = { logSeverityLevel: 3, ...sessionOptions(config) };
  let providers = config?.execution_providers ? [...config.execution_providers] : undefined;
  for (;;) {
    try {
      return await ort.InferenceSession.create(model, providers ? { ...base, executionProviders: providers } : base);
    } catch (e) {
      const failed = providers?.find((p) => p !== 'cpu');
      if (!failed) throw new Error(`onnxruntime could not load ${file}: ${messageOf(e)}`);
      warnings.push(`execution provider '${failed}' is not available here (${messageOf(e).split('\n')[0]}${PROVIDER_NEEDS[failed] ?? ''}); falling back to ${providers!.filter((p) => p !== failed).join(', ') || 'cpu'}`);
      providers = providers!.filter((p) => p !== failed);
      if (providers.length === 0) providers = ['cpu'];
    }
  }
}

/**
 * How long an idle pool thread spins, by default. onnxruntime's pool threads spin while waiting for work unless told
 * otherwise, and its own spinning lasts long enough to burn a core between requests: on a machine shared with the
 * event loop and other models that takes the CPU they need (mixed-load p99 11.0 ms spinning, 8.9 ms not). Never
 * spinning costs latency instead: each of a CNN's parallel operators then waits for its threads to wake (ResNet-18
 * shape, 2 threads: 7.46 against 6.96 ms a run). A short spin is the middle: the pauses inside a run are far
 * shorter than 100 us, the pauses between requests far longer (measured: 7.22 ms a run at the CPU cost of not
 * spinning, 14.3 ms of CPU a run against 24.2 spinning; BENCHMARKS.md, "Worker models: bounded spinning").
 */
export const DEFAULT_SPIN_DURATION_US = 100;

/** onnxruntime's pool spinning entries (its session config keys, through onnxruntime-node's `extra`). */
export function spinning(c: SessionConfig | undefined): Record<string, string> {
  if (c?.allow_spinning === false) return { allow_spinning: '0' };
  const duration = c?.spin_duration_us ?? (c?.allow_spinning ? undefined : DEFAULT_SPIN_DURATION_US);
  return duration === undefined ? { allow_spinning: '1' } : { allow_spinning: '1', spin_duration_us: String(duration) };
}

function sessionOptions(c: SessionConfig | undefined): ort.InferenceSession.SessionOptions {
  const spin = spinning(c);
  return {
    extra: { session: { intra_op: spin, inter_op: spin } },
    ...(c?.graph_optimization_level ? { graphOptimizationLevel: c.graph_optimization_level } : {}),
    ...(c?.intra_op_num_threads !== undefined ? { intraOpNumThreads: c.intra_op_num_threads } : {}),
    ...(c?.inter_op_num_threads !== undefined ? { interOpNumThreads: c.inter_op_num_threads } : {}),
    ...(c?.execution_mode ? { executionMode: c.execution_mode } : {}),
  };
}

async function describeSession(
  session: ort.InferenceSession,
  labels: Map<string, (string | number)[]>,
  notes: string[],
  warnings: string[],
): Promise<OnnxLoadResult> {
  try {
    const inputs = session.inputMetadata.map((m) => toSpec(m, 'input'));
    const outputs: TensorSpec[] = [];
    for (const m of session.outputMetadata) {
      if (m.isTensor) outputs.push(toSpec(m, 'output'));
      else warnings.push(`output '${m.name}' is not a tensor (a sequence or map) and is not served`);
    }
    if (outputs.length === 0) throw new Error('the model has no tensor output to serve');
    return { runtime: new OnnxRuntime(session, inputs, outputs, labels), notes, warnings };
  } catch (e) {
    await session.release();
    throw e;
  }
}

function toSpec(m: ort.InferenceSession.ValueMetadata, role: string): TensorSpec {
  if (!m.isTensor) throw new Error(`${role} '${m.name}' is not a tensor (a sequence or map), which V2 cannot carry`);
  const datatype = v2FromOrt(m.type);
  if (!datatype) throw new Error(`${role} '${m.name}' has ONNX type ${m.type}, which V2 cannot carry`);
  // onnxruntime reports [] both for a scalar and for a value of unknown shape; the latter is far more common in
  // exported graphs, so [] is taken as "any shape" and onnxruntime itself judges the request.
  return { name: m.name, datatype, shape: m.shape.length === 0 ? undefined : v2Shape(m.shape) };
}

/** onnxruntime's messages for inputs it refuses; anything else from a run is the server's fault. */
const CLIENT_FAULT = /invalid dimensions|invalid rank|unexpected input data type|invalid input name|shape mismatch/i;

class OnnxRuntime implements ModelRuntime {
  readonly platform = ONNX_PLATFORM;
  /** onnxruntime-node runs one call at a time on the calling thread. */
  readonly concurrency = 1;
  readonly placement = 'main';
  private released = false;

  constructor(
    private readonly session: ort.InferenceSession,
    readonly inputs: readonly TensorSpec[],
    readonly outputs: readonly TensorSpec[],
    readonly labels: ReadonlyMap<string, readonly (string | number)[]>,
  ) {}

  async run(inputs: readonly Tensor[], outputNames: readonly string[]): Promise<Tensor[]> {
    const feeds: Record<string, ort.Tensor> = {};
    for (const t of inputs) feeds[t.name] = toOrtTensor(t);
    let result: ort.InferenceSession.ReturnType;
    try {
      result = await this.session.run(feeds, outputNames as string[]);
    } catch (e) {
      const message = messageOf(e);
      if (CLIENT_FAULT.test(message)) throw invalid(`the model refused the input: ${message}`);
      throw internal(`inference failed: ${message}`);
    }
    return outputNames.map((name) => fromOrtTensor(name, result[name] as ort.Tensor));
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.session.release();
  }
}

function toOrtTensor(t: Tensor): ort.Tensor {
  if (t.datatype === 'BYTES') {
    const strings = t.data as string[];
    for (let i = 0; i < strings.length; i++) {
      // onnxruntime cuts a string at its first NUL byte without a word: refuse rather than serve a different input.
      if ((strings[i] as string).includes('\0')) {
        throw invalid(`input '${t.name}': element ${i} contains a NUL byte, which ONNX string tensors cannot hold`);
      }
    }
  }
  const tensor = new ort.Tensor(ortFromV2(t.datatype), t.data as never, t.shape as number[]);
  if (t.datatype === 'FP16' && !(tensor.data instanceof Uint16Array)) {
    // Where Float16Array exists (Node 24), onnxruntime-common wraps FP16 bits in one, and onnxruntime-node 1.30's
    // native side reads a Float16Array as empty ("not enough space: expected 12, got 0"), failing the whole run.
    // Hand it the half bits as they are.
    (tensor as unknown as { cpuData: Uint16Array }).cpuData = t.data as Uint16Array;
  }
  return tensor;
}

function fromOrtTensor(name: string, t: ort.Tensor): Tensor {
  const datatype = v2FromOrt(t.type);
  if (!datatype) throw new FerryError('INTERNAL', `output '${name}' has ONNX type ${t.type}, which V2 cannot carry`);
  let data = t.data as TensorData | Float32Array;
  if (datatype === 'FP16' && !(data instanceof Uint16Array)) {
    // Node 24 gives FP16 outputs as a Float16Array; ferry holds FP16 as half bits everywhere (Node 20 has no Float16Array).
    const view = data as unknown as ArrayBufferView & { length: number };
    data = new Uint16Array(view.buffer, view.byteOffset, view.length);
  }
  return { name, datatype, shape: [...t.dims], data: data as TensorData };
}
