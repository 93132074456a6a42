/**
 * Reads a model repository on disk: NAME/VERSION/model.onnx (or model.mjs, .js, .ts: runtime/model-files.ts) with an
 * optional NAME/config.yaml (or .yml/.json); a pipeline's version folders are empty.
 * It finds models, versions and configs, and what their files look like (version-files.ts), and loads nothing;
 * problems are recorded per model so one broken folder never hides the others. Folders may be symbolic links
 * (Kubernetes volumes and git-sync swap them).
 */
import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { messageOf } from '../errors.js';
import { DEFAULT_MODEL_FILENAME, readModelConfig, type ModelConfig } from '../config/model-config.js';
import { MODEL_FILE_NAMES, servesFile } from '../runtime/model-files.js';
import { describeFile, describeFolder } from './version-files.js';

export interface VersionOnDisk {
  readonly version: number;
  readonly file: string;
  /** Its files' paths, sizes and times: a change means a reload (version-files.ts). */
  readonly fingerprint: string;
  /** Renamed into place whole, after its files were written: complete at first sight. */
  readonly whole: boolean;
}

export interface ModelOnDisk {
  readonly name: string;
  readonly config: ModelConfig;
  /** Version folders that can be loaded, ascending; the registry applies the version policy. */
  readonly versions: readonly VersionOnDisk[];
  /** Version folders still being written (the poller's judgement): neither loaded nor given up yet. */
  readonly pending?: readonly number[];
  /** Why the model as a whole cannot be served (bad config, no versions); undefined when fine. */
  readonly problem?: string;
  /** The config file's size and time ('' without one), so the poller applies a config only once it stops changing. */
  readonly configFingerprint?: string;
}

const VERSION_DIR = /^[1-9][0-9]*$/;
const CONFIG_FILES = ['config.yaml', 'config.yml', 'config.json'];

/** Scans `path`: a repository folder, or a single model file (.onnx, .mjs, ...) served as one model (version 1). */
export async function scanRepository(path: string, singleModelName?: string): Promise<ModelOnDisk[]> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new Error(`model repository '${path}' does not exist`);
  }
  if (info.isFile()) {
    if (!servesFile(path)) throw new Error(`'${path}' is a file but not a model (.onnx, or .mjs, .js, .ts)`);
    const name = singleModelName ?? basename(path, extname(path));
    const { fingerprint } = await describeFile(path);
    return [{ name, config: {}, versions: [{ version: 1, file: path, fingerprint, whole: false }] }];
  }
  const names = await modelFolderNames(path);
  return Promise.all(names.map((name) => scanModel(path, name)));
}

/** The model folders of a repository folder, sorted (hidden ones left out: editors and copy tools leave them). */
export async function modelFolderNames(root: string): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true });
  const names: string[] = [];
  for (const e of entries) if (!e.name.startsWith('.') && (await isFolder(root, e))) names.push(e.name);
  return names.sort();
}

/**
 * One model folder, `root/name`: its config, its versions and their files. `configOverride` (a management load's
 * config) is used instead of the config file.
 */
export async function scanModel(root: string, name: string, configOverride?: ModelConfig): Promise<ModelOnDisk> {
  const dir = join(root, name);
  const entries = await readdir(dir, { withFileTypes: true });
  let config: ModelConfig = configOverride ?? {};
  const configFile = CONFIG_FILES.find((f) => entries.some((e) => e.name === f));
  const configFingerprint = configFile ? await describeFile(join(dir, configFile)).then((s) => s.fingerprint, () => 'unreadable') : '';
  if (configOverride && configOverride.name !== undefined && configOverride.name !== name) {
    return { name, config, versions: [], problem: `the config names the model '${configOverride.name}' but its folder is '${name}'`, configFingerprint };
  }
  if (configFile && !configOverride) {
    try {
      config = await readModelConfig(join(dir, configFile));
    } catch (e) {
      return { name, config, versions: [], problem: messageOf(e), configFingerprint };
    }
    if (config.name !== undefined && config.name !== name) {
      return { name, config, versions: [], problem: `${configFile} names the model '${config.name}' but its folder is '${name}'`, configFingerprint };
    }
  }
  const filename = config.default_model_filename ?? DEFAULT_MODEL_FILENAME;
  const versions: VersionOnDisk[] = [];
  for (const e of entries) {
    if (!VERSION_DIR.test(e.name) || !(await isFolder(dir, e))) continue;
    const folder = join(dir, e.name);
    const state = await describeFolder(folder).catch((err: unknown) => ({ fingerprint: `unreadable: ${messageOf(err)}`, whole: false }));
    // A pipeline's folder holds nothing to load (Triton's ensembles too): the folder stands for the version.
    const file = config.pipeline ? folder : join(folder, config.default_model_filename ?? (await modelFileIn(folder)));
    versions.push({ version: Number(e.name), file, ...(config.pipeline ? { ...state, whole: true } : state) });
  }
  versions.sort((a, b) => a.version - b.version);
  if (versions.length === 0) {
    return { name, config, versions, problem: `no version folders in ${dir} (expected ${dir}/1/${filename})`, configFingerprint };
  }
  return { name, config, versions, configFingerprint };
}

/** The model file of a version folder: the first of MODEL_FILE_NAMES there (model.onnx when none is, to say so). */
async function modelFileIn(folder: string): Promise<string> {
  const names = new Set(await readdir(folder).catch(() => [] as string[]));
  return MODEL_FILE_NAMES.find((n) => names.has(n)) ?? DEFAULT_MODEL_FILENAME;
}

/** A folder, or a symbolic link to one. */
async function isFolder(parent: string, e: Dirent): Promise<boolean> {
  if (e.isDirectory()) return true;
  if (!e.isSymbolicLink()) return false;
  return stat(join(parent, e.name)).then((s) => s.isDirectory(), () => false);
}
