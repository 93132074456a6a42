/**
 * The registry of live models: which versions serve, their states, lookup by name and version, and the changes
 * (apply what the repository says, unload) that move a model from one set of versions to the next without a failed
 * request (model-entry.ts). Changes to one model run one at a time; different models change concurrently. Loading
 * goes through a RuntimeLoader, so the registry knows no runtime in particular.
 */
import { conflict, notFound, unavailable } from '../errors.js';
import { DEFAULT_VERSION_POLICY, describePolicy } from '../config/model-config.js';
import type { ModelOnDisk } from '../repository/model-repository.js';
import type { RuntimeLoader } from '../runtime/load.js';
import type { Logger } from '../observe/logger.js';
import type { Metrics } from '../observe/metrics.js';
import { ModelEntry, type ApplyResult } from './model-entry.js';
import type { ModelState, ModelVersion } from './model-version.js';
import type { LoadRound } from './version-loader.js';

export type { ApplyResult } from './model-entry.js';
export type { LoadRound } from './version-loader.js';

export interface IndexEntry {
  readonly name: string;
  readonly version?: string;
  readonly state: ModelState;
  readonly reason?: string;
}

const VERSION_TEXT = /^[1-9][0-9]*$/;

export class ModelRegistry {
  private readonly models = new Map<string, ModelEntry>();
  /** Models known but not loaded (explicit model control, or unloaded), with why: for the index and a clear 404. */
  private readonly notLoaded = new Map<string, string>();
  /** The change in progress per model (apply or unload). */
  private readonly changing = new Map<string, Promise<unknown>>();
  private readonly deps: { loader: RuntimeLoader; log: Logger; metrics?: Metrics };

  constructor(loader: RuntimeLoader, log: Logger, metrics?: Metrics) {
    this.deps = { loader, log, ...(metrics ? { metrics } : {}) };
  }

  /** True while a change to `name` is in progress. */
  busy(name: string): boolean {
    return this.changing.has(name);
  }

  /** True when `name` is registered (loaded, loading, or failed), not merely known on disk. */
  has(name: string): boolean {
    return this.models.has(name);
  }

  /** Names of the registered models. */
  names(): string[] {
    return [...this.models.keys()];
  }

  /**
   * Moves a model to what the repository says (see ModelEntry.apply). CONFLICT if a change to it is in progress:
   * callers that can wait (the poller) check busy() first.
   */
  apply(source: ModelOnDisk, round: LoadRound, options: { retryFailures?: boolean } = {}): Promise<ApplyResult> {
    return this.change(source.name, async () => {
      let entry = this.models.get(source.name);
      if (!entry) this.models.set(source.name, (entry = new ModelEntry(source.name, this.deps)));
      this.notLoaded.delete(source.name);
      if (options.retryFailures) entry.retryFailures();
      return entry.apply(source, round);
    });
  }

  /** Drains and unloads every version of `name`; it is then known as not loaded, for `reason`. */
  unload(name: string, reason: string): Promise<number[]> {
    return this.change(name, async () => {
      const entry = this.models.get(name);
      if (!entry) return [];
      const unloaded = await entry.unloadAll(reason);
      this.models.delete(name);
      this.notLoaded.set(name, reason);
      return unloaded;
    });
  }

  /** Records a model the repository holds that is not loaded (undefined: forget it, as when its folder is gone). */
  markNotLoaded(name: string, reason: string | undefined): void {
    if (reason === undefined) this.notLoaded.delete(name);
    else if (!this.models.has(name)) this.notLoaded.set(name, reason);
  }

  private change<T>(name: string, fn: () => Promise<T>): Promise<T> {
    if (this.changing.has(name)) return Promise.reject(conflict(`model '${name}' is already being loaded or unloaded; retry once that is over`));
    const run = fn().finally(() => this.changing.delete(name));
    this.changing.set(name, run);
    return run;
  }

  get size(): number {
    return this.models.size;
  }

  /** True when every registered model has a READY version (Triton's strict readiness). */
  get allReady(): boolean {
    for (const m of this.models.values()) if (m.problem || !m.anyReady) return false;
    return true;
  }

  model(name: string): ModelEntry {
    const m = this.models.get(name);
    if (m) return m;
    const why = this.notLoaded.get(name);
    throw notFound(why ? `model '${name}' is not loaded: ${why}` : `unknown model '${name}'`);
  }

  /**
   * The version a request is for: the one named, or the highest READY one.
   * NOT_FOUND for an unknown model or version, UNAVAILABLE for one that is loading, failed or draining.
   */
  resolve(name: string, versionText?: string): ModelVersion {
    const m = this.model(name);
    if (m.problem) throw unavailable(`model '${name}' is unavailable: ${m.problem}`);
    if (versionText === undefined || versionText === '') {
      let best: ModelVersion | undefined;
      let latest: ModelVersion | undefined;
      for (const v of m.versions.values()) {
        if (v.state === 'READY' && (!best || v.version > best.version)) best = v;
        if (!latest || v.version > latest.version) latest = v;
      }
      if (best) return best;
      throw latest ? notReady(latest) : unavailable(`model '${name}' has no version loaded yet`);
    }
    const number = VERSION_TEXT.test(versionText) ? Number(versionText) : NaN;
    const v = m.versions.get(number);
    if (!v) {
      const served = [...m.versions.keys()].sort((a, b) => a - b).join(', ');
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

  /** Every model and version with its state, and models known but not loaded, for the repository index. */
  index(): IndexEntry[] {
    const rows: IndexEntry[] = [];
    for (const m of this.models.values()) {
      if (m.problem) rows.push({ name: m.name, state: 'UNAVAILABLE', reason: m.problem });
      for (const v of [...m.versions.values()].sort((a, b) => a.version - b.version)) {
        rows.push({ name: m.name, version: String(v.version), state: v.state, ...(v.reason ? { reason: v.reason } : {}) });
      }
    }
    for (const [name, reason] of this.notLoaded) rows.push({ name, state: 'UNAVAILABLE', reason });
    return rows.sort((a, b) => (a.name === b.name ? 0 : a.name.localeCompare(b.name)));
  }

  /** Unloads every model (drained); used by a graceful stop. */
  async unloadAll(): Promise<void> {
    await Promise.all([...this.changing.values()].map((p) => p.catch(() => undefined)));
    await Promise.all([...this.models.keys()].map((name) => this.unload(name, 'the server is stopping').catch(() => undefined)));
  }
}

function notReady(v: ModelVersion): Error {
  if (v.state === 'LOADING') return unavailable(`${v.label} is loading`);
  if (v.state === 'UNLOADING') return unavailable(`${v.label} is unloading (${v.reason ?? 'unloaded'})`);
  return unavailable(`${v.label} is unavailable: ${v.reason ?? v.state.toLowerCase()}`);
}
