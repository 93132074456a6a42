/**
 * The records API of TensorFlow Serving and KServe V1 (src/protocol/v1-rest) on the real server: :predict in the
 * row format ({"instances"}) and the columnar one ({"inputs"}) against the example models' reference outputs,
 * missing values of 1-D FP64 and BYTES features, versions, the status, metadata and list routes, the variant header,
 * and errors that name the instance and field and are never a 5xx.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import onnxProto from 'onnx-proto';
import { EXAMPLES, postJson, request, startTestServer, type JsonReply, type TestServer } from '../helpers/server.js';
import { ruleClassifierModel, TempRepository, unsupportedOperatorModel } from '../helpers/repository.js';
import { outputsJson, predictionsJson } from '../../src/protocol/v1-rest/predict-answer.js';

interface Case { inputs: { name: string; shape: number[]; data: unknown[] }[]; outputs: { name: string; shape: number[]; data: number[] }[] }
const reference = (model: string): { cases: Case[]; tolerance: { rtol: number; atol: number } } => JSON.parse(readFileSync(join(EXAMPLES, model, 'reference.json'), 'utf8'));

/** A flat tensor's rows: each `width` values (a scalar per row when width is 0). */
function rowsOf(data: readonly unknown[], rows: number, width: number): unknown[] {
  return Array.from({ length: rows }, (_, r) => (width === 0 ? data[r] : data.slice(r * width, (r + 1) * width)));
}

const cancer = reference('breast_cancer');
const CANCER_ROWS = rowsOf(cancer.cases[0]!.inputs[0]!.data, 5, 30) as number[][];
const LABELS = cancer.cases[0]!.outputs[0]!.data;
const PROBABILITIES = rowsOf(cancer.cases[0]!.outputs[1]!.data, 5, 2) as number[][];

function close(got: unknown, want: number, what: string, tol = cancer.tolerance): void {
  assert.equal(typeof got, 'number', `${what}: ${JSON.stringify(got)}`);
  assert.ok(Math.abs((got as number) - want) <= tol.atol + tol.rtol * Math.abs(want), `${what}: ${got} vs ${want}`);
}

/** Feature-style inputs, each [-1], passed through Identity: age FP64, city BYTES, count INT64. */
function featuresModel(): Uint8Array {
  const { onnx } = onnxProto;
  const T = onnx.TensorProto.DataType;
  const value = (name: string, elemType: number) => ({ name, type: { tensorType: { elemType, shape: { dim: [{ dimParam: 'N' }] } } } });
  const features: [string, number][] = [['age', T.DOUBLE], ['city', T.STRING], ['count', T.INT64]];
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'features',
      node: features.map(([n]) => ({ opType: 'Identity', input: [n], output: [`${n}_out`] })),
      input: features.map(([n, t]) => value(n, t)),
      output: features.map(([n, t]) => value(`${n}_out`, t)),
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

const ODD_NAME = 'fraud detector.v2+eu';

describe('records API (/v1, TensorFlow Serving and KServe V1)', () => {
  let repo: TempRepository;
  let server: TestServer;
  const predict = (path: string, body: unknown): Promise<JsonReply> => postJson(`${server.url}/v1/models/${path}:predict`, body);
  /** An error answer: the status, a `{"error"}` body, never a 5xx. */
  async function refused(reply: Promise<JsonReply>, status: number, message: RegExp): Promise<JsonReply> {
    const r = await reply;
    assert.equal(r.status, status, r.text);
    assert.equal(typeof r.body?.error, 'string', r.text);
    assert.match(r.body.error, message);
    return r;
  }

  before(async () => {
    repo = new TempRepository();
    for (const m of ['breast_cancer', 'two_inputs', 'datatypes', 'diabetes_forest', 'sequence_pool']) repo.copyModel(m, m);
    repo.copyModel('breast_cancer', ODD_NAME);
    repo.write('features/1/model.onnx', featuresModel());
    // Two versions with different inputs: version 1 is breast_cancer's, version 2 a rule on an input named 'input'.
    repo.copyModel('breast_cancer', 'versioned', 1).write('versioned/2/model.onnx', ruleClassifierModel([0, 1, 2]));
    repo.write('versioned/config.yaml', 'version_policy: {all: {}}\n');
    repo.write('split/1/model.onnx', ruleClassifierModel([0, 1, 2])).write('split/2/model.onnx', ruleClassifierModel([2, 1, 0]));
    repo.write('split/config.yaml', 'version_policy: {all: {}}\ntraffic:\n  variants:\n    - {version: 1, weight: 0}\n    - {version: 2, weight: 1}\n');
    repo.write('broken/1/model.onnx', unsupportedOperatorModel());
    server = await startTestServer({ modelRepository: repo.root });
  });
  after(async () => {
    await server?.stop();
    repo?.remove();
  });

  it('row format: instances as the bare rows of a one-input model, answered per instance by output name', async () => {
    const r = await predict('breast_cancer', { instances: CANCER_ROWS });
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get('content-type') ?? '', /application\/json/);
    assert.equal(r.body.predictions.length, 5);
    r.body.predictions.forEach((p: { output_label: unknown; output_probability: unknown[] }, i: number) => {
      assert.deepEqual(Object.keys(p), ['output_label', 'output_probability']);
      assert.equal(p.output_label, LABELS[i]); // INT64 as a JSON number
      close(p.output_probability[0], PROBABILITIES[i]![0]!, `row ${i} p0`);
      close(p.output_probability[1], PROBABILITIES[i]![1]!, `row ${i} p1`);
    });
    // The same rows as objects keyed by the input's name, and with the one signature named.
    const keyed = await predict('breast_cancer', { signature_name: 'serving_default', instances: CANCER_ROWS.map((row) => ({ float_input: row })) });
    assert.deepEqual(keyed.body, r.body);
  });

  it('columnar format: the input as a list or by name, answered as whole outputs', async () => {
    const bare = await predict('breast_cancer', { inputs: CANCER_ROWS });
    assert.equal(bare.status, 200, bare.text);
    assert.deepEqual(bare.body.outputs.output_label, LABELS);
    bare.body.outputs.output_probability.forEach((p: number[], i: number) => close(p[1], PROBABILITIES[i]![1]!, `row ${i} p1`));
    const named = await predict('breast_cancer', { inputs: { float_input: CANCER_ROWS } });
    assert.deepEqual(named.body, bare.body);
  });

  it('one output: each prediction is its row, and the columnar answer the bare list (diabetes_forest)', async () => {
    const ref = reference('diabetes_forest');
    const rows = rowsOf(ref.cases[0]!.inputs[0]!.data, 5, 10);
    const want = ref.cases[0]!.outputs[0]!.data;
    const r = await predict('diabetes_forest', { instances: rows });
    assert.equal(r.status, 200, r.text);
    r.body.predictions.forEach((p: number[], i: number) => {
      assert.equal(p.length, 1); // output [N,1]: a list of one per instance
      close(p[0], want[i]!, `row ${i}`, ref.tolerance);
    });
    const c = await predict('diabetes_forest', { inputs: rows });
    assert.deepEqual(c.body, { outputs: r.body.predictions });
  });

  it('several inputs: instances are objects by input name (two_inputs)', async () => {
    const ref = reference('two_inputs');
    const features = rowsOf(ref.cases[0]!.inputs[0]!.data, 5, 8);
    const categories = ref.cases[0]!.inputs[1]!.data;
    const [score, classId] = ref.cases[0]!.outputs;
    const r = await predict('two_inputs', { instances: features.map((f, i) => ({ category: categories[i], features: f })) });
    assert.equal(r.status, 200, r.text);
    r.body.predictions.forEach((p: { score: number[]; class_id: number }, i: number) => {
      close(p.score[0], score!.data[i]!, `row ${i} score`, ref.tolerance);
      assert.equal(p.class_id, classId!.data[i]);
    });
    const c = await predict('two_inputs', { inputs: { features, category: categories } });
    assert.equal(c.status, 200, c.text);
    assert.deepEqual(c.body.outputs.class_id, classId!.data);
    assert.deepEqual(c.body.outputs.score, r.body.predictions.map((p: { score: number[] }) => p.score));
  });

  it('every datatype goes through both formats and comes back as it was sent (datatypes)', async () => {
    const ref = reference('datatypes');
    const inputs = ref.cases[0]!.inputs;
    const instances = [0, 1, 2].map((r) => Object.fromEntries(inputs.map((t) => [t.name, t.data.slice(2 * r, 2 * r + 2)])));
    const r = await predict('datatypes', { instances });
    assert.equal(r.status, 200, r.text);
    const expected = instances.map((i) => Object.fromEntries(Object.entries(i).map(([k, v]) => [k.replace(/^in_/, 'out_'), v])));
    assert.deepEqual(r.body.predictions, expected);
    const c = await predict('datatypes', { inputs: Object.fromEntries(inputs.map((t) => [t.name, rowsOf(t.data, 3, 2)])) });
    assert.equal(c.status, 200, c.text);
    assert.deepEqual(c.body.outputs, Object.fromEntries(inputs.map((t) => [t.name.replace(/^in_/, 'out_'), rowsOf(t.data, 3, 2)])));
  });

  it('BYTES take numbers and booleans as text, and {"b64": ...}; INT64 and UINT64 refuse what they cannot hold', async () => {
    const base = { in_bool: [true, false], in_int8: [1, 2], in_int16: [1, 2], in_int32: [1, 2], in_int64: [1, 2], in_uint8: [1, 2], in_uint16: [1, 2], in_uint32: [1, 2], in_uint64: [1, 2], in_fp16: [1, 2], in_fp32: [1, 2], in_fp64: [1, 2] };
    const r = await predict('datatypes', { instances: [{ ...base, in_bytes: [7, { b64: Buffer.from('héllo').toString('base64') }] }, { ...base, in_bytes: [true, 'x'] }] });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.predictions.map((p: { out_bytes: string[] }) => p.out_bytes), [['7', 'héllo'], ['true', 'x']]);
    await refused(predict('datatypes', { instances: [{ ...base, in_bytes: ['a', 'b'], in_uint64: [1, -1] }] }), 400, /instance 0: field 'in_uint64'\[1\] is -1, expected an integer from 0/);
    await refused(predict('datatypes', { instances: [{ ...base, in_bytes: ['a', 'b'], in_int8: [1, 200] }] }), 400, /instance 0: field 'in_int8'\[1\] is 200, expected an integer from -128 to 127 for INT8/);
    await refused(predict('datatypes', { instances: [{ ...base, in_bytes: ['a', 'b'], in_bool: [1, 0] }] }), 400, /field 'in_bool'\[0\] is 1, expected true or false for BOOL/);
  });

  it('a size the model leaves open is set by the first row, and every row must match it (sequence_pool)', async () => {
    const ref = reference('sequence_pool').cases[0]!;
    const tokens = rowsOf(ref.inputs[0]!.data, 2, 3);
    const r = await predict('sequence_pool', { instances: tokens.map((t, i) => ({ tokens: t, lengths: ref.inputs[1]!.data[i] })) });
    assert.equal(r.status, 200, r.text);
    r.body.predictions.forEach((p: number[], i: number) => p.forEach((x, k) => close(x, ref.outputs[0]!.data[4 * i + k]!, `row ${i}[${k}]`)));
    await refused(predict('sequence_pool', { instances: [{ tokens: [1, 2, 3], lengths: 3 }, { tokens: [1, 2], lengths: 2 }] }), 400,
      /instance 1: input 'tokens' must hold 3 values, got 2 \(the first row has 3/);
  });

  it('missing values: only a model\'s features take them (features.test.ts); a plain model\'s inputs refuse them', async () => {
    const r = await predict('features', { instances: [{ age: 31.5, city: 'Oslo', count: 2 }, { age: 4, city: 12, count: 3 }] });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.predictions, [{ age_out: 31.5, city_out: 'Oslo', count_out: 2 }, { age_out: 4, city_out: '12', count_out: 3 }]);
    await refused(predict('features', { instances: [{ age: 1, city: 'a', count: 1 }, { city: 'b', count: 2 }] }), 400, /^instance 1: missing field 'age'$/);
    await refused(predict('features', { instances: [{ age: null, city: 'a', count: 1 }] }), 400, /instance 0: field 'age' is null, expected a number for FP64$/);
    await refused(predict('features', { instances: [{ age: 1, city: null, count: 1 }] }), 400, /instance 0: field 'city' is null, expected a string for BYTES$/);
    await refused(predict('features', { instances: [{ age: 1, city: 'a', count: null }] }), 400, /instance 0: field 'count' is null, expected an integer/);
    await refused(predict('features', { inputs: { age: [1], count: [1] } }), 400, /"inputs": missing input 'city'/);
    await refused(predict('features', { instances: [{ age: 'old', city: 'a', count: 1 }] }), 400, /instance 0: field 'age' is "old", expected a number for FP64/);
    await refused(predict('features', { instances: [{ age: 1, count: 1, cty: 'Oslo' }] }), 400, /instance 0: unknown field 'cty' \(the model's inputs: 'age', 'city', 'count'\)/);
  });

  it('versions: each with its own inputs; status, metadata and predict name one', async () => {
    const status = await request(`${server.url}/v1/models/versioned`);
    assert.equal(status.status, 200, status.text);
    assert.deepEqual(status.body, {
      name: 'versioned',
      ready: true,
      model_version_status: ['1', '2'].map((version) => ({ version, state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } })),
    });
    const one = await request(`${server.url}/v1/models/versioned/versions/1`);
    assert.deepEqual(one.body.model_version_status.map((s: { version: string }) => s.version), ['1']);

    const v1 = await request(`${server.url}/v1/models/versioned/versions/1/metadata`);
    assert.equal(v1.status, 200, v1.text);
    assert.deepEqual(v1.body.model_spec, { name: 'versioned', signature_name: '', version: '1' });
    const sig = v1.body.metadata.signature_def.signature_def.serving_default;
    assert.equal(sig.method_name, 'tensorflow/serving/predict');
    assert.deepEqual(sig.inputs, { float_input: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: '-1', name: '' }, { size: '30', name: '' }], unknown_rank: false }, name: 'float_input' } });
    assert.deepEqual(Object.keys(sig.outputs), ['output_label', 'output_probability']);
    assert.equal(sig.outputs.output_label.dtype, 'DT_INT64');
    const latest = await request(`${server.url}/v1/models/versioned/metadata`);
    assert.equal(latest.body.model_spec.version, '2');
    assert.deepEqual(Object.keys(latest.body.metadata.signature_def.signature_def.serving_default.inputs), ['input']);

    const r1 = await predict('versioned/versions/1', { instances: [CANCER_ROWS[0]] });
    assert.equal(r1.status, 200, r1.text);
    assert.equal(r1.body.predictions[0].output_label, LABELS[0]);
    // Version 2: softmax of 10 times features 0, 1, 2.
    const row = Array.from({ length: 30 }, (_, i) => (i === 1 ? 1 : 0));
    const r2 = await predict('versioned', { instances: [row] });
    assert.equal(r2.status, 200, r2.text);
    const e = Math.exp(10);
    [1 / (e + 2), e / (e + 2), 1 / (e + 2)].forEach((want, k) => close(r2.body.predictions[0][k], want, `p${k}`));
    await refused(request(`${server.url}/v1/models/versioned/versions/7`), 404, /no version '7'/);
    await refused(predict('versioned/versions/7', { instances: [row] }), 404, /no version '7'/);
  });

  it('a version that failed to load: status END with the reason, and not ready; predict and metadata 503', async () => {
    const r = await request(`${server.url}/v1/models/broken`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.ready, false);
    const [v] = r.body.model_version_status;
    assert.equal(v.version, '1');
    assert.equal(v.state, 'END');
    assert.equal(v.status.error_code, 'UNKNOWN');
    assert.match(v.status.error_message, /NoSuchOperator/);
    await refused(predict('broken', { instances: [[1, 2]] }), 503, /broken/);
    await refused(request(`${server.url}/v1/models/broken/metadata`), 503, /broken/);
  });

  it('metadata names every datatype as TensorFlow does', async () => {
    const r = await request(`${server.url}/v1/models/datatypes/metadata`);
    const inputs = r.body.metadata.signature_def.signature_def.serving_default.inputs;
    const dtypes = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, (v as { dtype: string }).dtype]));
    assert.deepEqual(dtypes, {
      in_bool: 'DT_BOOL', in_int8: 'DT_INT8', in_int16: 'DT_INT16', in_int32: 'DT_INT32', in_int64: 'DT_INT64',
      in_uint8: 'DT_UINT8', in_uint16: 'DT_UINT16', in_uint32: 'DT_UINT32', in_uint64: 'DT_UINT64',
      in_fp16: 'DT_HALF', in_fp32: 'DT_FLOAT', in_fp64: 'DT_DOUBLE', in_bytes: 'DT_STRING',
    });
  });

  it('GET /v1/models lists the ready models', async () => {
    const r = await request(`${server.url}/v1/models`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual([...r.body.models].sort(), ['breast_cancer', 'datatypes', 'diabetes_forest', 'features', ODD_NAME, 'sequence_pool', 'split', 'two_inputs', 'versioned'].sort());
  });

  it('a name with spaces and dots, percent-encoded as on the V2 routes', async () => {
    const name = encodeURIComponent(ODD_NAME);
    const r = await predict(name, { instances: [CANCER_ROWS[2]] });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.predictions[0].output_label, LABELS[2]);
    assert.equal((await request(`${server.url}/v1/models/${name}`)).body.name, ODD_NAME);
  });

  it('says which traffic split variant answered', async () => {
    const r = await predict('split', { instances: [Array(30).fill(0)] });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('x-ferry-variant'), 'v2');
  });

  it('reads a gzip-compressed body', async () => {
    const body = gzipSync(JSON.stringify({ instances: [CANCER_ROWS[0]] }));
    const r = await request(`${server.url}/v1/models/breast_cancer:predict`, { method: 'POST', body, headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.predictions[0].output_label, LABELS[0]);
  });

  it('refuses bad rows with the instance and field, and bad bodies with what is expected: never a 5xx', async () => {
    const short = CANCER_ROWS.map((row, i) => (i === 3 ? row.slice(1) : row));
    await refused(predict('breast_cancer', { instances: short }), 400, /^instance 3: input 'float_input' must hold 30 values, got 29$/);
    const typo = CANCER_ROWS.map((row, i) => (i === 1 ? row.map((x, k) => (k === 4 ? 'abc' : x)) : row));
    await refused(predict('breast_cancer', { instances: typo }), 400, /^instance 1: field 'float_input'\[4\] is "abc", expected a number for FP32$/);
    await refused(predict('breast_cancer', { instances: [5] }), 400, /instance 0: input 'float_input' must be a list/);
    await refused(predict('breast_cancer', { inputs: [CANCER_ROWS[0], CANCER_ROWS[1]!.slice(0, 3)] }), 400, /"inputs" row 1: input 'float_input' must hold 30 values, got 3/);
    await refused(predict('two_inputs', { instances: [{ features: [1, 2, 3, 4, 5, 6, 7, 8] }] }), 400, /^instance 0: missing field 'category'$/);
    await refused(predict('two_inputs', { instances: [{ features: [1, 2, 3, 4, 5, 6, 7, 8], category: 1.5 }] }), 400, /instance 0: field 'category' is 1.5, expected an integer/);
    await refused(predict('two_inputs', { instances: [[1, 2, 3]] }), 400, /instance 0 is a list of 3, expected an object keyed by input name \(the model has 2 inputs/);
    await refused(predict('two_inputs', { inputs: { features: [[1, 2, 3, 4, 5, 6, 7, 8]], category: [1, 2] } }), 400, /input 'category' has 2 rows, but input 'features' has 1/);
    await refused(predict('breast_cancer', {}), 400, /neither "instances" nor "inputs"/);
    await refused(predict('breast_cancer', { instances: CANCER_ROWS, inputs: CANCER_ROWS }), 400, /both "instances" and "inputs"/);
    await refused(predict('breast_cancer', { instances: [] }), 400, /"instances" must be a non-empty list/);
    await refused(predict('breast_cancer', [CANCER_ROWS[0]]), 400, /must be a JSON object/);
    await refused(predict('breast_cancer', '{"instances": [1, 2'), 400, /malformed JSON/);
    await refused(predict('breast_cancer', { signature_name: 'classify', instances: CANCER_ROWS }), 400, /signature_name "classify" is not served/);
    await refused(predict('nope', { instances: CANCER_ROWS }), 404, /unknown model 'nope'/);
    await refused(request(`${server.url}/v1/models/nope`), 404, /unknown model 'nope'/);
    await refused(request(`${server.url}/v1/models/nope/metadata`), 404, /unknown model 'nope'/);
    const get = await refused(request(`${server.url}/v1/models/breast_cancer:predict`), 405, /method GET is not allowed/);
    assert.equal(get.headers.get('allow'), 'POST');
    await refused(request(`${server.url}/v1/models/breast_cancer`, { method: 'POST', body: '{}' }), 405, /not allowed/);
    await refused(predict('breast_cancer/versions/1/labels/x', {}), 404, /no route/);
    await refused(request(`${server.url}/v1/models/breast_cancer:classify`, { method: 'POST', body: '{}' }), 404, /':classify' is not served/);
    await refused(request(`${server.url}/v1/nothing`), 404, /no route for GET \/v1\/nothing/);
  });

  it('leaves the V2 routes as they were', async () => {
    const r = await postJson(`${server.url}/v2/models/breast_cancer/infer`, { inputs: [{ name: 'float_input', datatype: 'FP32', shape: [1, 30], data: CANCER_ROWS[0] }] });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.outputs[0].data[0], LABELS[0]);
  });
});

describe('records API answers', () => {
  it('write 64-bit integers past 2^53 as strings, NaN and infinities as null', () => {
    const big = { name: 'id', datatype: 'INT64' as const, shape: [2], data: BigInt64Array.from([2n ** 60n, -3n]) };
    const score = { name: 'score', datatype: 'FP32' as const, shape: [2, 2], data: Float32Array.from([NaN, 1.5, Infinity, -Infinity]) };
    assert.equal(outputsJson([big]), '{"outputs":["1152921504606846976",-3]}');
    assert.equal(predictionsJson([big, score], 2), '{"predictions":[{"id":"1152921504606846976","score":[null,1.5]},{"id":-3,"score":[null,null]}]}');
    assert.equal(outputsJson([{ name: 's', datatype: 'FP64', shape: [], data: Float64Array.from([2.5]) }]), '{"outputs":2.5}');
    assert.throws(() => predictionsJson([{ name: 's', datatype: 'FP64', shape: [], data: Float64Array.from([2.5]) }], 1), /ask in the columnar format/);
  });
});
