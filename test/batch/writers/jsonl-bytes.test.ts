/**
 * The JSON Lines writer spells rows straight into bytes (rowsEncoder); its text must be byte for byte the UTF-8
 * of the string formatter's (rowsFormatter), whatever the ids, values and names hold, at any buffer size.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { ByteSink } from '../../../src/batch/writers/byte-sink.js';
import { JSONL_FORMAT } from '../../../src/batch/writers/jsonl-writer.js';
import { checkBatch, makeLayout } from '../../../src/batch/writers/layout.js';
import { cellFormatter } from '../../../src/batch/writers/text-cells.js';
import { toHalfBits } from '../../../src/tensor/fp16.js';
import type { ScoredBatch, WriterOptions } from '../../../src/batch/types.js';

const OPTIONS: WriterOptions = {
  model: 'modèle "q"',
  modelVersion: '1',
  outputs: [
    { name: 'label', datatype: 'INT64', shape: [-1] },
    { name: 'probabilities', datatype: 'FP32', shape: [-1, 2] },
    { name: 'text', datatype: 'BYTES', shape: [-1] },
    { name: 'half', datatype: 'FP16', shape: [-1, 1] },
    { name: 'flags', datatype: 'BOOL', shape: [-1, 2] },
    { name: 'x64', datatype: 'FP64', shape: [-1] },
    { name: 'u8', datatype: 'UINT8', shape: [-1, -1] },
    { name: 'ünï"code', datatype: 'INT32', shape: [-1] },
  ],
};

const IDS = ['plain', 'b,"c"', 'back\\slash', 'tab\there', 'ctrl\u0001', 'é', '日本', 'emoji 😀', 'lone \ud800 surrogate', '', '12345'];
const N = IDS.length;

function batch(): ScoredBatch {
  const floats = [0.25, 0.75, NaN, -Infinity, Infinity, 1e-45, 3.4028234663852886e38, -0, 0.1, 1 / 3];
  return {
    ids: IDS,
    rowNumbers: IDS.map((_, i) => i),
    outputs: [
      { name: 'label', datatype: 'INT64', shape: [N], data: BigInt64Array.from(IDS, (_, i) => (i % 2 ? -(2n ** 63n) : 9007199254740993n + BigInt(i))) },
      { name: 'probabilities', datatype: 'FP32', shape: [N, 2], data: Float32Array.from({ length: 2 * N }, (_, i) => floats[i % floats.length] as number) },
      { name: 'text', datatype: 'BYTES', shape: [N], data: IDS.map((s) => `${s} "x"\n`) },
      { name: 'half', datatype: 'FP16', shape: [N, 1], data: Uint16Array.from(IDS, (_, i) => toHalfBits([1.5, Infinity, NaN, -2][i % 4] as number)) },
      { name: 'flags', datatype: 'BOOL', shape: [N, 2], data: Uint8Array.from({ length: 2 * N }, (_, i) => i % 3 === 0 ? 1 : 0) },
      { name: 'x64', datatype: 'FP64', shape: [N], data: Float64Array.from(IDS, (_, i) => [Math.PI, NaN, 1e300, -0.5][i % 4] as number) },
      { name: 'u8', datatype: 'UINT8', shape: [N, 0], data: new Uint8Array(0) },
      { name: 'ünï"code', datatype: 'INT32', shape: [N], data: Int32Array.from(IDS, (_, i) => -i) },
    ],
  };
}

describe('JSON Lines bytes', () => {
  it('rowsEncoder writes exactly the UTF-8 of rowsFormatter, for any stretch and any starting buffer size', () => {
    const layout = makeLayout(OPTIONS);
    const b = batch();
    const outs = checkBatch(layout, b);
    const spell = JSONL_FORMAT.rowsFormatter(layout, OPTIONS);
    const encode = JSONL_FORMAT.rowsEncoder!(layout, OPTIONS);
    const cells = outs.map((o) => cellFormatter(o, 'json'));
    for (const capacity of [1, 7, 64, 1 << 16]) {
      for (const [start, end] of [[0, N], [0, 1], [3, 9], [N - 1, N], [2, 2]] as const) {
        const sink = new ByteSink(capacity);
        encode(b.ids, outs, start, end, sink);
        const got = sink.take();
        const want = Buffer.from(spell(b.ids, cells, start, end), 'utf8');
        assert.equal(got.toString('utf8'), want.toString('utf8'), `rows ${start}..${end}, capacity ${capacity}`);
        assert.ok(got.equals(want), `bytes of rows ${start}..${end}, capacity ${capacity}`);
      }
    }
    // And every line is strict JSON with the ids intact.
    const sink = new ByteSink(16);
    encode(b.ids, outs, 0, N, sink);
    const lines = sink.take().toString('utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => l.id), IDS.map((s) => JSON.parse(JSON.stringify(s))));
  });

  it('take() hands over a view and starts afresh: what was taken is not overwritten', () => {
    const sink = new ByteSink(8);
    sink.text('first');
    const a = sink.take();
    sink.text('second');
    const b = sink.take();
    assert.equal(a.toString(), 'first');
    assert.equal(b.toString(), 'second');
  });
});
