/** Random inputs from model metadata: shapes from --batch/--shape, values valid for typical models, clear errors. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BYTES_VOCABULARY, randomRequest } from '../../src/bench/random-inputs.js';
import { resolveOptions } from '../../src/bench/options.js';
import type { ModelMetadata } from '../../src/client/index.js';

const model = (inputs: ModelMetadata['inputs']): ModelMetadata => ({ name: 'm', versions: ['1'], platform: 'onnxruntime_onnx', inputs, outputs: [] });

describe('random inputs', () => {
  it('fills the free first dimension with --batch, in every datatype, with values a model accepts', () => {
    const types = ['BOOL', 'INT8', 'INT16', 'INT32', 'INT64', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'FP16', 'FP32', 'FP64', 'BYTES'];
    const { request, rows } = randomRequest(model(types.map((t) => ({ name: t, datatype: t, shape: [-1, 50] }))), { batch: 4, shapes: {} });
    assert.equal(rows, 4);
    for (const t of request.inputs) {
      assert.deepEqual(t.shape, [4, 50]);
      assert.equal(t.data.length, 200);
      const values = Array.from(t.data as ArrayLike<number | bigint | string>);
      if (t.datatype === 'BYTES') assert.ok(values.every((v) => BYTES_VOCABULARY.includes(v as string)));
      else if (t.datatype === 'BOOL') assert.ok(values.every((v) => v === 0 || v === 1));
      else if (t.datatype === 'FP16') assert.ok(values.every((v) => (v as number) < 0x3c00), 'half bits below 1.0');
      else if (t.datatype.startsWith('FP')) assert.ok(values.every((v) => (v as number) >= 0 && (v as number) < 1));
      else assert.ok(values.every((v) => Number(v) >= 0 && Number(v) <= 4), `${t.datatype}: small non-negative integers`);
    }
  });

  it('--shape gives whole shapes; other free dimensions without it are an error that says what to type', () => {
    const image = model([{ name: 'image', datatype: 'FP32', shape: [-1, 3, -1, -1] }]);
    assert.throws(() => randomRequest(image, { batch: 2, shapes: {} }), /input 'image' \(shape \[-1,3,-1,-1\]\): dimension 2 can be any size; give the whole shape with --shape image=2,3,N,N/);
    const { request, rows } = randomRequest(image, { batch: 1, shapes: { image: [2, 3, 8, 8] } });
    assert.deepEqual(request.inputs[0]!.shape, [2, 3, 8, 8]);
    assert.equal(rows, 2);
    assert.throws(() => randomRequest(image, { batch: 1, shapes: { image: [2, 4, 8, 8] } }), /does not fit input 'image'/);
    assert.throws(() => randomRequest(image, { batch: 1, shapes: { picture: [1] } }), /model 'm' has no input 'picture' \(its inputs: 'image'\)/);
  });

  it('--batch cannot change a fixed first dimension', () => {
    const fixed = model([{ name: 'x', datatype: 'FP32', shape: [1, 30] }]);
    assert.equal(randomRequest(fixed, { batch: 1, shapes: {} }).rows, 1);
    assert.throws(() => randomRequest(fixed, { batch: 8, shapes: {} }), /--batch 8 cannot apply to input 'x' \(shape \[1,30\]\): its first dimension is fixed at 1/);
  });
});

describe('bench options', () => {
  it('defaults, and encodings checked against the protocol', () => {
    const o = resolveOptions({ model: 'mlp' });
    assert.equal(o.url.href, 'http://127.0.0.1:8080/');
    assert.equal(o.grpcAddress, '127.0.0.1:8081');
    assert.equal(o.encoding, 'json');
    assert.deepEqual(o.concurrency, [1]);
    assert.equal(o.metricsUrl, 'http://127.0.0.1:8080/metrics');
    assert.equal(resolveOptions({ model: 'mlp', protocol: 'grpc' }).encoding, 'raw');
    assert.throws(() => resolveOptions({ model: 'mlp', protocol: 'grpc', encoding: 'json' }), /--encoding json is not for GRPC: use raw or typed/);
    assert.throws(() => resolveOptions({ model: 'mlp', encoding: 'typed' }), /--encoding typed is not for HTTP/);
  });

  it('rate mode: concurrency is one in-flight limit; --input excludes --batch and --shape', () => {
    assert.deepEqual(resolveOptions({ model: 'mlp', rate: [100] }).concurrency, [256]);
    assert.throws(() => resolveOptions({ model: 'mlp', rate: [100], concurrency: [1, 2] }), /takes one value/);
    assert.throws(() => resolveOptions({ model: 'mlp', inputFile: 'x.json', batch: 2 }), /with --input the file gives the shapes/);
    assert.throws(() => resolveOptions({ model: 'mlp', url: 'ftp://x' }), /--url: 'ftp:\/\/x' is not an http/);
    assert.equal(resolveOptions({ model: 'mlp', metricsUrl: false }).metricsUrl, undefined);
  });
});
