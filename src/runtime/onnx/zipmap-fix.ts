/**
 * ZipMapFix: scikit-learn classifiers exported by skl2onnx end in a ZipMap node that turns the probability tensor
 * into a sequence of maps, one {label: probability} per row. onnxruntime-node cannot return such values ("Non tensor
 * type is temporarily not supported"), so at load time the ZipMap is replaced by an Identity and the graph output
 * keeps its name but becomes the [N, classes] probability tensor that fed the ZipMap. The class labels are kept so
 * metadata can show them. Done once per load, never per request.
 */
import type onnxProto from 'onnx-proto';

export interface ZipMapFixResult {
  /** The rewritten model, or undefined when the graph has no ZipMap. */
  readonly model: Uint8Array | undefined;
  /** Output name -> class labels, in column order. */
  readonly labels: Map<string, (string | number)[]>;
}

const ZIPMAP_MARK = Buffer.from('ZipMap');

export async function fixZipMap(bytes: Uint8Array): Promise<ZipMapFixResult> {
  const labels = new Map<string, (string | number)[]>();
  // Cheap pre-check: a model without the op name anywhere in its bytes is not decoded at all, and the ONNX schema
  // (about 40 ms to load) is only loaded for models that may need it.
  if (Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).indexOf(ZIPMAP_MARK) < 0) {
    return { model: undefined, labels };
  }
  const { onnx } = (await import('onnx-proto')).default;
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph;
  if (!graph) return { model: undefined, labels };
  let changed = false;
  for (const node of graph.node ?? []) {
    if (node.opType !== 'ZipMap' || (node.domain ?? '') !== 'ai.onnx.ml') continue;
    const input = node.input?.[0];
    const output = node.output?.[0];
    if (!input || !output) continue;
    const graphOutput = (graph.output ?? []).find((o) => o.name === output);
    if (!graphOutput) continue; // a ZipMap feeding another node is left alone
    const classLabels = readLabels(node.attribute ?? []);
    labels.set(output, classLabels);
    node.opType = 'Identity';
    node.domain = '';
    node.attribute = [];
    graphOutput.type = onnx.TypeProto.create({
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: [{ dimParam: 'N' }, { dimValue: classLabels.length }] },
      },
    });
    changed = true;
  }
  if (!changed) return { model: undefined, labels };
  if (!(model.opsetImport ?? []).some((o) => (o.domain ?? '') === '')) {
    // Identity lives in the default domain; a graph of ai.onnx.ml ops only may not import it.
    model.opsetImport = [...(model.opsetImport ?? []), onnx.OperatorSetIdProto.create({ domain: '', version: 13 })];
  }
  return { model: onnx.ModelProto.encode(model).finish(), labels };
}


function readLabels(attributes: onnxProto.onnx.IAttributeProto[]): (string | number)[] {
  for (const a of attributes) {
    if (a.name === 'classlabels_int64s') return (a.ints ?? []).map((i) => Number(i));
    if (a.name === 'classlabels_strings') return (a.strings ?? []).map((s) => Buffer.from(s).toString('utf8'));
  }
  return [];
}
