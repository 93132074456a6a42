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
import type { ModelState, ModelVersion, Route } from './model-version.js';
import type { RoutingKeySource, Variant } from './traffic-split.js';
import type { ExperimentBook } from '../experiment/experiment-book.js';
import type { LoadRound } from './version-loader.js';

export type { ApplyResult } from './model-entry.js';
export type { LoadRound } from './version-loader.js';
export type { Route } from './model-version.js';

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
  private readonly deps: { loader: RuntimeLoader; log: Logger; metrics?: Metrics; experiments?: ExperimentBook };

  constructor(loader: RuntimeLoader, log: Logger, metrics?: Metrics, experiments?: ExperimentBook) {
    this.deps = { loader, log, ...(metrics ? { metrics } : {}), ...(experiments ? { experiments } : {}) };
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
      this.deps.metrics?.forgetTraffic(name);
      this.deps.experiments?.forModel(name, undefined);
      this.notLoaded.set(name, reason);
      return unloaded;
    });
  }

  /** Records a model the repository holds that is not loaded (undefined: forget it, as when its folder is gone). */
  markNotLoaded(name: string, reason: string | undefined): void {
    if (reason === undefined) this.notLoaded.delete(name);
    else if (!this.models.has(name)) this.notLoaded.set(name, reason);
  }

  /** CONFLICT while a change to `name` is in progress (a caller may check before costly work, such as reading disk). */
  assertIdle(name: string): void {
    if (this.changing.has(name)) throw conflict(`model '${name}' is already being loaded or unloaded; retry once that is over`);
  }

  private change<T>(name: string, fn: () => Promise<T>): Promise<T> {
    try {
      this.assertIdle(name);
    } catch (e) {
      return Promise.reject(e);
    }
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
    // Triton's opening words: its example clients, and scripts written against it, check that the message starts so.
    throw notFound(why ? `model '${name}' is not loaded: ${why}` : `Request for unknown model '${name}'`);
  }

  /**
   * What answers an inference request: the version it names, or, without one, the variant its model's traffic split
   * chooses (by weight, or by the request's sticky key), or the highest READY version. A variant that cannot answer
   * (not loaded, not ready) gives way to the next one, the control first, and is counted.
   */
  route(name: string, versionText: string | undefined, source: RoutingKeySource): Route {
    if (versionText !== undefined && versionText !== '') return this.resolve(name, versionText).route;
    const m = this.model(name);
    const split = m.split;
    if (split === undefined || m.problem) {
      const best = m.problem ? undefined : highestReady(m);
      return best ? best.route : this.resolve(name).route; // resolve() says why there is none
    }
    const counters = m.trafficMetrics;
    let key: string | undefined;
    if (split.sticky) {
      key = split.keyOf(source);
      if (key === undefined && counters) counters.unkeyed.value++;
    }
    const chosen = split.choose(key);
    let version = this.variantVersion(m, chosen);
    let variant = chosen;
    if (!version) {
      if (counters) counters.fallback(chosen.name).value++;
      for (const v of split.variants) {
        if (v === chosen || v.weight <= 0) continue;
        version = this.variantVersion(m, v);
        if (version) {
          variant = v;
          break;
        }
      }
      if (!version) throw unavailable(`model '${name}': no variant of its traffic split can answer (${split.variants.map((v) => v.name).join(', ')}); ${this.whyNot(m, chosen)}`);
    }
    if (counters) counters.variant(variant.name).value++;
    return { version, variant: variant.name, experiment: m.experiment };
  }

  /**
   * The READY version a traffic target of model `name` stands for (a version of it, or another model's default
   * version), if any: where a shadow's or a comparison's copy goes.
   */
  targetVersion(name: string, target: { readonly model: string | undefined; readonly version: number | undefined }): ModelVersion | undefined {
    const m = this.models.get(name);
    return m ? this.variantVersion(m, target) : undefined;
  }

  /** The READY version a variant stands for, if any. */
  private variantVersion(m: ModelEntry, v: { readonly model: string | undefined; readonly version: number | undefined }): ModelVersion | undefined {
    if (v.model === undefined) {
      const version = m.versions.get(v.version as number);
      return version?.state === 'READY' ? version : undefined;
    }
    const other = this.models.get(v.model);
    return other && !other.problem ? highestReady(other) : undefined;
  }

  private whyNot(m: ModelEntry, v: Variant): string {
    try {
      if (v.model !== undefined) this.resolve(v.model);
      else this.resolve(m.name, String(v.version));
      return `variant '${v.name}' is not ready`;
    } catch (e) {
      return `variant '${v.name}': ${(e as Error).message}`;
    }
  }

  /**
   * The version a request is for: the one named, or the highest READY one.
   * NOT_FOUND for an unknown model or version, UNAVAILABLE for one that is loading, failed or draining.
   */
  resolve(name: string, versionText?: string): ModelVersion {
    const m = this.model(name);
    if (m.problem) throw unavailable(`model '${name}' is unavailable: ${m.problem}`);
    if (versionText === undefined || versionText === '') {
      const best = highestReady(m);
      if (best) return best;
      let latest: ModelVersion | undefined;
      for (const v of m.versions.values()) if (!latest || v.version > latest.version) latest = v;
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

function highestReady(m: ModelEntry): ModelVersion | undefined {
  let best: ModelVersion | undefined;
  for (const v of m.versions.values()) if (v.state === 'READY' && (!best || v.version > best.version)) best = v;
  return best;
}

function notReady(v: ModelVersion): Error {
  if (v.state === 'LOADING') return unavailable(`${v.label} is loading`);
  if (v.state === 'UNLOADING') return unavailable(`${v.label} is unloading (${v.reason ?? 'unloaded'})`);
  return unavailable(`${v.label} is unavailable: ${v.reason ?? v.state.toLowerCase()}`);
}
