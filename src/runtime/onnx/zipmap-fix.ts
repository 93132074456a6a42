/**
 * ZipMapFix: scikit-learn classifiers exported by skl2onnx end in a ZipMap node that turns the probability tensor
 * into a sequence of maps, one {label: probability} per row. onnxruntime-node cannot return such values ("Non tensor
 * type is temporarily not supported"), so at load time the ZipMap is replaced by an Identity and the graph output
 * keeps its name but becomes the [N, classes] probability tensor that fed the ZipMap. The class labels are kept so
 * metadata can show them. Done once per load, never per request.
 *
 * The edit is made on the protobuf wire format (protobuf-wire.ts), touching only the ZipMap nodes, their graph
 * outputs and the opset imports; every other byte is copied as it is. Decoding the model with the ONNX schema
 * (onnx-proto) instead cost about 40-60 ms at start-up for loading the schema, and re-encoding dropped any field the
 * schema did not know.
 */
import { concatBytes, lengthDelimited, readFields, readVarint, utf8, varintField, type WireField } from './protobuf-wire.js';

export interface ZipMapFixResult {
  /** The rewritten model, or undefined when the graph has no ZipMap. */
  readonly model: Uint8Array | undefined;
  /** Output name -> class labels, in column order. */
  readonly labels: Map<string, (string | number)[]>;
}

// Field numbers from onnx.proto.
const MODEL = { graph: 7, opsetImport: 8 } as const;
const GRAPH = { node: 1, output: 12 } as const;
const NODE = { input: 1, output: 2, opType: 4, attribute: 5, domain: 7 } as const;
const ATTRIBUTE = { name: 1, ints: 8, strings: 9 } as const;
const VALUE_INFO = { name: 1, type: 2 } as const;
const OPSET = { domain: 1, version: 2 } as const;
const TYPE = { tensorType: 1 } as const;
const TENSOR_TYPE = { elemType: 1, shape: 2 } as const;
const SHAPE = { dim: 1 } as const;
const DIM = { dimValue: 1, dimParam: 2 } as const;
const FLOAT = 1;

const ZIPMAP_MARK = Buffer.from('ZipMap');

export async function fixZipMap(bytes: Uint8Array): Promise<ZipMapFixResult> {
  const labels = new Map<string, (string | number)[]>();
  // Cheap pre-check: a model without the op name anywhere in its bytes is not parsed at all.
  if (Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).indexOf(ZIPMAP_MARK) < 0) {
    return { model: undefined, labels };
  }
  const model = readFields(bytes);
  const graphs = model.filter((f) => f.no === MODEL.graph);
  // Protobuf merges repeated copies of a message field; skl2onnx never writes more than one graph.
  if (graphs.length !== 1) return { model: undefined, labels };
  const graphField = graphs[0]!;
  const graph = readFields(graphField.value);
  const outputs = graph.filter((f) => f.no === GRAPH.output).map((f) => ({ field: f, name: stringOf(readFields(f.value), VALUE_INFO.name) }));
  const replaced = new Map<WireField, Uint8Array>();
  for (const nodeField of graph.filter((f) => f.no === GRAPH.node)) {
    const node = readFields(nodeField.value);
    if (stringOf(node, NODE.opType) !== 'ZipMap' || (stringOf(node, NODE.domain) ?? '') !== 'ai.onnx.ml') continue;
    const input = stringOf(node, NODE.input, 'first');
    const output = stringOf(node, NODE.output, 'first');
    if (!input || !output) continue;
    const graphOutput = outputs.find((o) => o.name === output);
    if (!graphOutput) continue; // a ZipMap feeding another node is left alone
    const classLabels = readLabels(node.filter((f) => f.no === NODE.attribute).map((f) => readFields(f.value)));
    labels.set(output, classLabels);
    // The same node as an Identity: its inputs, outputs, name and doc kept; op type, domain and attributes not.
    const identity = concatBytes([
      ...node.filter((f) => f.no !== NODE.opType && f.no !== NODE.domain && f.no !== NODE.attribute).map((f) => f.raw),
      lengthDelimited(NODE.opType, utf8('Identity')),
    ]);
    replaced.set(nodeField, lengthDelimited(GRAPH.node, identity));
    // The graph output keeps its name; its type becomes float [N, classes].
    const dims = concatBytes([
      lengthDelimited(SHAPE.dim, lengthDelimited(DIM.dimParam, utf8('N'))),
      lengthDelimited(SHAPE.dim, varintField(DIM.dimValue, BigInt(classLabels.length))),
    ]);
    const tensorType = concatBytes([varintField(TENSOR_TYPE.elemType, BigInt(FLOAT)), lengthDelimited(TENSOR_TYPE.shape, dims)]);
    const valueInfo = concatBytes([
      ...readFields(graphOutput.field.value).filter((f) => f.no !== VALUE_INFO.type).map((f) => f.raw),
      lengthDelimited(VALUE_INFO.type, lengthDelimited(TYPE.tensorType, tensorType)),
    ]);
    replaced.set(graphOutput.field, lengthDelimited(GRAPH.output, valueInfo));
  }
  if (replaced.size === 0) return { model: undefined, labels };
  const newGraph = concatBytes(graph.map((f) => replaced.get(f) ?? f.raw));
  const parts = model.map((f) => (f === graphField ? lengthDelimited(MODEL.graph, newGraph) : f.raw));
  const importsDefault = model.filter((f) => f.no === MODEL.opsetImport).some((f) => (stringOf(readFields(f.value), OPSET.domain) ?? '') === '');
  if (!importsDefault) {
    // Identity lives in the default domain; a graph of ai.onnx.ml ops only may not import it.
    parts.push(lengthDelimited(MODEL.opsetImport, concatBytes([lengthDelimited(OPSET.domain, utf8('')), varintField(OPSET.version, 13n)])));
  }
  return { model: concatBytes(parts), labels };
}

/** A singular string field (the last one wins, as protobuf says), or the first element of a repeated one. */
function stringOf(fields: readonly WireField[], no: number, which: 'last' | 'first' = 'last'): string | undefined {
  let found: WireField | undefined;
  for (const f of fields) {
    if (f.no !== no || f.wireType !== 2) continue;
    if (which === 'first' && found) break;
    found = f;
  }
  return found ? Buffer.from(found.value.buffer, found.value.byteOffset, found.value.byteLength).toString('utf8') : undefined;
}

function readLabels(attributes: readonly WireField[][]): (string | number)[] {
  for (const a of attributes) {
    const name = stringOf(a, ATTRIBUTE.name);
    if (name === 'classlabels_int64s') {
      const ints: number[] = [];
      for (const f of a) {
        if (f.no !== ATTRIBUTE.ints) continue;
        if (f.wireType === 0) ints.push(Number(BigInt.asIntN(64, f.varint!)));
        else for (let at = 0; at < f.value.length; ) {
          // packed
          const [v, next] = readVarint(f.value, at);
          ints.push(Number(BigInt.asIntN(64, v)));
          at = next;
        }
      }
      return ints;
    }
    if (name === 'classlabels_strings') {
      return a.filter((f) => f.no === ATTRIBUTE.strings && f.wireType === 2).map((f) => Buffer.from(f.value.buffer, f.value.byteOffset, f.value.byteLength).toString('utf8'));
    }
  }
  return [];
}
