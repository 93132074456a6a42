/**
 * Model load and unload on request (Triton's model repository extension), and what each control mode allows:
 * - explicit: load reads the model's folder now and loads it (or reloads what changed: new versions, changed
 *   files, a changed config); unload drains and unloads it.
 * - poll: the same, and the poller respects it: a model unloaded on request stays unloaded until a load, and a load
 *   applies at once rather than at the next poll (whoever asks says the files are complete).
 * - none: neither (Triton's rule); the repository stays as loaded at start.
 * A load never fetches anything a request names (no URLs, no files in the request: TorchServe's CVE-2023-43654);
 * the model must be a folder of the repository. `parameters.config` replaces the model's config file for that model
 * until its next load or unload, as Triton's does.
 */
import { stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { failedPrecondition, invalid, notFound } from '../errors.js';
import { variantName, type ModelConfig } from '../config/model-config.js';
import type { ModelControlMode } from '../config/server-config.js';
import type { ApplyResult, IndexEntry, LoadRound, ModelRegistry } from '../registry/registry.js';
import { modelFolderNames, scanModel, scanRepository, type ModelOnDisk } from '../repository/model-repository.js';

/**
 * What the management port calls: this process's ModelControl, or in a cluster the primary's forwarder that asks
 * every server process (cluster-management.ts).
 */
export interface ModelManagement {
  index(readyOnly?: boolean): Promise<IndexEntry[]>;
  /** `config`: a JSON model config (text or object) to load with instead of the config file. */
  load(name: string, config?: unknown): Promise<ControlOutcome>;
  unload(name: string): Promise<ControlOutcome>;
  /** Makes one variant of the model's traffic split the only one (a load with the config changed so). */
  promote(name: string, variant: string): Promise<PromoteOutcome>;
}

export interface PromoteOutcome extends ControlOutcome {
  readonly promoted: string;
  /** The config now served (held as a load's config is, until the model's next load or unload). */
  readonly config: ModelConfig;
}

export const NOT_LOADED_EXPLICIT = 'not loaded: the model control mode is explicit (load it with POST /v2/repository/models/NAME/load on the management port, or --load-model at start)';
const UNLOADED = 'unloaded by a management request (load it again with POST /v2/repository/models/NAME/load on the management port)';

/** What a load or unload did. */
export interface ControlOutcome {
  readonly model: string;
  readonly loaded: readonly number[];
  readonly unloaded: readonly number[];
  /** The versions serving afterwards. */
  readonly serving: readonly number[];
}

export interface ControlSettings {
  readonly repository: string;
  readonly modelName?: string;
  readonly controlMode: ModelControlMode;
}

type Apply = (source: ModelOnDisk, round: LoadRound, retryFailures: boolean) => Promise<ApplyResult>;

export class ModelControl implements ModelManagement {
  /** Poll mode: models unloaded on request, which the poller leaves alone until a load. */
  private readonly held = new Set<string>();
  /** Configs given with a load, used instead of the model's config file. */
  private readonly overrides = new Map<string, ModelConfig>();
  /** What was last applied per model, so a poll that finds nothing new applies nothing. */
  private readonly applied_ = new Map<string, string>();

  constructor(
    private readonly registry: ModelRegistry,
    private readonly settings: ControlSettings,
    private readonly apply: Apply,
  ) {}

  get mode(): ModelControlMode {
    return this.settings.controlMode;
  }

  /** Records what was applied to a model. */
  applied(source: ModelOnDisk): void {
    this.applied_.set(source.name, digest(source));
  }

  /** Poll mode: the source to apply for a polled model, or undefined when there is nothing to do (or not now). */
  toApply(polled: ModelOnDisk): ModelOnDisk | undefined {
    if (this.held.has(polled.name) || this.registry.busy(polled.name)) return undefined;
    const override = this.overrides.get(polled.name);
    const source = override ? { ...polled, config: override, problem: undefined, versions: withFile(polled, override) } : polled;
    if (!this.registry.has(polled.name) && source.versions.length === 0 && !source.problem) return undefined; // nothing loadable yet
    return this.applied_.get(source.name) === digest(source) ? undefined : source;
  }

  /** Poll mode: a model folder is gone from the repository: its model is drained and unloaded (the versions said). */
  async folderGone(name: string): Promise<number[]> {
    this.held.delete(name);
    this.overrides.delete(name);
    this.applied_.delete(name);
    const unloaded = this.registry.has(name) ? await this.registry.unload(name, 'its folder was removed from the repository').catch(() => []) : [];
    this.registry.markNotLoaded(name, undefined);
    return unloaded;
  }

  /** Every model and version with its state; models on disk that are not loaded too. `readyOnly`: READY rows only. */
  async index(readyOnly = false): Promise<IndexEntry[]> {
    if (this.mode === 'explicit') await this.noticeNewFolders();
    const rows = this.registry.index();
    return readyOnly ? rows.filter((r) => r.state === 'READY') : rows;
  }

  async load(name: string, rawConfig?: unknown): Promise<ControlOutcome> {
    this.allowed('loaded');
    checkName(name);
    this.registry.assertIdle(name);
    const override = rawConfig === undefined ? undefined : await parseOverride(rawConfig);
    const source = await this.read(name, override);
    const result = await this.apply(source, { settled: Promise.resolve(), startUp: false }, true);
    this.held.delete(name);
    if (override) this.overrides.set(name, override);
    else this.overrides.delete(name);
    const serving = this.serving(name);
    const failures = [...(result.problem ? [result.problem] : []), ...result.failed.map((f) => `version ${f.version} ${f.reason}`)];
    if (failures.length) {
      const still = serving.length ? `; still serving version${serving.length > 1 ? 's' : ''} ${serving.join(', ')}` : '';
      throw invalid(`model '${name}' did not load: ${failures.join('; ')}${still}`);
    }
    return { model: name, loaded: result.loaded, unloaded: result.unloaded, serving };
  }

  async unload(name: string): Promise<ControlOutcome> {
    this.allowed('unloaded');
    checkName(name);
    this.registry.assertIdle(name);
    if (!this.registry.has(name)) {
      const known = this.registry.index().some((r) => r.name === name) || (await this.onDisk(name));
      if (known) throw failedPrecondition(`model '${name}' is not loaded, so there is nothing to unload`);
      throw notFound(`unknown model '${name}'`);
    }
    const unloaded = await this.registry.unload(name, UNLOADED);
    this.overrides.delete(name);
    this.applied_.delete(name);
    if (this.mode === 'poll') this.held.add(name);
    return { model: name, loaded: [], unloaded, serving: [] };
  }

  async promote(name: string, variant: string): Promise<PromoteOutcome> {
    this.allowed('promoted');
    checkName(name);
    if (typeof variant !== 'string' || variant === '') throw invalid('promote needs "variant": the name of one of the traffic split\'s variants (as X-Ferry-Variant says it)');
    const current = this.registry.model(name).config;
    const traffic = current.traffic;
    if (!traffic) throw failedPrecondition(`model '${name}' has no traffic split to promote a variant of`);
    const chosen = traffic.variants.find((v) => variantName(v) === variant);
    if (!chosen) throw notFound(`model '${name}' has no traffic variant '${variant}' (its variants: ${traffic.variants.map(variantName).join(', ')})`);
    // The outcome and shadows stay: the experiment's results remain readable and shadows keep learning.
    const { allocation: _allocation, allocation_floor: _floor, ...rest } = traffic;
    const config: ModelConfig = { ...current, traffic: { ...rest, variants: [{ ...chosen, weight: 1 }] } };
    const outcome = await this.load(name, config);
    return { ...outcome, promoted: variant, config };
  }

  private allowed(done: string): void {
    if (this.mode === 'none') {
      throw failedPrecondition(`models cannot be ${done} on request: the model control mode is 'none' (start with --model-control-mode explicit or poll)`);
    }
  }

  /** The model's folder as it is now; NOT_FOUND when the repository holds no such model. */
  private async read(name: string, override: ModelConfig | undefined): Promise<ModelOnDisk> {
    const root = this.settings.repository;
    if ((await stat(root)).isFile()) {
      const [single] = await scanRepository(root, this.settings.modelName);
      if (!single || single.name !== name) throw notFound(`no model '${name}' here: the repository is the single model '${single?.name}' (${root})`);
      return override ? { ...single, config: override } : single;
    }
    const names = await modelFolderNames(root);
    if (!names.includes(name)) throw notFound(`no model folder '${name}' in the repository ${root} (models there: ${names.join(', ') || 'none'})`);
    return scanModel(root, name, override);
  }

  private async onDisk(name: string): Promise<boolean> {
    return this.read(name, undefined).then(() => true, () => false);
  }

  private serving(name: string): number[] {
    return this.registry.has(name) ? this.registry.model(name).servingVersions() : [];
  }

  /** Explicit mode: model folders added since start are listed in the index as not loaded. */
  private async noticeNewFolders(): Promise<void> {
    const root = this.settings.repository;
    const names = await modelFolderNames(root).catch(() => []);
    for (const name of names) if (!this.registry.has(name)) this.registry.markNotLoaded(name, NOT_LOADED_EXPLICIT);
  }
}

/** A model name a request may use: one folder of the repository, never a path. */
function checkName(name: string): void {
  if (!name || name.length > 255 || name === '.' || name === '..' || name.startsWith('.') || /[/\\\0]/.test(name)) {
    throw invalid(`'${name}' is not a model name: a model is a folder of the repository (no '/', '\\', or leading '.')`);
  }
}

/** `parameters.config`: a JSON text (Triton's form) or an object, validated as config.yaml is. */
async function parseOverride(raw: unknown): Promise<ModelConfig> {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch (e) {
      throw invalid(`parameters.config must be a JSON model config: ${(e as Error).message}`);
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid('parameters.config must be a JSON object (a model config, as config.yaml holds)');
  const { parseModelConfig } = await import('../config/model-config-schema.js');
  try {
    return parseModelConfig(value, '(parameters.config of the load request)');
  } catch (e) {
    throw invalid((e as Error).message);
  }
}

/** Versions with their file named by `config` (its default_model_filename may differ from the file config's). */
function withFile(m: ModelOnDisk, config: ModelConfig): ModelOnDisk['versions'] {
  const filename = config.default_model_filename;
  if (!filename) return m.versions;
  return m.versions.map((v) => ({ ...v, file: join(dirname(v.file), filename) }));
}

function digest(m: ModelOnDisk): string {
  return JSON.stringify([m.config, m.problem ?? '', m.versions.map((v) => [v.version, v.fingerprint]), m.pending ?? []]);
}
