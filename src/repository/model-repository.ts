/**
 * Reads a model repository on disk: NAME/VERSION/model.onnx with an optional NAME/config.yaml (or .yml/.json).
 * It finds models, versions and configs and loads nothing; problems are recorded per model so one broken folder
 * never hides the others.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { messageOf } from '../errors.js';
import { DEFAULT_MODEL_FILENAME, readModelConfig, type ModelConfig } from '../config/model-config.js';

export interface VersionOnDisk {
  readonly version: number;
  readonly file: string;
}

export interface ModelOnDisk {
  readonly name: string;
  readonly config: ModelConfig;
  /** Every version folder found, ascending; the registry applies the version policy. */
  readonly versions: readonly VersionOnDisk[];
  /** Why the model as a whole cannot be served (bad config, no versions); undefined when fine. */
  readonly problem?: string;
}

const VERSION_DIR = /^[1-9][0-9]*$/;
const CONFIG_FILES = ['config.yaml', 'config.yml', 'config.json'];

/** Scans `path`: a repository folder, or a single .onnx file served as one model (version 1). */
export async function scanRepository(path: string, singleModelName?: string): Promise<ModelOnDisk[]> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new Error(`model repository '${path}' does not exist`);
  }
  if (info.isFile()) {
    if (extname(path) !== '.onnx') throw new Error(`'${path}' is a file but not an .onnx model`);
    const name = singleModelName ?? basename(path, '.onnx');
    return [{ name, config: {}, versions: [{ version: 1, file: path }] }];
  }
  const entries = await readdir(path, { withFileTypes: true });
  const names = entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort();
  return Promise.all(names.map((name) => scanModel(join(path, name), name)));
}

async function scanModel(dir: string, name: string): Promise<ModelOnDisk> {
  const entries = await readdir(dir, { withFileTypes: true });
  let config: ModelConfig = {};
  const configFile = CONFIG_FILES.find((f) => entries.some((e) => e.isFile() && e.name === f));
  if (configFile) {
    try {
      config = await readModelConfig(join(dir, configFile));
    } catch (e) {
      return { name, config, versions: [], problem: messageOf(e) };
    }
    if (config.name !== undefined && config.name !== name) {
      return { name, config, versions: [], problem: `${configFile} names the model '${config.name}' but its folder is '${name}'` };
    }
  }
  const filename = config.default_model_filename ?? DEFAULT_MODEL_FILENAME;
  const versions = entries
    .filter((e) => e.isDirectory() && VERSION_DIR.test(e.name))
    .map((e) => ({ version: Number(e.name), file: join(dir, e.name, filename) }))
    .sort((a, b) => a.version - b.version);
  if (versions.length === 0) {
    return { name, config, versions, problem: `no version folders in ${dir} (expected ${dir}/1/${filename})` };
  }
  return { name, config, versions };
}
