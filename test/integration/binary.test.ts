/**
 * Triton's binary tensor data extension over HTTP (server docs/protocol/extension_binary_data.md), against the real
 * server: request bodies built byte by byte, responses decoded byte by byte, answers compared with what the
 * original libraries predicted (examples/models/NAME/reference.json).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { postJson, startTestServer, type TestServer } from '../helpers/server.js';
import { assertClose, referenceModels, values, type Reference, type RefTensor } from '../helpers/reference.js';
import {
  binaryRequest, bytesElements, f32, f64, i16, i32, i64, i8, rawPost, readBytesElements, readF32, readF64, readI16, readI32,
  readI64, readI8, readU16, readU32, readU64, readU8, splitBinaryResponse, u16, u32, u64, u8, type BinaryOutput, type RawReply,
} from '../helpers/binary.js';

const references = new Map(referenceModels().map((r) => [r.model, r]));
const ref = (model: string): Reference => references.get(model)!;
const refInput = (model: string, name: string): RefTensor => ref(model).cases[0]!.inputs.find((t) => t.name === name)!;
const refOutput = (model: string, name: string): RefTensor => ref(model).cases[0]!.outputs.find((t) => t.name === name)!;

function parseJson(reply: RawReply): any {
  return JSON.parse(reply.body.toString('utf8'));
}

/** Asserts a binary output decodes (by `decode`) to what the library predicted. */
function assertBinaryOutput(model: string, o: BinaryOutput | undefined, decode: (b: Buffer) => unknown[]): void {
  const want = refOutput(model, o?.name ?? '?');
  assert.ok(o, `${model}: output missing`);
  assert.equal(o.data, undefined, `${model} ${o.name}: a binary output carries no JSON data`);
  assert.ok(o.raw, `${model} ${o.name}: no binary_data_size`);
  assert.equal(o.parameters?.binary_data_size, o.raw.length);
  assertClose({ ...o, data: decode(o.raw) }, want, ref(model).tolerance, `${model} ${o.name} (binary)`);
}

const asNumbers = (xs: bigint[]): number[] => xs.map(Number);

describe('binary tensor data extension', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ maxBodyBytes: 256 * 1024 });
  });
  after(() => server.stop());

  const infer = (model: string, body: Buffer | string, headers: Record<string, string | number> = {}) =>
    rawPost(`${server.url}/v2/models/${model}/infer`, body, headers);

  async function assertStillServing(): Promise<void> {
    const input = refInput('mlp', 'input');
    const reply = await postJson(`${server.url}/v2/models/mlp/infer`, { inputs: [{ name: 'input', datatype: 'FP32', shape: input.shape, data: values(input) }] });
    assert.equal(reply.status, 200, reply.text);
  }

  describe('FP32', () => {
    it('mlp: a binary input and an output asked for with binary_data: true', async () => {
      const input = refInput('mlp', 'input');
      const raw = f32(values(input) as number[]);
      const { body, headers } = binaryRequest(
        { id: 'bin-1', inputs: [{ name: 'input', datatype: 'FP32', shape: input.shape, parameters: { binary_data_size: raw.length } }], outputs: [{ name: 'output', parameters: { binary_data: true } }] },
        [raw],
      );
      const reply = await infer('mlp', body, headers);
      assert.equal(reply.status, 200, reply.body.toString());
      assert.equal(reply.headers['content-type'], 'application/octet-stream');
      assert.equal(Number(reply.headers['content-length']), reply.body.length);
      const { json } = splitBinaryResponse(reply.headers, reply.body);
      assert.equal(json.model_name, 'mlp');
      assert.equal(json.id, 'bin-1');
      assert.deepEqual(json.outputs[0]!.shape, [5, 3]);
      assert.equal(json.outputs[0]!.parameters!.binary_data_size, 5 * 3 * 4);
      assertBinaryOutput('mlp', json.outputs[0], readF32);
    });

    it('breast_cancer: binary_data_output: true returns every output raw (INT64 labels and FP32 probabilities)', async () => {
      const input = refInput('breast_cancer', 'float_input');
      const raw = f32(values(input) as number[]);
      const { body, headers } = binaryRequest(
        { parameters: { binary_data_output: true }, inputs: [{ name: 'float_input', datatype: 'FP32', shape: input.shape, parameters: { binary_data_size: raw.length } }] },
        [raw],
      );
      const reply = await infer('breast_cancer', body, headers);
      assert.equal(reply.status, 200, reply.body.toString());
      const { json } = splitBinaryResponse(reply.headers, reply.body);
      assert.deepEqual(json.outputs.map((o) => o.name), ['output_label', 'output_probability']);
      assertBinaryOutput('breast_cancer', json.outputs[0], (b) => asNumbers(readI64(b)));
      assertBinaryOutput('breast_cancer', json.outputs[1], readF32);
    });

    it('a tensor that lands at an odd offset after the JSON decodes the same (the server copies it to align it)', async () => {
      const input = refInput('mlp', 'input');
      const raw = f32(values(input) as number[]);
      for (const pad of [0, 1, 2, 3]) {
        const head = Buffer.from(JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: input.shape, parameters: { binary_data_size: raw.length } }], outputs: [{ name: 'output', parameters: { binary_data: true } }] }) + ' '.repeat(pad));
        const reply = await infer('mlp', Buffer.concat([head, raw]), { 'inference-header-content-length': head.length });
        assert.equal(reply.status, 200, reply.body.toString());
        assertBinaryOutput('mlp', splitBinaryResponse(reply.headers, reply.body).json.outputs[0], readF32);
      }
    });
  });

  describe('INT64', () => {
    it('two_inputs: features as JSON and category binary in one request; class_id binary, score JSON', async () => {
      const features = refInput('two_inputs', 'features');
      const category = refInput('two_inputs', 'category');
      const raw = i64(values(category) as number[]);
      const { body, headers } = binaryRequest(
        {
          inputs: [
            { name: 'features', datatype: 'FP32', shape: features.shape, data: values(features) },
            { name: 'category', datatype: 'INT64', shape: category.shape, parameters: { binary_data_size: raw.length } },
          ],
          outputs: [{ name: 'class_id', parameters: { binary_data: true } }, { name: 'score' }],
        },
        [raw],
      );
      const reply = await infer('two_inputs', body, headers);
      assert.equal(reply.status, 200, reply.body.toString());
      const { json } = splitBinaryResponse(reply.headers, reply.body);
      assert.deepEqual(json.outputs.map((o) => o.name), ['class_id', 'score']);
      assertBinaryOutput('two_inputs', json.outputs[0], (b) => asNumbers(readI64(b)));
      assert.equal(json.outputs[1]!.parameters, undefined);
      assertClose(json.outputs[1] as never, refOutput('two_inputs', 'score'), ref('two_inputs').tolerance, 'score (JSON)');
    });

    it('binary_data: false on an output overrides binary_data_output: true', async () => {
      const features = refInput('two_inputs', 'features');
      const category = refInput('two_inputs', 'category');
      const a = f32(values(features) as number[]);
      const b = i64(values(category) as number[]);
      const { body, headers } = binaryRequest(
        {
          parameters: { binary_data_output: true },
          inputs: [
            { name: 'features', datatype: 'FP32', shape: features.shape, parameters: { binary_data_size: a.length } },
            { name: 'category', datatype: 'INT64', shape: category.shape, parameters: { binary_data_size: b.length } },
          ],
          outputs: [{ name: 'score', parameters: { binary_data: false } }, { name: 'class_id' }],
        },
        [a, b],
      );
      const reply = await infer('two_inputs', body, headers);
      assert.equal(reply.status, 200, reply.body.toString());
      const { json } = splitBinaryResponse(reply.headers, reply.body);
      assert.ok(Array.isArray(json.outputs[0]!.data), 'score goes back as JSON');
      assertClose(json.outputs[0] as never, refOutput('two_inputs', 'score'), ref('two_inputs').tolerance, 'score (JSON)');
      assertBinaryOutput('two_inputs', json.outputs[1], (x) => asNumbers(readI64(x)));
    });

    it('without any binary output the answer is plain JSON, even for a binary request', async () => {
      const category = refInput('two_inputs', 'category');
      const features = refInput('two_inputs', 'features');
      const raw = i64(values(category) as number[]);
      const { body, headers } = binaryRequest(
        {
          inputs: [
            { name: 'category', datatype: 'INT64', shape: category.shape, parameters: { binary_data_size: raw.length } },
            { name: 'features', datatype: 'FP32', shape: features.shape, data: values(features) },
          ],
          outputs: [{ name: 'class_id', parameters: { binary_data: false } }],
        },
        [raw],
      );
      const reply = await infer('two_inputs', body, headers);
      assert.equal(reply.status, 200, reply.body.toString());
      assert.equal(reply.headers['content-type'], 'application/json');
      assert.equal(reply.headers['inference-header-content-length'], undefined);
      assertClose(parseJson(reply).outputs[0], refOutput('two_inputs', 'class_id'), ref('two_inputs').tolerance, 'class_id');
    });
  });

  describe('BYTES', () => {
    it('text_category: BYTES input [N,1] and BYTES output_label, both binary', async () => {
      const input = refInput('text_category', 'input');
      const raw = bytesElements(values(input) as string[]);
      const { body, headers } = binaryRequest(
        {
          inputs: [{ name: 'input', datatype: 'BYTES', shape: input.shape, parameters: { binary_data_size: raw.length } }],
          outputs: [{ name: 'output_label', parameters: { binary_data: true } }, { name: 'output_probability' }],
        },
        [raw],
      );
      const reply = await infer('text_category', body, headers);
      assert.equal(reply.status, 200, reply.body.toString());
      const { json } = splitBinaryResponse(reply.headers, reply.body);
      assertBinaryOutput('text_category', json.outputs[0], readBytesElements);
      assertClose(json.outputs[1] as never, refOutput('text_category', 'output_probability'), ref('text_category').tolerance, 'output_probability');
    });
  });

  describe('every datatype (the datatypes model echoes its inputs)', () => {
    // FP16 as IEEE half bit patterns: 0.5, -1.25, 65504, -2^-10, 0, 3.140625 (the reference values, exact in half).
    const halfBits = [0x3800, 0xbd00, 0x7bff, 0x9400, 0x0000, 0x4248];
    // Beyond 2^53, where JSON numbers lose precision: binary carries every 64-bit integer exactly.
    const int64 = [-(2n ** 63n), 2n ** 63n - 1n, 2n ** 53n + 1n, -1n, 0n, 123456789012345678n];
    const uint64 = [0n, 2n ** 64n - 1n, 2n ** 53n + 1n, 1n, 18446744073709551557n, 42n];
    const inputs: [string, string, Buffer, (b: Buffer) => unknown[], unknown[]][] = [
      ['bool', 'BOOL', u8([1, 0, 0, 0, 1, 1]), readU8, [1, 0, 0, 0, 1, 1]],
      ['int8', 'INT8', i8(values(refInput('datatypes', 'in_int8')) as number[]), readI8, values(refInput('datatypes', 'in_int8'))],
      ['int16', 'INT16', i16(values(refInput('datatypes', 'in_int16')) as number[]), readI16, values(refInput('datatypes', 'in_int16'))],
      ['int32', 'INT32', i32(values(refInput('datatypes', 'in_int32')) as number[]), readI32, values(refInput('datatypes', 'in_int32'))],
      ['int64', 'INT64', i64(int64), readI64, int64],
      ['uint8', 'UINT8', u8(values(refInput('datatypes', 'in_uint8')) as number[]), readU8, values(refInput('datatypes', 'in_uint8'))],
      ['uint16', 'UINT16', u16(values(refInput('datatypes', 'in_uint16')) as number[]), readU16, values(refInput('datatypes', 'in_uint16'))],
      ['uint32', 'UINT32', u32(values(refInput('datatypes', 'in_uint32')) as number[]), readU32, values(refInput('datatypes', 'in_uint32'))],
      ['uint64', 'UINT64', u64(uint64), readU64, uint64],
      ['fp16', 'FP16', u16(halfBits), readU16, halfBits],
      ['fp32', 'FP32', f32(values(refInput('datatypes', 'in_fp32')) as number[]), readF32, values(refInput('datatypes', 'in_fp32'))],
      ['fp64', 'FP64', f64(values(refInput('datatypes', 'in_fp64')) as number[]), readF64, values(refInput('datatypes', 'in_fp64'))],
      ['bytes', 'BYTES', bytesElements(values(refInput('datatypes', 'in_bytes')) as string[]), readBytesElements, values(refInput('datatypes', 'in_bytes'))],
    ];

    it('sends all 13 inputs raw and reads all 13 outputs raw, bit for bit', async () => {
      const { body, headers } = binaryRequest(
        {
          parameters: { binary_data_output: true },
          inputs: inputs.map(([n, datatype, raw]) => ({ name: `in_${n}`, datatype, shape: [3, 2], parameters: { binary_data_size: raw.length } })),
        },
        inputs.map(([, , raw]) => raw),
      );
      const reply = await infer('datatypes', body, headers);
      assert.equal(reply.status, 200, reply.body.toString());
      const { json } = splitBinaryResponse(reply.headers, reply.body);
      for (const [n, datatype, raw, decode, want] of inputs) {
        const o = json.outputs.find((x) => x.name === `out_${n}`);
        assert.ok(o, `out_${n} missing`);
        assert.equal(o.datatype, datatype);
        assert.deepEqual(o.shape, [3, 2]);
        assert.deepEqual(o.raw, raw, `out_${n}: the raw bytes echo the input's`);
        assert.deepEqual(decode(o.raw!), want, `out_${n}`);
      }
    });

    it('in_int64 beyond 2^53 travels exactly both ways, mixed with JSON inputs', async () => {
      const jsonInputs = references.get('datatypes')!.cases[0]!.inputs.filter((t) => t.name !== 'in_int64' && t.name !== 'in_bytes');
      const bytes = bytesElements(['', 'ünï', '✓', 'a b', 'x', 'y']);
      const raw = i64(int64);
      const { body, headers } = binaryRequest(
        {
          inputs: [
            ...jsonInputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape, data: values(t) })),
            { name: 'in_int64', datatype: 'INT64', shape: [3, 2], parameters: { binary_data_size: raw.length } },
            { name: 'in_bytes', datatype: 'BYTES', shape: [3, 2], parameters: { binary_data_size: bytes.length } },
          ],
          outputs: [{ name: 'out_int64', parameters: { binary_data: true } }, { name: 'out_bytes', parameters: { binary_data: true } }],
        },
        [raw, bytes],
      );
      const reply = await infer('datatypes', body, headers);
      assert.equal(reply.status, 200, reply.body.toString());
      const { json } = splitBinaryResponse(reply.headers, reply.body);
      assert.deepEqual(readI64(json.outputs[0]!.raw!), int64);
      assert.deepEqual(readBytesElements(json.outputs[1]!.raw!), ['', 'ünï', '✓', 'a b', 'x', 'y']);
    });
  });

  describe('framing', () => {
    it('a request whose Inference-Header-Content-Length covers the whole body is plain JSON', async () => {
      const input = refInput('mlp', 'input');
      const text = JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: input.shape, data: values(input) }] });
      const reply = await infer('mlp', text, { 'inference-header-content-length': Buffer.byteLength(text) });
      assert.equal(reply.status, 200, reply.body.toString());
      assertClose(parseJson(reply).outputs[0], refOutput('mlp', 'output'), ref('mlp').tolerance, 'output');
    });

    it('an empty binary input (binary_data_size 0) needs no binary part', async () => {
      const { body } = binaryRequest({ inputs: [{ name: 'input', datatype: 'FP32', shape: [0, 30], parameters: { binary_data_size: 0 } }], outputs: [{ name: 'output', parameters: { binary_data: true } }] }, []);
      const reply = await infer('mlp', body, {});
      assert.equal(reply.status, 200, reply.body.toString());
      // No raw bytes follow, so (as in Triton) the answer is plain JSON with binary_data_size 0.
      assert.equal(reply.headers['content-type'], 'application/json');
      assert.deepEqual(parseJson(reply).outputs[0], { name: 'output', datatype: 'FP32', shape: [0, 3], parameters: { binary_data_size: 0 } });
    });
  });

  describe('raw binary request (Inference-Header-Content-Length: 0)', () => {
    it('mlp: the body is the input, its batch dimension deduced from the byte count; outputs come back raw', async () => {
      const input = refInput('mlp', 'input');
      const reply = await infer('mlp', f32(values(input) as number[]), { 'inference-header-content-length': 0 });
      assert.equal(reply.status, 200, reply.body.toString());
      const { json } = splitBinaryResponse(reply.headers, reply.body);
      assert.deepEqual(json.outputs[0]!.shape, [5, 3]);
      assertBinaryOutput('mlp', json.outputs[0], readF32);
    });

    it('text_category: the body is one BYTES element, without a length prefix', async () => {
      const reply = await infer('text_category', 'gold', { 'inference-header-content-length': 0 });
      assert.equal(reply.status, 200, reply.body.toString());
      const { json } = splitBinaryResponse(reply.headers, reply.body);
      const label = json.outputs.find((o) => o.name === 'output_label')!;
      assert.deepEqual(label.shape, [1]);
      assert.deepEqual(readBytesElements(label.raw!), ['premium']); // reference.json: gold -> premium
    });

    it('refuses models with several inputs and bodies that do not fill the shape', async () => {
      let reply = await infer('two_inputs', f32([1, 2, 3, 4, 5, 6, 7, 8]), { 'inference-header-content-length': 0 });
      assert.equal(reply.status, 400);
      assert.match(parseJson(reply).error, /raw binary request .* needs a model with one input; model 'two_inputs' has 2 \('features', 'category'\)/);
      reply = await infer('mlp', Buffer.alloc(100), { 'inference-header-content-length': 0 });
      assert.equal(reply.status, 400);
      assert.match(parseJson(reply).error, /input 'input': a raw binary request of 100 bytes does not fill the model's shape \[-1,30\] of FP32 \(120 bytes per step/);
      reply = await infer('text_category', Buffer.from([0xff, 0xfe]), { 'inference-header-content-length': 0 });
      assert.equal(reply.status, 400);
      assert.match(parseJson(reply).error, /input 'input': the raw binary request body is not valid UTF-8/);
      await assertStillServing();
    });
  });

  describe('errors: 400 naming what is wrong, and the server serves on', () => {
    const input = refInput('mlp', 'input');
    const raw = f32(values(input) as number[]);
    const header = (size: unknown, extra: object = {}) => ({ inputs: [{ name: 'input', datatype: 'FP32', shape: input.shape, parameters: { binary_data_size: size }, ...extra }] });
    const withLength = (json: object, parts: Buffer[], length?: string | number) => {
      const r = binaryRequest(json, parts);
      return { body: r.body, headers: { 'inference-header-content-length': length ?? r.headers['inference-header-content-length']! } };
    };

    const CASES: [string, () => { body: Buffer; headers: Record<string, string | number> }, RegExp][] = [
      ['header not a number', () => withLength(header(600), [raw], 'abc'), /Inference-Header-Content-Length must be the byte length of the JSON part of the body \(a non-negative integer\), got 'abc'/],
      ['header negative', () => withLength(header(600), [raw], '-5'), /Inference-Header-Content-Length must be .* got '-5'/],
      ['header a fraction', () => withLength(header(600), [raw], '12.5'), /Inference-Header-Content-Length must be .* got '12.5'/],
      ['header larger than the body', () => withLength(header(600), [raw], 99999), /Inference-Header-Content-Length is 99999 but the request body is only \d+ bytes/],
      ['header cutting the JSON short', () => withLength(header(600), [raw], 10), /malformed JSON in request body/],
      ['binary_data_size negative', () => withLength(header(-1), [raw]), /input 'input': parameters.binary_data_size must be a non-negative integer .*got -1/],
      ['binary_data_size a fraction', () => withLength(header(1.5), [raw]), /input 'input': parameters.binary_data_size must be a non-negative integer .*got 1.5/],
      ['binary_data_size a string', () => withLength(header('120'), [raw]), /input 'input': parameters.binary_data_size must be a non-negative integer .*got "120"/],
      ['too few bytes after the JSON', () => withLength(header(600), [raw.subarray(0, 500)]), /input 'input': parameters.binary_data_size is 600 but only 500 bytes of binary data are left for it/],
      ['leftover bytes after the binary inputs', () => withLength(header(600), [raw, Buffer.alloc(8)]), /the request body has 8 bytes after the JSON header that no input's parameters.binary_data_size accounts for/],
      ['both data and binary_data_size', () => withLength(header(600, { data: values(input) }), [raw]), /input 'input' has both "data" and parameters.binary_data_size/],
      ['raw size not matching shape x datatype', () => withLength(header(596), [raw.subarray(0, 596)]), /input 'input': FP32 data for 150 elements is 600 bytes, got 596/],
      ['binary_data_size without the header', () => ({ body: Buffer.from(JSON.stringify(header(600))), headers: {} }), /input 'input': parameters.binary_data_size is 600 but the request has no binary part \(send the Inference-Header-Content-Length header/],
      ['binary_data not a boolean', () => withLength({ ...header(600), outputs: [{ name: 'output', parameters: { binary_data: 'yes' } }] }, [raw]), /output 'output': parameters.binary_data must be true or false, got "yes"/],
      ['binary_data_output not a boolean', () => withLength({ ...header(600), parameters: { binary_data_output: 1 } }, [raw]), /parameters.binary_data_output must be true or false, got 1/],
    ];

    for (const [what, make, message] of CASES) {
      it(what, async () => {
        const { body, headers } = make();
        const reply = await infer('mlp', body, headers);
        assert.equal(reply.status, 400, reply.body.toString());
        assert.equal(reply.headers['content-type'], 'application/json');
        assert.match(parseJson(reply).error, message);
        await assertStillServing();
      });
    }

    const bytesCases: [string, Buffer, number[], RegExp][] = [
      ['a BYTES length running past the data', Buffer.concat([bytesElements(['gold']).subarray(0, 4), Buffer.from('go')]), [1, 1], /input 'input': BYTES element 0 says it is 4 bytes but only 2 remain/],
      ['BYTES data ending before the shape is filled', bytesElements(['gold', 'red']), [3, 1], /input 'input': BYTES data ends after 2 of 3 elements/],
      ['BYTES data with elements left over', bytesElements(['gold', 'red', 'blue']), [2, 1], /input 'input': BYTES data holds more than the 2 elements its shape says/],
      ['BYTES that are not UTF-8', Buffer.concat([u32([2]), Buffer.from([0xc3, 0x28])]), [1, 1], /input 'input': BYTES element 0 is not valid UTF-8/],
      ['a BYTES shape far larger than its data', bytesElements(['gold']), [1_000_000_000, 1], /input 'input': BYTES data for shape \[1000000000,1\] \(1000000000 elements\) needs at least 4000000000 bytes/],
    ];
    for (const [what, bytes, shape, message] of bytesCases) {
      it(what, async () => {
        const { body, headers } = binaryRequest({ inputs: [{ name: 'input', datatype: 'BYTES', shape, parameters: { binary_data_size: bytes.length } }] }, [bytes]);
        const reply = await infer('text_category', body, headers);
        assert.equal(reply.status, 400, reply.body.toString());
        assert.match(parseJson(reply).error, message);
        await assertStillServing();
      });
    }
  });
});
