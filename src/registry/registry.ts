/**
 * The registry of live models: which versions are served (the version policy), their load state, and lookup by
 * name and version. Loading goes through a RuntimeLoader so the registry knows no runtime in particular.
 */
import { access } from 'node:fs/promises';
import { messageOf, notFound, unavailable } from '../errors.js';
import { DEFAULT_VERSION_POLICY, describePolicy, selectVersions, type ModelConfig } from '../config/model-config.js';
import type { ModelOnDisk } from '../repository/model-repository.js';
import type { RuntimeLoader } from '../runtime/load.js';
import { ModelVersion, type ModelState } from './model-version.js';
import type { Logger } from '../observe/logger.js';
import type { Metrics } from '../observe/metrics.js';
import { DynamicBatcher } from '../batching/dynamic-batcher.js';
import { describePlan, planBatching } from './batching-plan.js';

export interface RegisteredModel {
  readonly name: string;
  readonly config: ModelConfig;
  /** Served versions by number (the policy already applied). */
  readonly versions: ReadonlyMap<number, ModelVersion>;
  /** Versions on disk that the policy leaves out, for a helpful 404. */
  readonly unservedVersions: readonly number[];
  /** Why the whole model is unavailable (bad config, no versions). */
  readonly problem: string | undefined;
}

export interface IndexEntry {
  readonly name: string;
  readonly version?: string;
  readonly state: ModelState;
  readonly reason?: string;
}

const VERSION_TEXT = /^[1-9][0-9]*$/;

export class ModelRegistry {
  private readonly models = new Map<string, RegisteredModel>();

  constructor(
    private readonly loader: RuntimeLoader,
    private readonly log: Logger,
    private readonly metrics?: Metrics,
  ) {}

  /** Registers every model (all LOADING at once, so readiness is honest), then loads them concurrently. */
  async loadAll(found: readonly ModelOnDisk[]): Promise<void> {
    const pending: Promise<void>[] = [];
    let allSettled!: () => void;
    const settled = new Promise<void>((resolve) => (allSettled = resolve));
    for (const m of found) {
      const policy = m.config.version_policy ?? DEFAULT_VERSION_POLICY;
      const served = new Set(selectVersions(policy, m.versions.map((v) => v.version)));
      const versions = new Map<number, ModelVersion>();
      for (const v of m.versions) {
        if (served.has(v.version)) versions.set(v.version, new ModelVersion(m.name, v.version, v.file));
      }
      const problem = m.problem ?? (versions.size === 0 && m.versions.length > 0
        ? `the version policy (${describePolicy(policy)}) selects none of the versions on disk (${m.versions.map((v) => v.version).join(', ')})`
        : undefined);
      if (problem) this.log.error({ model: m.name }, `model '${m.name}' is unavailable: ${problem}`);
      this.models.set(m.name, {
        name: m.name,
        config: m.config,
        versions,
        unservedVersions: m.versions.map((v) => v.version).filter((v) => !served.has(v)),
        problem,
      });
      for (const version of versions.values()) pending.push(this.loadVersion(version, settled));
    }
    await Promise.all(pending);
    allSettled();
  }

  private async loadVersion(version: ModelVersion, settled: Promise<void>): Promise<void> {
    const what = `model '${version.modelName}' version ${version.version}`;
    const started = performance.now();
    try {
      await access(version.file).catch(() => {
        throw new Error(`model file ${version.file} does not exist`);
      });
      const fields = { model: version.modelName, version: version.version };
      const report = (level: 'info' | 'warn' | 'error', message: string) => this.log[level](fields, message);
      const config = this.models.get(version.modelName)!.config;
      const { runtime, notes, warnings } = await this.loader(version.file, { config, label: what, report, settled });
      let plan;
      try {
        plan = planBatching(runtime, config, what);
      } catch (e) {
        await runtime.release();
        throw e;
      }
      const metrics = this.metrics?.forVersion(version.modelName, version.version);
      version.metrics = metrics;
      version.markReady(runtime, new DynamicBatcher(plan.options, (inputs, outputs) => runtime.run(inputs, outputs), metrics), plan.clientInputs);
      notes.push(describePlan(plan, runtime.placement));
      for (const note of notes) this.log.info(fields, `${what}: ${note}`);
      for (const warning of warnings) this.log.warn(fields, `${what}: ${warning}`);
      this.log.info({ model: version.modelName, version: version.version, ms: Math.round(performance.now() - started) }, `${what} is ready`);
    } catch (e) {
      version.markUnavailable(`failed to load: ${messageOf(e)}`);
      this.log.error({ model: version.modelName, version: version.version }, `${what} failed to load: ${messageOf(e)}`);
    }
  }

  get size(): number {
    return this.models.size;
  }

  /** True while any version is still loading. */
  get loading(): boolean {
    for (const m of this.models.values()) for (const v of m.versions.values()) if (v.state === 'LOADING') return true;
    return false;
  }

  /** True when every model has a READY version (Triton's strict readiness). */
  get allReady(): boolean {
    for (const m of this.models.values()) {
      if (m.problem || ![...m.versions.values()].some((v) => v.state === 'READY')) return false;
    }
    return true;
  }

  model(name: string): RegisteredModel {
    const m = this.models.get(name);
    if (!m) throw notFound(`unknown model '${name}'`);
    return m;
  }

  /**
   * The version a request is for: the one named, or the highest READY one.
   * NOT_FOUND for an unknown model or version, UNAVAILABLE for one that is loading or failed.
   */
  resolve(name: string, versionText?: string): ModelVersion {
    const m = this.model(name);
    if (m.problem) throw unavailable(`model '${name}' is unavailable: ${m.problem}`);
    if (versionText === undefined || versionText === '') {
      let best: ModelVersion | undefined;
      for (const v of m.versions.values()) if (v.state === 'READY' && (!best || v.version > best.version)) best = v;
      if (best) return best;
      const latest = [...m.versions.values()].sort((a, b) => b.version - a.version)[0] as ModelVersion;
      throw notReady(latest);
    }
    const number = VERSION_TEXT.test(versionText) ? Number(versionText) : NaN;
    const v = m.versions.get(number);
    if (!v) {
      const served = [...m.versions.keys()].join(', ');
      if (m.unservedVersions.includes(number)) {
        const policy = describePolicy(m.config.version_policy ?? DEFAULT_VERSION_POLICY);
        throw notFound(`model '${name}' version ${number} is on disk but not served: the version policy is ${policy} (served: ${served})`);
      }
      throw notFound(`model '${name}' has no version '${versionText}' (served versions: ${served})`);
    }
    if (v.state !== 'READY') throw notReady(v);
    return v;
  }

  /**
   * Served versions, and how many are READY, for the start-up log line. Not index(): its sort by localeCompare
   * costs about 6 ms the first time (ICU's collator starts), right when the server turns ready.
   */
  versionCounts(): { versions: number; ready: number } {
    let versions = 0;
    let ready = 0;
    for (const m of this.models.values()) {
      for (const v of m.versions.values()) {
        versions++;
        if (v.state === 'READY') ready++;
      }
    }
    return { versions, ready };
  }

  /** Every model and version with its state, for the repository index. */
  index(): IndexEntry[] {
    const out: IndexEntry[] = [];
    for (const m of [...this.models.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      if (m.problem) out.push({ name: m.name, state: 'UNAVAILABLE', reason: m.problem });
      for (const v of m.versions.values()) {
        out.push({ name: m.name, version: String(v.version), state: v.state, ...(v.reason ? { reason: v.reason } : {}) });
      }
    }
    return out;
  }

  async unloadAll(): Promise<void> {
    const all: Promise<void>[] = [];
    for (const m of this.models.values()) for (const v of m.versions.values()) all.push(v.unload());
    await Promise.all(all);
  }
}

function notReady(v: ModelVersion): Error {
  const what = `model '${v.modelName}' version ${v.version}`;
  if (v.state === 'LOADING') return unavailable(`${what} is loading`);
  return unavailable(`${what} is unavailable: ${v.reason ?? v.state.toLowerCase()}`);
}
