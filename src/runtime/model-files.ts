/**
 * The runtime factory table: which runtime serves a model file, by its extension. The loader on the main thread and
 * the inference worker both load through it, so every runtime gets every placement (main thread, worker threads,
 * child processes). A pipeline has no file: load.ts serves it from its config.
 */
import { extname } from 'node:path';
import type { SessionConfig } from '../config/model-config.js';
import { loadOnnxModel } from './onnx/onnx-runtime.js';
import type { ModelRuntime } from './runtime.js';

export interface LoadedFile {
  readonly runtime: ModelRuntime;
  /** Decisions and graph fixes, worth an info line. */
  readonly notes: string[];
  /** Parts of the model that are not served, worth a warning. */
  readonly warnings: string[];
}

export interface FileLoadOptions {
  /** onnxruntime's session options (an ONNX file, or one a JavaScript model loads). */
  readonly session?: SessionConfig | undefined;
  /** config.yaml's `parameters`, handed to a JavaScript model. */
  readonly parameters?: Readonly<Record<string, string>> | undefined;
}

type FileLoader = (file: string, options: FileLoadOptions) => Promise<LoadedFile>;

const onnx: FileLoader = (file, { session }) => loadOnnxModel(file, session);

/** Loaded on first use: a repository of ONNX models never imports it. */
const javascript: FileLoader = async (file, { session, parameters }) => {
  const { loadModuleModel } = await import('./module/module-runtime.js');
  return loadModuleModel(file, {
    ...(parameters ? { parameters } : {}),
    loadOnnx: async (path) => (await loadOnnxModel(path, session)).runtime,
  });
};

const FACTORIES: Readonly<Record<string, FileLoader>> = {
  '.onnx': onnx,
  '.mjs': javascript,
  '.js': javascript,
  '.ts': javascript,
  '.mts': javascript,
};

/**
 * The model files a version folder is looked for, in order, when the config names none (default_model_filename):
 * a JavaScript model first, since one beside a model.onnx is its pre/post-processing hook and loads it itself.
 */
export const MODEL_FILE_NAMES = ['model.mjs', 'model.js', 'model.ts', 'model.mts', 'model.onnx'] as const;

export function servesFile(file: string): boolean {
  return extname(file) in FACTORIES;
}

export async function loadModelFile(file: string, options: FileLoadOptions): Promise<LoadedFile> {
  const factory = FACTORIES[extname(file)];
  if (!factory) throw new Error(`no runtime serves '${file}' (ferry serves ${Object.keys(FACTORIES).join(', ')} files)`);
  return factory(file, options);
}
