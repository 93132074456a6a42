/** Builds throwaway model repositories in a temp folder from the example models. */
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import onnxProto from 'onnx-proto';
import { EXAMPLES } from './server.js';

export class TempRepository {
  readonly root = mkdtempSync(join(tmpdir(), 'ferry-repo-'));

  /** Copies examples/models/FROM/1/model.onnx to NAME/VERSION/model.onnx. */
  copyModel(from: string, name: string, version = 1): this {
    this.write(`${name}/${version}/model.onnx`, undefined, join(EXAMPLES, from, '1', 'model.onnx'));
    return this;
  }

  write(path: string, content: string | Uint8Array | undefined, copyFrom?: string): this {
    const file = join(this.root, path);
    mkdirSync(dirname(file), { recursive: true });
    if (copyFrom) cpSync(copyFrom, file);
    else writeFileSync(file, content ?? '');
    return this;
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** A valid ONNX file whose only node is an operator no runtime has. */
export function unsupportedOperatorModel(): Uint8Array {
  const { onnx } = onnxProto;
  const floatTensor = (name: string) => ({ name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimValue: 2 }] } } } });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'g',
      node: [{ opType: 'NoSuchOperator', input: ['x'], output: ['y'] }],
      input: [floatTensor('x')],
      output: [floatTensor('y')],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
