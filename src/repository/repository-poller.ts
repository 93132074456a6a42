/**
 * Poll mode: reads the repository every few seconds and says what can be applied, judging whether files are
 * complete (version-files.ts): a version folder counts once its files are the same in two polls in a row, or at first
 * sight when it was renamed into place whole; a config file once it is the same in two polls; a model folder is
 * gone once it is missing in two polls in a row (a deploy that deletes and copies back within one poll unloads
 * nothing). A folder that cannot be read this time is left as it was; a repository that cannot be read at all
 * changes nothing (a volume being remounted must not unload every model).
 */
import { stat } from 'node:fs/promises';
import { messageOf } from '../errors.js';
import type { Logger } from '../observe/logger.js';
import { modelFolderNames, scanModel, scanRepository, type ModelOnDisk } from './model-repository.js';

export interface PollResult {
  /** Models as they can be applied now: complete versions, versions still being written as pending. */
  readonly models: readonly ModelOnDisk[];
  /** Model folders gone (missing two polls in a row). */
  readonly gone: readonly string[];
}

export class RepositoryPoller {
  /** Last seen fingerprint per "model/version" and per model's config file. */
  private readonly versionPrints = new Map<string, string>();
  private readonly configPrints = new Map<string, string>();
  /** Models seen on disk, with how many polls in a row each has been missing. */
  private readonly missing = new Map<string, number>();
  private unreadable: string | undefined;
  /** Versions said to be waiting for their files, so the log says it once per version, not once per poll. */
  private readonly announced = new Set<string>();

  constructor(
    private readonly root: string,
    private readonly singleModelName: string | undefined,
    private readonly log: Logger,
  ) {}

  /** Starts from what the server loaded at start, so the first poll compares with it. */
  seed(models: readonly ModelOnDisk[]): void {
    for (const m of models) this.remember(m);
  }

  async poll(): Promise<PollResult> {
    let info;
    try {
      info = await stat(this.root);
    } catch (e) {
      this.reportUnreadable(`cannot read the model repository ${this.root} (${messageOf(e)}); nothing changes until it is back`);
      return { models: [], gone: [] };
    }
    if (info.isFile()) return { models: await this.pollSingleFile(), gone: [] };
    let names: string[];
    try {
      names = await modelFolderNames(this.root);
    } catch (e) {
      this.reportUnreadable(`cannot list the model repository ${this.root} (${messageOf(e)}); nothing changes until it can`);
      return { models: [], gone: [] };
    }
    this.unreadable = undefined;
    const present = new Set(names);
    const gone: string[] = [];
    for (const [name, polls] of this.missing) {
      if (present.has(name)) this.missing.set(name, 0);
      else if (polls >= 1) {
        gone.push(name);
        this.forget(name);
      } else this.missing.set(name, polls + 1);
    }
    const models: ModelOnDisk[] = [];
    for (const name of names) {
      let scan: ModelOnDisk;
      try {
        scan = await scanModel(this.root, name);
      } catch (e) {
        this.log.debug({ model: name }, `repository: cannot read model folder '${name}' this time (${messageOf(e)})`);
        continue;
      }
      const judged = this.judge(scan);
      this.remember(scan);
      if (judged) models.push(judged);
    }
    return { models, gone };
  }

  /** The model as it can be applied now, or undefined while its config file is still changing. */
  private judge(scan: ModelOnDisk): ModelOnDisk | undefined {
    const seen = this.missing.has(scan.name);
    if (seen && this.configPrints.get(scan.name) !== (scan.configFingerprint ?? '')) return undefined;
    if (!seen && scan.configFingerprint) return undefined; // a new model folder's config: wait a poll
    const versions = [];
    const pending: number[] = [];
    for (const v of scan.versions) {
      const key = `${scan.name}/${v.version}`;
      if (v.whole || this.versionPrints.get(key) === v.fingerprint) {
        versions.push(v);
        this.announced.delete(key);
        continue;
      }
      pending.push(v.version);
      if (!this.announced.has(key)) {
        this.announced.add(key);
        this.log.info({ model: scan.name, version: v.version }, `repository: model '${scan.name}' version ${v.version} is new or changed; it is read once its files stop changing`);
      }
    }
    return { ...scan, versions, pending };
  }

  private remember(m: ModelOnDisk): void {
    if (!this.missing.has(m.name)) this.missing.set(m.name, 0);
    this.configPrints.set(m.name, m.configFingerprint ?? '');
    for (const key of [...this.versionPrints.keys()]) if (key.startsWith(`${m.name}/`)) this.versionPrints.delete(key);
    for (const v of m.versions) this.versionPrints.set(`${m.name}/${v.version}`, v.fingerprint);
  }

  private forget(name: string): void {
    this.missing.delete(name);
    this.configPrints.delete(name);
    for (const key of [...this.versionPrints.keys()]) if (key.startsWith(`${name}/`)) this.versionPrints.delete(key);
  }

  /** A repository given as one .onnx file: reloaded once the file has stopped changing. */
  private async pollSingleFile(): Promise<ModelOnDisk[]> {
    const [scan] = await scanRepository(this.root, this.singleModelName);
    if (!scan) return [];
    const judged = this.judge(scan);
    this.remember(scan);
    return judged ? [judged] : [];
  }

  private reportUnreadable(message: string): void {
    if (this.unreadable !== message) this.log.error(message);
    this.unreadable = message;
  }
}
