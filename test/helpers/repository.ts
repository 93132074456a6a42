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

/**
 * A classifier with a known rule, for experiments: input FP32 [N, 30] -> output FP32 [N, 3], the softmax of 10 times
 * features order[0], order[1], order[2]; so a row's class is the position of the largest of those three features.
 * Two models with different orders disagree exactly where the test wants them to. `slowLayers` adds that many
 * 1024x1024 matrix products per row whose weights are all 0 (same answers, a few ms per batch more): a slow model.
 */
export function ruleClassifierModel(order: readonly [number, number, number], slowLayers = 0): Uint8Array {
  const { onnx } = onnxProto;
  const FLOAT = onnx.TensorProto.DataType.FLOAT;
  const weights = new Float32Array(30 * 3);
  order.forEach((feature, k) => (weights[feature * 3 + k] = 10));
  const value = (name: string, width: number) => ({ name, type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: 'N' }, { dimValue: width }] } } } });
  const initializer = (name: string, rows: number, columns: number, data = new Float32Array(rows * columns)) => ({ name, dataType: FLOAT, dims: [rows, columns], rawData: new Uint8Array(data.buffer) });
  const nodes: object[] = [{ opType: 'MatMul', input: ['input', 'W'], output: [slowLayers > 0 ? 'rule' : 'logits'] }];
  const initializers = [initializer('W', 30, 3, weights)];
  if (slowLayers > 0) {
    nodes.push({ opType: 'MatMul', input: ['input', 'S0'], output: ['h0'] });
    initializers.push(initializer('S0', 30, 1024));
    initializers.push(initializer('S', 1024, 1024)); // one weight for every layer: the file stays small
    for (let i = 1; i <= slowLayers; i++) nodes.push({ opType: 'MatMul', input: [`h${i - 1}`, 'S'], output: [`h${i}`] });
    nodes.push({ opType: 'MatMul', input: [`h${slowLayers}`, 'Z'], output: ['zero'] }, { opType: 'Add', input: ['rule', 'zero'], output: ['logits'] });
    initializers.push(initializer('Z', 1024, 3));
  }
  nodes.push({ opType: 'Softmax', input: ['logits'], output: ['output'], attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }] });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: { name: 'rule', node: nodes, initializer: initializers, input: [value('input', 30)], output: [value('output', 3)] },
  });
  return onnx.ModelProto.encode(model).finish();
}
