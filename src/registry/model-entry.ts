/**
 * One model as the registry serves it, and how it moves from what it serves to what the repository says (apply):
 * versions new on disk, or whose files or config changed, are loaded beside the serving ones and warmed up; each
 * takes traffic once READY; the versions they replace then stop taking requests, drain, and release their runtime.
 *
 * The rule that makes a deploy fail no request: a READY version is retired only once a version the repository
 * wants is READY. So a new version that fails to load, a deploy script that deletes the old version before ferry has
 * seen the new one, a config that no longer parses, or a policy that selects nothing all leave the last serving
 * versions serving (from memory), and the index says why.
 */
import { DEFAULT_VERSION_POLICY, describePolicy, selectVersions, type ModelConfig } from '../config/model-config.js';
import type { ModelOnDisk } from '../repository/model-repository.js';
import { ModelVersion } from './model-version.js';
import { TrafficSplit } from './traffic-split.js';
import type { TrafficMetrics } from '../observe/metrics.js';
import { loadVersion, type LoadRound, type VersionLoaderDeps } from './version-loader.js';
import { planOf } from '../experiment/experiment-plan.js';
import type { Experiment } from '../experiment/experiment.js';
import type { ExperimentBook } from '../experiment/experiment-book.js';

export interface ModelEntryDeps extends VersionLoaderDeps {
  readonly experiments?: ExperimentBook;
}

/** What one apply did, for the log and the management API's answer. */
export interface ApplyResult {
  readonly loaded: number[];
  readonly failed: { readonly version: number; readonly reason: string }[];
  readonly unloaded: number[];
  /** Why the repository's state of the model cannot be served at all (bad config, no versions, a policy that selects none). */
  problem?: string;
}

export class ModelEntry {
  /** What requests see, by version number: serving versions, versions loading for the first time, failed ones. */
  readonly versions = new Map<number, ModelVersion>();
  /** The config last applied (its version policy explains a 404 for a version on disk that is not served). */
  config: ModelConfig = {};
  /** Versions on disk that the policy leaves out. */
  unservedVersions: number[] = [];
  /** Why the model as a whole serves nothing (bad config, no versions), when it does not. */
  problem: string | undefined;
  /** How requests without a version are split (config.yaml `traffic`), and its counters. */
  split: TrafficSplit | undefined;
  trafficMetrics: TrafficMetrics | undefined;
  /** What the split's experiment records (traffic.outcome or traffic.shadow), if it asks for one. */
  experiment: Experiment | undefined;
  private splitKey = 'null';
  /** Loads that failed, by version: what was tried (fingerprint and config) so the same is not retried on every poll. */
  private readonly failedAttempts = new Map<number, { readonly attempt: string; readonly reason: string }>();

  constructor(
    readonly name: string,
    private readonly deps: ModelEntryDeps,
  ) {}

  get anyReady(): boolean {
    for (const v of this.versions.values()) if (v.state === 'READY') return true;
    return false;
  }

  /** Forgets past failures, so the next apply tries them again (an explicit load asks for that). */
  retryFailures(): void {
    this.failedAttempts.clear();
  }

  async apply(source: ModelOnDisk, round: LoadRound): Promise<ApplyResult> {
    const deps = this.deps;
    const result: ApplyResult = { loaded: [], failed: [], unloaded: [] };
    const policy = source.config.version_policy ?? DEFAULT_VERSION_POLICY;
    const onDisk = [...source.versions.map((v) => v.version), ...(source.pending ?? [])].sort((a, b) => a - b);
    const wanted = new Set(selectVersions(policy, onDisk));
    result.problem = source.problem ?? (wanted.size === 0 ? `the version policy (${describePolicy(policy)}) selects none of the versions on disk (${onDisk.join(', ')})` : undefined);
    if (result.problem) {
      this.keepServing(result.problem);
      return result;
    }
    this.config = source.config;
    this.setSplit(source.config, wanted);
    const candidates = this.candidates(source, wanted);
    await Promise.all(candidates.map((c) => loadVersion(c, round, deps)));
    const retiring = [...this.swapIn(candidates, result), ...this.retireUnwanted(wanted, result)];
    this.unservedVersions = onDisk.filter((n) => !wanted.has(n));
    this.problem = undefined;
    await Promise.all(retiring);
    return result;
  }

  /**
   * The loads to make: wanted versions new to the registry, or whose files or config differ from what serves, unless
   * that same attempt failed before. A version new to requests shows as LOADING; a reload of a serving one stays
   * hidden until it is READY.
   */
  private candidates(source: ModelOnDisk, wanted: ReadonlySet<number>): ModelVersion[] {
    const configKey = versionConfigKey(source.config);
    const out: ModelVersion[] = [];
    for (const disk of source.versions) {
      if (!wanted.has(disk.version)) continue;
      const current = this.versions.get(disk.version);
      if (current && current.state !== 'UNAVAILABLE' && current.fingerprint === disk.fingerprint && versionConfigKey(current.config) === configKey) {
        this.failedAttempts.delete(disk.version); // the repository is back to what serves
        continue;
      }
      if (this.failedAttempts.get(disk.version)?.attempt === `${disk.fingerprint}\n${configKey}`) continue;
      const next = new ModelVersion(this.name, disk.version, disk.file, source.config, disk.fingerprint);
      out.push(next);
      if (!current || current.state !== 'READY') this.versions.set(disk.version, next);
    }
    return out;
  }

  /** Loaded candidates take the place of what they replace (which drains); failed ones are remembered. */
  private swapIn(candidates: readonly ModelVersion[], result: ApplyResult): Promise<void>[] {
    const retiring: Promise<void>[] = [];
    for (const c of candidates) {
      const current = this.versions.get(c.version);
      if (c.state === 'READY') {
        this.failedAttempts.delete(c.version);
        result.loaded.push(c.version);
        this.versions.set(c.version, c);
        if (current && current !== c) retiring.push(this.retire(current, `replaced by a new load of version ${c.version}`));
        continue;
      }
      const reason = c.reason ?? 'failed to load';
      this.failedAttempts.set(c.version, { attempt: `${c.fingerprint}\n${versionConfigKey(c.config)}`, reason });
      result.failed.push({ version: c.version, reason });
      if (!current || current === c || current.state !== 'READY') this.versions.set(c.version, c);
    }
    return retiring;
  }

  /** READY versions the repository no longer wants drain, once one it wants is READY; until then they serve. */
  private retireUnwanted(wanted: ReadonlySet<number>, result: ApplyResult): Promise<void>[] {
    const retiring: Promise<void>[] = [];
    const wantedReady = [...wanted].some((n) => this.versions.get(n)?.state === 'READY');
    for (const [n, v] of this.versions) {
      if (v.state !== 'READY') {
        if (!wanted.has(n) && v.state === 'UNAVAILABLE') this.versions.delete(n); // a failed load no longer wanted
        continue;
      }
      v.reason = this.noticeFor(v, wanted.has(n), wantedReady, wanted);
      if (!wanted.has(n) && wantedReady) {
        retiring.push(this.retire(v, 'not served any more: the repository or the version policy changed'));
        result.unloaded.push(n);
      }
    }
    return retiring;
  }

  /**
   * The traffic split of the config applied (none without `traffic`). A weight changed takes effect for the next
   * request; the versions are not reloaded for it. A variant naming a version the policy does not serve is said once:
   * its share goes to the control (and is counted as a fallback).
   */
  private setSplit(config: ModelConfig, wanted: ReadonlySet<number>): void {
    const key = JSON.stringify(config.traffic ?? null);
    if (key === this.splitKey) return;
    this.splitKey = key;
    this.deps.metrics?.forgetTraffic(this.name);
    this.split = config.traffic ? new TrafficSplit(config.traffic) : undefined;
    this.trafficMetrics = this.split ? this.deps.metrics?.forTraffic(this.name, this.split.variants.map((v) => v.name)) : undefined;
    this.experiment = this.deps.experiments?.forModel(this.name, planOf(config.traffic));
    if (this.experiment) {
      const split = this.split as TrafficSplit;
      // Thompson allocation moves this split's weights; weights learnt before a restart apply at once.
      this.experiment.onWeights = (weights) => split.setWeights(weights);
      if (this.experiment.plan.thompson && this.experiment.weights) split.setWeights(this.experiment.weights);
    }
    for (const v of this.split?.variants ?? []) {
      if (v.version !== undefined && !wanted.has(v.version)) {
        this.deps.log.warn({ model: this.name }, `model '${this.name}': traffic variant '${v.name}' names version ${v.version}, which the version policy does not serve (${describePolicy(config.version_policy ?? DEFAULT_VERSION_POLICY)}): its share goes to the control; serve it with version_policy: {all: {}} or {specific: ...}`);
      }
    }
  }

  /** Unloads every version (drained); the entry is empty after. Returns the versions that were serving. */
  async unloadAll(reason: string): Promise<number[]> {
    const serving = this.servingVersions();
    await Promise.all([...this.versions.values()].map((v) => this.retire(v, reason)));
    return serving;
  }

  /** The READY version numbers, ascending. */
  servingVersions(): number[] {
    return [...this.versions.values()].filter((v) => v.state === 'READY').map((v) => v.version).sort((a, b) => a - b);
  }

  /**
   * Stops routing to `v` now (its state leaves READY in this tick), drains it, and forgets it, and its metric series
   * unless a new load of the same version number has taken its place.
   */
  private async retire(v: ModelVersion, reason: string): Promise<void> {
    await v.unload(reason);
    if (this.versions.get(v.version) === v) this.versions.delete(v.version);
    if (!this.versions.has(v.version)) this.deps.metrics?.forgetVersion(this.name, v.version);
  }

  /** The repository says something that cannot be served: keep what serves, or say why nothing does. */
  private keepServing(problem: string): void {
    if (this.anyReady) {
      for (const v of this.versions.values()) if (v.state === 'READY') v.reason = `${problem}; still serving what was loaded before`;
      this.problem = undefined;
    } else {
      this.problem = problem;
    }
    this.deps.log.error({ model: this.name }, `model '${this.name}': ${problem}${this.anyReady ? ' (still serving what was loaded before)' : ''}`);
  }

  /** What a READY version's index row says: why it serves though a newer state of the model is not what it is. */
  private noticeFor(v: ModelVersion, isWanted: boolean, wantedReady: boolean, wanted: ReadonlySet<number>): string | undefined {
    if (!isWanted) return wantedReady ? undefined : `kept serving until a version the repository wants is ready (wanted: ${[...wanted].join(', ')})`;
    const failed = this.failedAttempts.get(v.version);
    return failed ? `a new load of this version ${failed.reason}; still serving the earlier load` : undefined;
  }
}

/** The config as it concerns a loaded version: all of it but the traffic split, which a version does not see. */
function versionConfigKey(config: ModelConfig): string {
  return JSON.stringify(config.traffic === undefined ? config : { ...config, traffic: undefined });
}

/** "loaded version 2; unloaded version 1", for the log. */
export function describeApply(name: string, r: ApplyResult): string {
  const parts: string[] = [];
  if (r.loaded.length) parts.push(`loaded version${r.loaded.length > 1 ? 's' : ''} ${r.loaded.join(', ')}`);
  if (r.failed.length) parts.push(r.failed.map((f) => `version ${f.version} ${f.reason}`).join('; '));
  if (r.unloaded.length) parts.push(`unloaded version${r.unloaded.length > 1 ? 's' : ''} ${r.unloaded.join(', ')}`);
  return `model '${name}': ${parts.join('; ') || 'nothing changed'}`;
}
