/**
 * Where `ferry batch` gets its predictions: in-process, through the serving core `ferry serve` uses (the same
 * repository reading, registry, batcher, runtime and data plane, so batch and online answers for a row are
 * identical; the model loaded as explicit model control loads it), or from a running V2 server (remote mode, for a
 * model that lives on a GPU service). Either way the scorer sees only the data plane's metadata and infer.
 */
import { existsSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { pino } from 'pino';
import { ServingCore } from '../core/serving-core.js';
import { scanRepository } from '../repository/model-repository.js';
import { V2HttpClient } from '../client/http-client.js';
import type { Tensor, TensorSpec } from '../tensor/tensor.js';
import { isDatatype } from '../tensor/datatypes.js';
import type { Logger } from '../observe/logger.js';

export interface Scorer {
  readonly model: string;
  readonly version: string;
  /** Where the model is: a file, a repository folder, or a server URL (for the summary). */
  readonly source: string;
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  /** Scores one batch; `inputs` in this.inputs order; outputs come back in this.outputs order. */
  score(inputs: readonly Tensor[]): Promise<Tensor[]>;
  close(): Promise<void>;
}

export interface ModelRef {
  /** A model name (with `modelsDir`), a .onnx file, or a server URL such as http://host:8080/v2/models/NAME[/versions/V]. */
  readonly model: string;
  readonly modelsDir?: string;
  readonly version?: string;
  readonly log?: Logger;
}

export async function openScorer(ref: ModelRef): Promise<Scorer> {
  if (/^https?:\/\//.test(ref.model)) return openRemoteScorer(ref.model, ref.version);
  return openLocalScorer(ref);
}

async function openLocalScorer(ref: ModelRef): Promise<Scorer> {
  const log = ref.log ?? pino({ level: 'warn' });
  const isFile = extname(ref.model) === '.onnx' || (existsSync(ref.model) && statSync(ref.model).isFile());
  if (!isFile && !ref.modelsDir) {
    throw new Error(`'${ref.model}' is not an .onnx file; to use a model of a repository give --models DIR (or FERRY_MODEL_REPOSITORY)`);
  }
  const source = isFile ? ref.model : ref.modelsDir!;
  const name = isFile ? (await scanRepository(source))[0]!.name : ref.model;
  const core = await ServingCore.open({
    repository: source,
    controlMode: 'explicit',
    pollMs: 1000,
    loadModels: [name],
    log,
    dataplane: { serverName: 'ferry', serverVersion: '', extensions: [], strictReadiness: false },
    // A job pins one version (below), so no traffic split applies and nothing is recorded for an experiment.
    experiments: { dataDir: undefined, maxPredictions: 0, retentionMs: 0, unsupported: 'ferry batch scores one version' },
  });
  await core.load();
  let meta;
  try {
    meta = core.dataplane.modelMetadata(name, ref.version); // throws with the load failure's reason
  } catch (e) {
    await core.stop();
    throw e;
  }
  // Pin the version resolved now, so every batch of the job is scored by the same one.
  const version = ref.version ?? meta.versions.at(-1)!;
  const dataplane = core.dataplane;
  // With whether each may be missing (a model's features): the readers then take an empty value as missing.
  const inputs = core.dataplane.modelInputs(name, version).map((t) => ({ ...spec(t, 'input'), ...(t.missing ? { missing: true } : {}) }));
  const outputs = meta.outputs.map((t) => spec(t, 'output'));
  const outputNames = outputs.map((o) => ({ name: o.name }));
  return {
    model: name,
    version,
    source,
    inputs,
    outputs,
    async score(batchInputs) {
      const response = await dataplane.infer({ modelName: name, modelVersion: version, inputs: batchInputs, outputs: outputNames });
      return response.outputs as Tensor[];
    },
    close: () => core.stop(),
  };
}

/** A tensor as metadata describes it, as the scorer's spec. */
function spec(t: { name: string; datatype: string; shape: readonly number[] }, role: string): TensorSpec {
  if (!isDatatype(t.datatype)) throw new Error(`the model's ${role} '${t.name}' has datatype ${t.datatype}, which ferry does not know`);
  return { name: t.name, datatype: t.datatype, shape: t.shape };
}

/** http://host:port/v2/models/NAME[/versions/V] -> the server's base URL, the model and the version. */
function parseModelUrl(text: string): { base: string; model: string; version: string | undefined } {
  const url = new URL(text);
  const m = /^(.*?)\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?\/?$/.exec(url.pathname);
  if (!m) throw new Error(`a server URL must name the model: http://HOST:PORT/v2/models/NAME[/versions/V], got ${text}`);
  return { base: `${url.protocol}//${url.host}${m[1]}`, model: decodeURIComponent(m[2]!), version: m[3] === undefined ? undefined : decodeURIComponent(m[3]) };
}

async function openRemoteScorer(text: string, versionFlag: string | undefined): Promise<Scorer> {
  const { base, model, version: urlVersion } = parseModelUrl(text);
  const client = new V2HttpClient(base, { timeoutMs: 120_000 });
  const requested = versionFlag ?? urlVersion;
  const meta = await client.modelMetadata(model, requested);
  const inputs = meta.inputs.map((t) => spec(t, 'input'));
  const outputs = meta.outputs.map((t) => spec(t, 'output'));
  // Pin the version the server resolved, so every batch of the job is scored by the same one.
  const version = requested ?? meta.versions.at(-1) ?? '';
  const outputNames = outputs.map((o) => ({ name: o.name }));
  return {
    model,
    version,
    source: base,
    inputs,
    outputs,
    async score(batchInputs) {
      // Binary tensors: exact for 64-bit integers and far cheaper than JSON for large batches.
      const result = await client.infer(model, { inputs: batchInputs, outputs: outputNames }, { encoding: 'binary', ...(version ? { version } : {}) });
      return outputs.map((o) => result.outputs.find((t) => t.name === o.name)!);
    },
    close: async () => client.close(),
  };
}
