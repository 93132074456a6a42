/**
 * The V2 gRPC service with a real gRPC client built from the project's .proto: every RPC, typed and raw
 * contents, every datatype, error codes with the same messages as REST, reflection and grpc.health.v1.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { EXAMPLES, startTestServer, type TestServer } from '../helpers/server.js';
import { TempRepository, identityModel } from '../helpers/repository.js';
import { V2GrpcClient, healthCheck, reflectionListServices } from '../helpers/grpc-client.js';
import { assertClose, referenceModels, values, type RefTensor, type Reference } from '../helpers/reference.js';

const refs = new Map<string, Reference>(referenceModels().map((r) => [r.model, r]));
const ref = (name: string): Reference => refs.get(name)!;

const TYPED_FIELD: Record<string, string> = {
  BOOL: 'bool_contents', INT8: 'int_contents', INT16: 'int_contents', INT32: 'int_contents', INT64: 'int64_contents',
  UINT8: 'uint_contents', UINT16: 'uint_contents', UINT32: 'uint_contents', UINT64: 'uint64_contents',
  FP32: 'fp32_contents', FP64: 'fp64_contents', BYTES: 'bytes_contents',
};

function typedInput(t: RefTensor): object {
  const v = values(t);
  const data = t.datatype === 'BYTES' ? v.map((s) => Buffer.from(s as string)) : t.datatype.endsWith('INT64') ? v.map(String) : v;
  return { name: t.name, datatype: t.datatype, shape: t.shape, contents: { [TYPED_FIELD[t.datatype]!]: data } };
}

/** Raw bytes written here element by element, independently of the server's codec. */
function rawBytes(t: RefTensor): Buffer {
  const v = values(t);
  const writers: Record<string, [number, (b: Buffer, x: any, at: number) => void]> = {
    BOOL: [1, (b, x, at) => b.writeUInt8(x ? 1 : 0, at)], INT8: [1, (b, x, at) => b.writeInt8(x, at)],
    INT16: [2, (b, x, at) => b.writeInt16LE(x, at)], INT32: [4, (b, x, at) => b.writeInt32LE(x, at)],
    INT64: [8, (b, x, at) => b.writeBigInt64LE(BigInt(x), at)], UINT8: [1, (b, x, at) => b.writeUInt8(x, at)],
    UINT16: [2, (b, x, at) => b.writeUInt16LE(x, at)], UINT32: [4, (b, x, at) => b.writeUInt32LE(x, at)],
    UINT64: [8, (b, x, at) => b.writeBigUInt64LE(BigInt(x), at)], FP32: [4, (b, x, at) => b.writeFloatLE(x, at)],
    FP64: [8, (b, x, at) => b.writeDoubleLE(x, at)],
  };
  if (t.datatype === 'BYTES') {
    return Buffer.concat(v.map((s) => {
      const bytes = Buffer.from(s as string);
      const len = Buffer.alloc(4);
      len.writeUInt32LE(bytes.length);
      return Buffer.concat([len, bytes]);
    }));
  }
  if (t.datatype === 'FP16') return Buffer.from(new Uint16Array(v.map((x) => halfBits(x as number))).buffer);
  const [size, write] = writers[t.datatype]!;
  const out = Buffer.alloc(size * v.length);
  v.forEach((x, i) => write(out, x, i * size));
  return out;
}

/** FP16 bits for the test's values, which half precision holds exactly. */
function halfBits(x: number): number {
  if (x === 0) return Object.is(x, -0) ? 0x8000 : 0;
  const sign = x < 0 ? 0x8000 : 0;
  const a = Math.abs(x);
  const e = Math.floor(Math.log2(a));
  if (e < -14) return sign | Math.round(a / 2 ** -24);
  return sign | ((e + 15) << 10) | Math.round((a / 2 ** e - 1) * 1024);
}

/** Decodes raw output bytes for comparison. */
function decodeRaw(datatype: string, bytes: Buffer): unknown[] {
  const b = Buffer.from(bytes); // aligned copy
  const views: Record<string, () => ArrayLike<unknown>> = {
    BOOL: () => Array.from(b, (x) => x !== 0), INT8: () => new Int8Array(b.buffer, b.byteOffset, b.length),
    INT16: () => new Int16Array(b.buffer, b.byteOffset, b.length / 2), INT32: () => new Int32Array(b.buffer, b.byteOffset, b.length / 4),
    INT64: () => Array.from(new BigInt64Array(b.buffer, b.byteOffset, b.length / 8), Number),
    UINT8: () => new Uint8Array(b.buffer, b.byteOffset, b.length), UINT16: () => new Uint16Array(b.buffer, b.byteOffset, b.length / 2),
    UINT32: () => new Uint32Array(b.buffer, b.byteOffset, b.length / 4),
    UINT64: () => Array.from(new BigUint64Array(b.buffer, b.byteOffset, b.length / 8), Number),
    FP32: () => new Float32Array(b.buffer, b.byteOffset, b.length / 4), FP64: () => new Float64Array(b.buffer, b.byteOffset, b.length / 8),
    FP16: () => Array.from(new Uint16Array(b.buffer, b.byteOffset, b.length / 2), (h) => {
      const exp = (h >> 10) & 0x1f, mant = h & 0x3ff, s = h & 0x8000 ? -1 : 1;
      return exp === 0 ? s * mant * 2 ** -24 : s * (1 + mant / 1024) * 2 ** (exp - 15);
    }),
    BYTES: () => {
      const out: string[] = [];
      for (let at = 0; at < b.length;) {
        const n = b.readUInt32LE(at);
        out.push(b.subarray(at + 4, at + 4 + n).toString());
        at += 4 + n;
      }
      return out;
    },
  };
  return Array.from(views[datatype]!());
}

function asServed(o: any, data: unknown[]) {
  return { name: o.name, datatype: o.datatype, shape: o.shape.map(Number), data };
}

describe('V2 gRPC', () => {
  let server: TestServer;
  let client: V2GrpcClient;
  const repo = new TempRepository().write('broken/1/model.onnx', 'not a model');
  // Every datatype but FP16 (which has no typed contents field), so a request can be typed end to end.
  const typedRepo = new TempRepository().write('identity/1/model.onnx', identityModel(['BOOL', 'INT8', 'INT16', 'INT32', 'INT64', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'FP32', 'FP64', 'BYTES']));
  before(async () => {
    // The example repository plus the identity model; a 1 MiB message limit.
    for (const name of ['breast_cancer', 'diabetes_forest', 'mlp', 'image_cnn', 'two_inputs', 'text_category', 'datatypes']) typedRepo.copyModel(name, name);
    // Models with features in their config, and one written in TypeScript: the whole folder.
    for (const name of ['churn', 'support_tickets', 'iris_knn']) cpSync(join(EXAMPLES, name), join(typedRepo.root, name), { recursive: true });
    server = await startTestServer({ modelRepository: typedRepo.root, maxBodyBytes: 1024 * 1024 });
    client = new V2GrpcClient(server.grpcAddress);
  });
  after(async () => {
    client.close();
    await server.stop();
    repo.remove();
    typedRepo.remove();
  });

  it('ServerLive, ServerReady and ServerMetadata', async () => {
    assert.deepEqual((await client.call('ServerLive', {})).response, { live: true });
    assert.deepEqual((await client.call('ServerReady', {})).response, { ready: true });
    const meta = (await client.call('ServerMetadata', {})).response;
    assert.equal(meta.name, 'ferry');
    assert.match(meta.version, /^\d+\.\d+\.\d+/);
  });

  it('ModelReady: true when ready, NOT_FOUND for an unknown model or version', async () => {
    assert.deepEqual((await client.call('ModelReady', { name: 'mlp' })).response, { ready: true });
    assert.deepEqual((await client.call('ModelReady', { name: 'mlp', version: '1' })).response, { ready: true });
    const unknown = await client.call('ModelReady', { name: 'nope' });
    assert.equal(unknown.error?.code, grpc.status.NOT_FOUND);
    assert.equal(unknown.error?.details, "Request for unknown model 'nope'");
    const version = await client.call('ModelReady', { name: 'mlp', version: '9' });
    assert.equal(version.error?.code, grpc.status.NOT_FOUND);
    assert.match(version.error!.details, /no version '9'/);
  });

  it('ModelMetadata matches the REST metadata', async () => {
    const { response } = await client.call('ModelMetadata', { name: 'two_inputs' });
    const rest = (await (await fetch(`${server.url}/v2/models/two_inputs`)).json()) as any;
    assert.equal(response.name, rest.name);
    assert.deepEqual(response.versions, rest.versions);
    assert.equal(response.platform, 'onnxruntime_onnx');
    const norm = (ts: any[]) => ts.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape.map(Number) }));
    assert.deepEqual(norm(response.inputs), rest.inputs);
    assert.deepEqual(norm(response.outputs), rest.outputs);
  });

  for (const model of ['breast_cancer', 'diabetes_forest', 'mlp', 'image_cnn', 'two_inputs', 'text_category', 'churn', 'support_tickets', 'iris_knn']) {
    it(`ModelInfer ${model}: typed and raw contents answer as the library did`, async () => {
      const r = ref(model);
      const kase = r.cases[0]!;
      const typed = await client.call('ModelInfer', { model_name: model, id: 'typed-1', inputs: kase.inputs.map(typedInput) });
      assert.equal(typed.error, null, typed.error?.details);
      assert.equal(typed.response.id, 'typed-1');
      assert.equal(typed.response.model_version, '1');
      assert.equal(typed.response.raw_output_contents.length, typed.response.outputs.length, "typed in, raw out (Triton's encoding)");
      for (const want of kase.outputs) {
        const i = typed.response.outputs.findIndex((x: any) => x.name === want.name);
        const o = typed.response.outputs[i];
        assert.equal(o.contents, null);
        assertClose(asServed(o, decodeRaw(o.datatype, typed.response.raw_output_contents[i])), want, r.tolerance, `${model} typed ${want.name}`);
      }
      const raw = await client.call('ModelInfer', {
        model_name: model,
        model_version: '1',
        inputs: kase.inputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape })),
        raw_input_contents: kase.inputs.map(rawBytes),
      });
      assert.equal(raw.error, null, raw.error?.details);
      assert.equal(raw.response.raw_output_contents.length, raw.response.outputs.length, 'raw in, raw out');
      raw.response.outputs.forEach((o: any) => assert.equal(o.contents, null));
      for (const want of kase.outputs) {
        const i = raw.response.outputs.findIndex((o: any) => o.name === want.name);
        assert.ok(i >= 0, `${model} raw: output ${want.name} missing`);
        const o = raw.response.outputs[i];
        assertClose(asServed(o, decodeRaw(o.datatype, raw.response.raw_output_contents[i])), want, r.tolerance, `${model} raw ${o.name}`);
      }
    });
  }

  it('every datatype round-trips raw (FP16 included) and typed (FP16 refused, with the reason)', async () => {
    const kase = ref('datatypes').cases[0]!;
    const raw = await client.call('ModelInfer', {
      model_name: 'datatypes',
      inputs: kase.inputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape })),
      raw_input_contents: kase.inputs.map(rawBytes),
    });
    assert.equal(raw.error, null, raw.error?.details);
    raw.response.outputs.forEach((o: any, i: number) => {
      const want = kase.outputs.find((x) => x.name === o.name)!;
      assertClose(asServed(o, decodeRaw(o.datatype, raw.response.raw_output_contents[i])), want, { rtol: 0, atol: 0 }, o.name);
    });
    const typedInputs = kase.inputs.filter((t) => t.datatype !== 'FP16').map(typedInput);
    const fp16 = kase.inputs.find((t) => t.datatype === 'FP16')!;
    const refused = await client.call('ModelInfer', { model_name: 'datatypes', inputs: [...typedInputs, { name: fp16.name, datatype: 'FP16', shape: fp16.shape }] });
    assert.equal(refused.error?.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(refused.error?.details, "input 'in_fp16': FP16 has no typed contents field; send it in raw_input_contents");
  });

  it("typed contents in give raw contents out (Triton's encoding), for every datatype that has a typed field", async () => {
    const kase = ref('datatypes').cases[0]!;
    const typedInputs = kase.inputs.filter((t) => t.datatype !== 'FP16');
    const { error, response } = await client.call('ModelInfer', { model_name: 'identity', inputs: typedInputs.map(typedInput) });
    assert.equal(error, null, error?.details);
    assert.equal(response.raw_output_contents.length, 12);
    assert.equal(response.outputs.length, 12);
    response.outputs.forEach((o: any, i: number) => {
      assert.equal(o.contents, null);
      const want = kase.outputs.find((x) => x.name === o.name)!;
      assertClose(asServed(o, decodeRaw(o.datatype, response.raw_output_contents[i])), want, { rtol: 0, atol: 0 }, `typed ${o.name}`);
    });
  });

  it('errors map to gRPC codes with the same messages as REST', async () => {
    const input = ref('breast_cancer').cases[0]!.inputs[0]!;
    const row = (values(input) as number[]).slice(0, 30);
    const cases: [object, grpc.status, string | RegExp][] = [
      [{ model_name: 'nope', inputs: [{ name: 'x', datatype: 'FP32', shape: [1], contents: { fp32_contents: [1] } }] }, grpc.status.NOT_FOUND, "Request for unknown model 'nope'"],
      [{ model_name: 'breast_cancer', inputs: [{ name: 'float_input', datatype: 'FP32', shape: [1, 29], contents: { fp32_contents: row.slice(1) } }] }, grpc.status.INVALID_ARGUMENT, "input 'float_input': expected shape [-1,30], got [1,29]"],
      [{ model_name: 'breast_cancer', inputs: [{ name: 'float_input', datatype: 'FP64', shape: [1, 30], contents: { fp64_contents: row } }] }, grpc.status.INVALID_ARGUMENT, "input 'float_input': expected datatype FP32, got FP64"],
      [{ model_name: 'breast_cancer', inputs: [{ name: 'float_input', datatype: 'FP32', shape: [2, 30], contents: { fp32_contents: row } }] }, grpc.status.INVALID_ARGUMENT, "input 'float_input': shape [2,30] holds 60 elements, but the data has 30"],
      [{ model_name: 'breast_cancer', inputs: [{ name: 'float_input', datatype: 'FP32', shape: [1, 30], contents: { fp64_contents: row } }] }, grpc.status.INVALID_ARGUMENT, "input 'float_input': FP32 data goes in contents.fp32_contents, got contents.fp64_contents"],
      [{ model_name: 'breast_cancer', inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 30], contents: { fp32_contents: row } }] }, grpc.status.INVALID_ARGUMENT, /unknown input 'features' for model 'breast_cancer'/],
      [{ model_name: 'breast_cancer', inputs: [{ name: 'float_input', datatype: 'FP32', shape: [1, 30] }], raw_input_contents: [Buffer.alloc(119)] }, grpc.status.INVALID_ARGUMENT, "input 'float_input': FP32 data for 30 elements is 120 bytes, got 119"],
      [{ model_name: 'breast_cancer', inputs: [{ name: 'float_input', datatype: 'FP32', shape: [1, 30], contents: { fp32_contents: row } }], raw_input_contents: [Buffer.alloc(120)] }, grpc.status.INVALID_ARGUMENT, "input 'float_input': give its data in contents or in raw_input_contents, not both"],
      [{ model_name: 'two_inputs', inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 8] }, { name: 'category', datatype: 'INT64', shape: [1] }], raw_input_contents: [Buffer.alloc(32)] }, grpc.status.INVALID_ARGUMENT, 'raw_input_contents has 1 entries but there are 2 inputs (one entry per input, in order)'],
      [{ model_name: 'datatypes', inputs: [{ name: 'in_int8', datatype: 'INT8', shape: [1, 2], contents: { int_contents: [1, 300] } }] }, grpc.status.INVALID_ARGUMENT, "input 'in_int8': element 1 is 300, expected an integer from -128 to 127 for INT8"],
      [{ model_name: 'breast_cancer', inputs: [{ name: 'float_input', datatype: 'FP32', shape: [1, 30], contents: { fp32_contents: row } }], outputs: [{ name: 'nope' }] }, grpc.status.INVALID_ARGUMENT, /unknown output 'nope'/],
      [{ model_name: 'breast_cancer', inputs: [] }, grpc.status.INVALID_ARGUMENT, 'inputs must hold at least one tensor'],
    ];
    for (const [request, code, message] of cases) {
      const { error } = await client.call('ModelInfer', request);
      assert.equal(error?.code, code, `${JSON.stringify(request).slice(0, 120)}: ${error?.details}`);
      if (typeof message === 'string') assert.equal(error?.details, message);
      else assert.match(error!.details, message);
    }
    // The same message over REST, for one of them.
    const rest = await fetch(`${server.url}/v2/models/breast_cancer/infer`, { method: 'POST', body: JSON.stringify({ inputs: [{ name: 'float_input', datatype: 'FP32', shape: [1, 29], data: row.slice(1) }] }) });
    assert.equal(((await rest.json()) as any).error, "input 'float_input': expected shape [-1,30], got [1,29]");
  });

  it('a message over the size limit is RESOURCE_EXHAUSTED, and the server keeps serving', async () => {
    const { error } = await client.call('ModelInfer', {
      model_name: 'image_cnn',
      inputs: [{ name: 'image', datatype: 'FP32', shape: [8, 3, 128, 128] }],
      raw_input_contents: [Buffer.alloc(8 * 3 * 128 * 128 * 4)],
    });
    assert.equal(error?.code, grpc.status.RESOURCE_EXHAUSTED);
    const ok = await client.call('ModelInfer', { model_name: 'mlp', inputs: ref('mlp').cases[0]!.inputs.map(typedInput) });
    assert.equal(ok.error, null);
  });

  it('an unavailable model is UNAVAILABLE with the reason, and ModelReady says false', async () => {
    const other = await startTestServer({ modelRepository: repo.root });
    const c = new V2GrpcClient(other.grpcAddress);
    try {
      const meta = await c.call('ModelMetadata', { name: 'broken' });
      assert.equal(meta.error?.code, grpc.status.UNAVAILABLE);
      assert.match(meta.error!.details, /model 'broken' version 1 is unavailable: failed to load/);
      assert.deepEqual((await c.call('ModelReady', { name: 'broken' })).response, { ready: false });
    } finally {
      c.close();
      await other.stop();
    }
  });

  it('gzip-compressed calls work', async () => {
    const gz = new V2GrpcClient(server.grpcAddress, { 'grpc.default_compression_algorithm': 2 });
    try {
      const { error, response } = await gz.call('ModelInfer', { model_name: 'mlp', inputs: ref('mlp').cases[0]!.inputs.map(typedInput) });
      assert.equal(error, null);
      assert.equal(response.outputs[0].name, 'output');
    } finally {
      gz.close();
    }
  });

  it('reflection lists the V2 and health services (grpcurl needs it)', async () => {
    const services = await reflectionListServices(server.grpcAddress);
    assert.ok(services.includes('inference.GRPCInferenceService'), services.join(', '));
    assert.ok(services.includes('grpc.health.v1.Health'), services.join(', '));
  });

  it('grpc.health.v1 says SERVING once ready, for the server and for the V2 service', async () => {
    for (const service of ['', 'inference.GRPCInferenceService']) {
      const { error, response } = await healthCheck(server.grpcAddress, service);
      assert.equal(error, null);
      assert.equal(response.status, 'SERVING');
    }
  });
});
