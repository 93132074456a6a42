/**
 * ZipMapFix edits the ONNX protobuf on the wire: the result must be what decoding the model with the ONNX schema,
 * editing it and encoding it again gives (the way it was done before), with every other field untouched.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import onnxProto from 'onnx-proto';
import { fixZipMap } from '../../src/runtime/onnx/zipmap-fix.js';
import { lengthDelimited, readFields, concatBytes, utf8, varintField } from '../../src/runtime/onnx/protobuf-wire.js';
import { EXAMPLES } from '../helpers/server.js';

const { onnx } = onnxProto;
const OBJECT = { defaults: true, longs: String, bytes: String } as const;
const modelFile = (name: string) => readFileSync(`${EXAMPLES}/${name}/1/model.onnx`);
/** The decoded model, loosely typed (onnx-proto's types make every field optional). */
const decode = (bytes: Uint8Array): any => onnx.ModelProto.decode(bytes);

/** The schema-based edit ferry did before (onnx-proto decode, change, encode). */
function schemaEdit(bytes: Uint8Array): onnxProto.onnx.ModelProto {
  const model = decode(bytes);
  for (const node of model.graph.node) {
    if (node.opType !== 'ZipMap') continue;
    const attr = node.attribute.find((a: { name: string }) => a.name.startsWith('classlabels_'));
    const classes = attr.name === 'classlabels_int64s' ? attr.ints.length : attr.strings.length;
    node.opType = 'Identity';
    node.domain = '';
    node.attribute = [];
    model.graph.output.find((o: { name: string }) => o.name === node.output[0]).type = onnx.TypeProto.create({
      tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimParam: 'N' }, { dimValue: classes }] } },
    });
  }
  if (!model.opsetImport.some((o: { domain?: string }) => (o.domain ?? '') === '')) model.opsetImport.push(onnx.OperatorSetIdProto.create({ domain: '', version: 13 }));
  return model;
}

const asObject = (m: onnxProto.onnx.ModelProto | Uint8Array) => onnx.ModelProto.toObject(m instanceof Uint8Array ? onnx.ModelProto.decode(m) : m, OBJECT);

describe('ZipMapFix on the wire', () => {
  for (const [name, labels] of [['breast_cancer', [0, 1]], ['text_category', undefined]] as const) {
    it(`${name}: the same model as the schema-based edit, and the class labels`, async () => {
      const bytes = modelFile(name);
      const fix = await fixZipMap(bytes);
      assert.ok(fix.model);
      assert.deepEqual(asObject(fix.model), asObject(schemaEdit(bytes)));
      const [output, got] = [...fix.labels][0]!;
      const zipmap = decode(bytes).graph.node.find((n: { opType: string }) => n.opType === 'ZipMap');
      assert.equal(output, zipmap.output[0]);
      const attr = zipmap.attribute.find((a: { name: string }) => a.name.startsWith('classlabels_'));
      const want = attr.name === 'classlabels_int64s' ? attr.ints.map(Number) : attr.strings.map((s: Uint8Array) => Buffer.from(s).toString('utf8'));
      assert.deepEqual(got, want);
      if (labels) assert.deepEqual(got, labels);
    });
  }

  it('leaves a model without ZipMap alone', async () => {
    const fix = await fixZipMap(modelFile('mlp'));
    assert.equal(fix.model, undefined);
    assert.equal(fix.labels.size, 0);
  });

  it('adds the default-domain opset when the model imports only ai.onnx.ml', async () => {
    const model = decode(modelFile('breast_cancer'));
    model.opsetImport = model.opsetImport.filter((o: { domain?: string }) => (o.domain ?? '') !== '');
    const bytes = onnx.ModelProto.encode(model).finish();
    const fix = await fixZipMap(bytes);
    assert.deepEqual(asObject(fix.model!), asObject(schemaEdit(bytes)));
    assert.ok(decode(fix.model!).opsetImport.some((o: { domain: string; version: unknown }) => o.domain === '' && Number(o.version) === 13));
  });

  it('reads packed int64 labels, negative ones included', async () => {
    const model = decode(modelFile('breast_cancer'));
    const zipmap = model.graph.node.find((n: { opType: string }) => n.opType === 'ZipMap');
    zipmap.attribute = [];
    const bytes = onnx.ModelProto.encode(model).finish();
    // Append a classlabels_int64s attribute with packed ints [-1, 7] to the ZipMap node, on the wire.
    const packed = concatBytes([varintField(1, -1n), varintField(1, 7n)].map((f) => f.subarray(1)));
    const attribute = lengthDelimited(5, concatBytes([lengthDelimited(1, utf8('classlabels_int64s')), lengthDelimited(8, packed)]));
    const top = readFields(bytes);
    const edited = concatBytes(top.map((f) => {
      if (f.no !== 7) return f.raw;
      const graph = readFields(f.value).map((g) => (g.no === 1 && Buffer.from(g.value).includes(Buffer.from('ZipMap')) ? lengthDelimited(1, concatBytes([g.value, attribute])) : g.raw));
      return lengthDelimited(7, concatBytes(graph));
    }));
    const fix = await fixZipMap(edited);
    assert.deepEqual([...fix.labels.values()][0], [-1, 7]);
  });

  it('refuses bytes that are not a protobuf message, with a clear message', async () => {
    await assert.rejects(fixZipMap(Buffer.from('ZipMap\xff\xff\xff', 'latin1')), /malformed protobuf/);
  });
});
