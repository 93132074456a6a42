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

const ONNX_TYPE: Record<string, number> = {
  BOOL: 9, INT8: 3, INT16: 5, INT32: 6, INT64: 7, UINT8: 2, UINT16: 4, UINT32: 12, UINT64: 13,
  FP16: 10, FP32: 1, FP64: 11, BYTES: 8,
};

/** An ONNX graph of Identity nodes: input in_<type> -> output out_<type> for each V2 datatype given, shape [N, 2]. */
export function identityModel(datatypes: string[]): Uint8Array {
  const { onnx } = onnxProto;
  const value = (name: string, datatype: string) => ({
    name,
    type: { tensorType: { elemType: ONNX_TYPE[datatype]!, shape: { dim: [{ dimParam: 'N' }, { dimValue: 2 }] } } },
  });
  const names = (d: string) => d.toLowerCase();
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'identity',
      node: datatypes.map((d) => ({ opType: 'Identity', input: [`in_${names(d)}`], output: [`out_${names(d)}`] })),
      input: datatypes.map((d) => value(`in_${names(d)}`, d)),
      output: datatypes.map((d) => value(`out_${names(d)}`, d)),
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
