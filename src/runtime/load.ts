/** Picks the runtime for a model file. ONNX today; TypeScript modules and pipelines join here later. */
import { extname } from 'node:path';
import { loadOnnxModel, type OnnxLoadResult } from './onnx/onnx-runtime.js';

export type RuntimeLoadResult = OnnxLoadResult;
export type RuntimeLoader = (file: string) => Promise<RuntimeLoadResult>;

export const loadRuntime: RuntimeLoader = async (file) => {
  if (extname(file) === '.onnx') return loadOnnxModel(file);
  throw new Error(`no runtime serves '${file}' (ferry serves .onnx files)`);
};
