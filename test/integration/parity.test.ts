/**
 * Every example model answers as the library that trained it did (reference.json, written by
 * examples/make_models.py from scikit-learn / PyTorch / onnx), over real HTTP.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { postJson, request, startTestServer, type TestServer } from '../helpers/server.js';
import { asRequestInputs, assertClose, referenceModels } from '../helpers/reference.js';

const references = referenceModels();

describe('parity with the original libraries', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.stop());

  it('covers the models the foundation issue names', () => {
    const names = references.map((r) => r.model).sort();
    for (const want of ['breast_cancer', 'datatypes', 'diabetes_forest', 'image_cnn', 'mlp', 'text_category', 'two_inputs']) {
      assert.ok(names.includes(want), `examples/models/${want}/reference.json is missing`);
    }
  });

  for (const ref of references) {
    it(`${ref.model} matches ${ref.library}`, async () => {
      for (const [c, kase] of ref.cases.entries()) {
        const reply = await postJson(`${server.url}/v2/models/${ref.model}/infer`, { id: `case-${c}`, inputs: asRequestInputs(kase.inputs) });
        assert.equal(reply.status, 200, reply.text);
        assert.equal(reply.body.model_name, ref.model);
        assert.equal(reply.body.model_version, '1');
        assert.equal(reply.body.id, `case-${c}`);
        for (const want of kase.outputs) {
          const got = reply.body.outputs.find((o: { name: string }) => o.name === want.name);
          assert.ok(got, `${ref.model}: output ${want.name} missing from ${reply.text.slice(0, 200)}`);
          assertClose(got, want, ref.tolerance, `${ref.model} case ${c} ${want.name}`);
        }
      }
    });
  }

  it('serves a scikit-learn ZipMap classifier as a probability tensor with the class order of its labels', async () => {
    const meta = await request(`${server.url}/v2/models/text_category`);
    assert.deepEqual(meta.body.outputs, [
      { name: 'output_label', datatype: 'BYTES', shape: [-1] },
      { name: 'output_probability', datatype: 'FP32', shape: [-1, 3] },
    ]);
  });

  it('returns only the outputs asked for, in the order asked', async () => {
    const ref = references.find((r) => r.model === 'two_inputs')!;
    const kase = ref.cases[0]!;
    const reply = await postJson(`${server.url}/v2/models/two_inputs/infer`, {
      inputs: asRequestInputs(kase.inputs),
      outputs: [{ name: 'class_id' }],
    });
    assert.equal(reply.status, 200, reply.text);
    assert.deepEqual(reply.body.outputs.map((o: { name: string }) => o.name), ['class_id']);
    assertClose(reply.body.outputs[0], kase.outputs.find((o) => o.name === 'class_id')!, ref.tolerance, 'class_id');
  });

  it('accepts nested data as well as flat', async () => {
    const ref = references.find((r) => r.model === 'breast_cancer')!;
    const input = ref.cases[0]!.inputs[0]!;
    const flat = input.data as number[];
    const rows = [];
    for (let i = 0; i < input.shape[0]!; i++) rows.push(flat.slice(i * 30, (i + 1) * 30));
    const reply = await postJson(`${server.url}/v2/models/breast_cancer/infer`, {
      inputs: [{ name: input.name, datatype: 'FP32', shape: input.shape, data: rows }],
    });
    assert.equal(reply.status, 200, reply.text);
    assertClose(reply.body.outputs[1], ref.cases[0]!.outputs[1]!, ref.tolerance, 'probabilities');
  });

  it('addresses a version explicitly', async () => {
    const ref = references.find((r) => r.model === 'mlp')!;
    const reply = await postJson(`${server.url}/v2/models/mlp/versions/1/infer`, { inputs: asRequestInputs(ref.cases[0]!.inputs) });
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.body.model_version, '1');
    assert.equal(reply.body.id, undefined);
  });
});
