/** The JSON Lines reader's own cases: arrays that fill inputs, key order, malformed lines, wrong types. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openJsonlReader, type JsonlReaderOptions } from '../../../src/batch/readers/jsonl-reader.js';
import { byName, readAll, tempDir, type ReadResult } from './fixtures.js';

const dir = tempDir();
let files = 0;
async function read(text: string, options: Partial<JsonlReaderOptions> = {}): Promise<ReadResult> {
  const path = join(dir, `f${files++}.jsonl`);
  writeFileSync(path, text);
  return readAll(await openJsonlReader(path, { batchSize: 100, mapColumns: byName([{ input: 'x', datatype: 'FP32', columns: ['x'] }], 'id'), ...options }));
}
const lines = (...objects: unknown[]) => objects.map((o) => (typeof o === 'string' ? o : JSON.stringify(o))).join('\n') + '\n';

describe('JSON Lines reader', () => {
  it('fills a whole input from a column holding an array, nested arrays flattened', async () => {
    const text = lines(
      { id: 'a', features: [1, 2, 3, 4], extra: 0 },
      { id: 'b', features: [[5, 6], [7, 8]] },
      { id: 'c', features: [1, 2, 3] },
      { id: 'd', features: [1, 2, 3, 4, 5] },
      { id: 'e', features: [1, 'x', 3, 4] },
    );
    const mapColumns = byName([{ input: 'x', datatype: 'FP32', columns: ['features'], rowShape: [2, 2] }], 'id');
    const got = await read(text, { mapColumns });
    assert.deepEqual(got.ids, ['a', 'b']);
    assert.deepEqual(got.values[0], [[1, 2, 3, 4], [5, 6, 7, 8]]);
    assert.deepEqual(got.batches[0]?.inputs[0]?.shape, [2, 2, 2]);
    assert.deepEqual(got.rejects, [
      { row: 2, id: 'c', reason: "input 'x' takes 4 values a row, column 'features' holds 3" },
      { row: 3, id: 'd', reason: "input 'x' takes 4 values a row, column 'features' holds more" },
      { row: 4, id: 'e', reason: `column 'features[1]': "x" is not a number` },
    ]);
  });

  it('mixes scalar and array columns in one input', async () => {
    const mapColumns = byName([{ input: 'x', datatype: 'FP64', columns: ['a', 'rest'], rowShape: [3] }]);
    const got = await read(lines({ a: 1, rest: [2, 3] }, { rest: [5, 6], a: 4 }), { mapColumns });
    assert.deepEqual(got.values[0], [[1, 2, 3], [4, 5, 6]]);
  });

  it('takes the header from the first object and looks values up by name in every row', async () => {
    const text = lines({ id: 'a', x: 1, y: 'u' }, { y: 'v', x: 2, id: 'b' }, { id: 'c', y: 'w' });
    const path = join(dir, 'order.jsonl');
    writeFileSync(path, text);
    const reader = await openJsonlReader(path, { batchSize: 10, mapColumns: byName([{ input: 'x', datatype: 'FP32', columns: ['x'] }], 'id') });
    assert.deepEqual(reader.header, ['id', 'x', 'y']);
    const got = await readAll(reader);
    assert.deepEqual(got.values[0], [[1], [2]]);
    assert.deepEqual(got.rejects, [{ row: 2, id: 'c', reason: "column 'x' is missing" }]);
  });

  it('rejects malformed lines, lines that are not objects, and values of the wrong type', async () => {
    const text = lines(
      { id: 'a', x: 1 },
      '{"id": "b", "x": ',
      '[1, 2]',
      '42',
      { id: 'e', x: null },
      { id: 'f', x: true },
      { id: 'g', x: { v: 1 } },
      { id: 'h', x: '2.5' },
      { id: 'i', x: 'NaN' },
      { x: 3 },
      { id: 7, x: 4 },
    );
    const got = await read(text);
    assert.deepEqual(got.ids, ['a', 'h', 'i', '7']);
    assert.deepEqual(got.values[0], [[1], [2.5], [NaN], [4]]);
    const reasons = got.rejects.map((r) => `${r.row}: ${r.reason}`);
    assert.match(reasons[0] ?? '', /^1: not valid JSON \(/);
    assert.deepEqual(reasons.slice(1), [
      '2: not a JSON object but an array',
      '3: not a JSON object but "42"',
      "4: column 'x' is null",
      "5: column 'x': true is not a number",
      `6: column 'x': {"v":1} is not a number`,
      "9: column 'id' (the id) is missing",
    ]);
  });

  it('reads BOOL, BYTES and integer inputs from JSON values', async () => {
    const mapColumns = byName([
      { input: 'b', datatype: 'BOOL', columns: ['b'] },
      { input: 's', datatype: 'BYTES', columns: ['s'] },
      { input: 'n', datatype: 'INT32', columns: ['n'] },
    ]);
    const got = await read(lines({ b: true, s: 'x', n: 3 }, { b: 0, s: 5, n: '4' }, { b: 'false', s: 'z', n: 2.5 }, { b: 'no', s: 'w', n: 1 }), { mapColumns });
    assert.deepEqual(got.values, [[[1], [0]], [['x'], ['5']], [[3], [4]]]);
    assert.deepEqual(got.rejects.map((r) => r.reason), [`column 'n': "2.5" is not an integer`, `column 'b': "no" is not a boolean (true, false, 1 or 0)`]);
  });

  it('skips blank lines, takes CRLF, a BOM and a last line without a line end', async () => {
    const text = '\uFEFF{"id":"a","x":1}\r\n\r\n  \n{"id":"b","x":2}\r\n{"id":"c","x":3}';
    for (const chunkSize of [1, 3, 7, 1 << 20]) {
      const got = await read(text, { chunkSize });
      assert.deepEqual(got.ids, ['a', 'b', 'c']);
      assert.deepEqual(got.rowNumbers, [0, 1, 2]);
      assert.equal(got.batches.at(-1)?.next.byteOffset, Buffer.byteLength(text));
    }
  });

  it('needs a first line that is a JSON object', async () => {
    await assert.rejects(read(''), /is empty/);
    await assert.rejects(read('[1,2]\n'), /the first line is not a JSON object/);
    await assert.rejects(read('{"x": \n'), /the first line is not JSON/);
  });
});
