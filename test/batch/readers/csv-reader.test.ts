/** The CSV reader's own cases: RFC 4180 quoting, line ends, BOM, delimiters, chunk boundaries, number forms. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openCsvReader, type CsvReaderOptions } from '../../../src/batch/readers/csv-reader.js';
import { FerryError } from '../../../src/errors.js';
import { fromHalfBits } from '../../../src/tensor/fp16.js';
import { byName, readAll, tempDir, type ReadResult } from './fixtures.js';

const dir = tempDir();
let files = 0;
function file(text: string | Uint8Array): string {
  const path = join(dir, `f${files++}.csv`);
  writeFileSync(path, text);
  return path;
}

async function read(text: string | Uint8Array, options: Partial<CsvReaderOptions> = {}): Promise<ReadResult> {
  return readAll(await openCsvReader(file(text), { batchSize: 1000, mapColumns: byName([{ input: 'x', datatype: 'FP64', columns: ['x'] }], 'id'), ...options }));
}

/** Reads with every read size from 1 byte up, so that every field and line end straddles a read somewhere. */
async function everyChunkSize(text: string, options: Partial<CsvReaderOptions>, check: (got: ReadResult, chunkSize: number) => void): Promise<void> {
  for (const chunkSize of [1, 2, 3, 4, 5, 7, 11, 16, 64, 1 << 20]) check(await read(text, { ...options, chunkSize }), chunkSize);
}

describe('CSV reader', () => {
  it('takes RFC 4180 quoting: delimiters, doubled quotes and line ends inside quotes, for ids, text and skipped columns', async () => {
    const text = [
      'id,"skipped, quoted",name,x',
      '"a,1","x,""y""\nz",plain,1.5',
      'b,"",  "spaced quotes" ,2',
      '"c""",q,"line\r\nbreak",-3e2',
      'd,"""",,"4"',
      '',
    ].join('\n');
    const mapColumns = byName([{ input: 'x', datatype: 'FP64', columns: ['x'] }, { input: 's', datatype: 'BYTES', columns: ['name'] }], 'id');
    await everyChunkSize(text, { mapColumns }, (got, chunkSize) => {
      assert.deepEqual(got.rejects, [], `chunk ${chunkSize}`);
      assert.deepEqual(got.ids, ['a,1', 'b', 'c"', 'd'], `chunk ${chunkSize}`);
      assert.deepEqual(got.values[0], [[1.5], [2], [-300], [4]], `chunk ${chunkSize}`);
      assert.deepEqual(got.values[1], [['plain'], ['  "spaced quotes" '], ['line\r\nbreak'], ['']], `chunk ${chunkSize}`);
    });
  });

  it('reads CRLF line ends, a BOM, blank lines and a last line without a line end', async () => {
    const bom = '\uFEFF';
    for (const text of [
      `${bom}id,x\r\nr0,1\r\nr1,2.5\r\n\r\nr2,-3\r\n`,
      `${bom}id,x\nr0,1\n\nr1,2.5\nr2,-3`,
      `id,x\r\nr0,1\r\nr1,2.5\r\nr2,-3`,
      `id,x\nr0,1\nr1,2.5\nr2,-3\n\n\n`,
    ]) {
      await everyChunkSize(text, {}, (got, chunkSize) => {
        const where = `${JSON.stringify(text)}, chunk ${chunkSize}`;
        assert.deepEqual(got.rejects, [], where);
        assert.deepEqual(got.ids, ['r0', 'r1', 'r2'], where);
        assert.deepEqual(got.rowNumbers, [0, 1, 2], where);
        assert.deepEqual(got.values[0], [[1], [2.5], [-3]], where);
        assert.equal(got.batches.at(-1)?.next.byteOffset, Buffer.byteLength(text), where);
      });
    }
    const reader = await openCsvReader(file(`${bom}"i d",x\r\n`), { batchSize: 1, mapColumns: byName([{ input: 'x', datatype: 'FP32', columns: ['x'] }]) });
    assert.deepEqual(reader.header, ['i d', 'x'], 'the BOM is not part of the first name; quotes and CRLF are undone');
    assert.deepEqual((await readAll(reader)).batches, [], 'a header alone: no rows, no batches');
  });

  it('reads numbers in every common form, and gives Number()\'s value for each', async () => {
    const forms = ['0', '-0', '+3', '1e-5', '1E5', '.5', '5.', '-.25', '1.5e+3', '-2.5E-3', '007', '1.0000000000000002',
      '0.30000000000000004', '1.354000000000000092e+01', '123456789012345678901234.5', '1e-320', '1e308', '2e308',
      ' 12 ', '"3.25"', 'nan', 'NaN', 'inf', '-inf', '+Infinity', '-infinity', '4.9406564584124654e-324'];
    const text = `id,x\n${forms.map((f, i) => `r${i},${f}`).join('\n')}\n`;
    await everyChunkSize(text, {}, (got, chunkSize) => {
      assert.deepEqual(got.rejects, [], `chunk ${chunkSize}`);
      const want = forms.map((f) => {
        const t = f.replaceAll('"', '').trim().toLowerCase();
        return [t === 'nan' ? NaN : /^[+-]?inf/.test(t) ? (t.startsWith('-') ? -Infinity : Infinity) : Number(t)];
      });
      assert.deepEqual(got.values[0], want, `chunk ${chunkSize}`);
      assert.ok(Object.is((got.values[0]?.[1] as number[])[0], -0), '-0 keeps its sign');
    });
  });

  it('rejects what is not a number, naming the row\'s column and value', async () => {
    const bad = ['abc', '1.2.3', '1e', '-', '+', '.', '0x10', '1_000', '1,5', '12abc', '--1', 'e5', ''];
    const text = `id,x,y\n${bad.map((b, i) => `r${i},${b.includes(',') ? `"${b}"` : b},0`).join('\n')}\nok,1,0\n`;
    await everyChunkSize(text, {}, (got, chunkSize) => {
      assert.deepEqual(got.ids, ['ok'], `chunk ${chunkSize}`);
      assert.deepEqual(
        got.rejects,
        bad.map((b, row) => ({ row, id: `r${row}`, reason: b === '' ? `column 'x' is empty` : `column 'x': ${JSON.stringify(b)} is not a number` })),
        `chunk ${chunkSize}`,
      );
    });
  });

  it('rejects rows with too few or too many fields, and an id that is empty', async () => {
    const got = await read('id,x,y\nr0,1,2\nr1,1\nr2,1,2,3\n,1,2\nr4,5,6\n', { chunkSize: 3 });
    assert.deepEqual(got.ids, ['r0', 'r4']);
    assert.deepEqual(got.rejects, [
      { row: 1, id: 'r1', reason: '2 fields, the header has 3' },
      { row: 2, id: 'r2', reason: '4 fields, the header has 3' },
      { row: 3, id: '', reason: "column 'id' (the id) is empty" },
    ]);
  });

  it('takes another one-byte delimiter: tab, semicolon', async () => {
    for (const delimiter of ['\t', ';']) {
      const got = await read(`id${delimiter}x${delimiter}note\nr0${delimiter}1,5${delimiter}a,b\n`.replace('1,5', '"1.5"'), { delimiter, chunkSize: 2 });
      assert.deepEqual(got.values[0], [[1.5]]);
    }
    await assert.rejects(read('id,x\n', { delimiter: '"' }), /delimiter "\\"" must be one ASCII character/);
    await assert.rejects(read('id,x\n', { delimiter: '::' }), /delimiter/);
  });

  it('fills FP32, FP16, INT64 and BOOL inputs, and a column used twice', async () => {
    const text = 'id,a,b,flag\nr0,1.5,-2,true\nr1,0.1,3,FALSE\nr2,2.5,4,1\nr3,1,1,yes\n';
    const got = await read(text, {
      mapColumns: byName([
        { input: 'f32', datatype: 'FP32', columns: ['a', 'b', 'a'] },
        { input: 'f16', datatype: 'FP16', columns: ['a'] },
        { input: 'i64', datatype: 'INT64', columns: ['b', 'b'] },
        { input: 'flag', datatype: 'BOOL', columns: ['flag'] },
      ], 'id'),
    });
    assert.deepEqual(got.values[0], [[1.5, -2, 1.5], [Math.fround(0.1), 3, Math.fround(0.1)], [2.5, 4, 2.5]]);
    assert.deepEqual(got.values[1]?.map((r) => r.map((h) => fromHalfBits(h as number))), [[1.5], [0.0999755859375], [2.5]]);
    assert.deepEqual(got.values[2], [[-2, -2], [3, 3], [4, 4]]);
    assert.deepEqual(got.values[3], [[1], [0], [1]]);
    assert.deepEqual(got.rejects, [{ row: 3, id: 'r3', reason: `column 'flag': "yes" is not a boolean (true, false, 1 or 0)` }]);
    await assert.rejects(
      read(text, { mapColumns: byName([{ input: 'a', datatype: 'FP32', columns: ['flag'] }, { input: 'b', datatype: 'BOOL', columns: ['flag'] }]) }),
      /column 'flag' feeds both a BOOL input and a numeric one/,
    );
  });

  it('resumes at every row boundary, with reads of a few bytes', async () => {
    const text = 'id,x,q\n' + Array.from({ length: 12 }, (_, i) => `r${i},${i / 4},"${'"",\n'.repeat(i % 3)}"\n`).join('');
    const one = await read(text, { batchSize: 1, chunkSize: 4 });
    assert.deepEqual(one.rowNumbers, Array.from({ length: 12 }, (_, i) => i));
    for (const b of one.batches) {
      const rest = await read(text, { startAt: b.next, chunkSize: 3 });
      assert.deepEqual(rest.ids, one.ids.slice(b.next.rowNumber));
      assert.deepEqual(rest.values[0] ?? [], one.values[0]?.slice(b.next.rowNumber));
    }
  });

  it('rejects a quote that is never closed, and refuses a row longer than maxRowBytes', async () => {
    const got = await read('id,x\nr0,1\nr1,"2\nr2,3\n');
    assert.deepEqual(got.ids, ['r0']);
    assert.deepEqual(got.rejects, [{ row: 1, id: 'r1', reason: "column 'x': a quote opened here is never closed" }]);
    await assert.rejects(read(`id,x\nr0,"${'y'.repeat(100)}\n`, { chunkSize: 8, maxRowBytes: 50 }), /the row at byte 5 is longer than 50 bytes/);
  });

  it('needs a header', async () => {
    await assert.rejects(read(''), /is empty: a CSV file starts with a header/);
    await assert.rejects(read('\nr0,1\n'), /the first line \(the header\) is empty/);
  });

  it('in a worker thread: the same errors come back, and stopping early ends the thread', async () => {
    await assert.rejects(
      read(`id,x\nr0,"${'y'.repeat(100)}\n`, { thread: 'worker', chunkSize: 8, maxRowBytes: 50 }),
      (e: unknown) => e instanceof FerryError && e.code === 'INVALID_ARGUMENT' && /longer than 50 bytes/.test(e.message),
    );
    const text = 'id,x\n' + Array.from({ length: 50 }, (_, i) => `r${i},${i}\n`).join('');
    const reader = await openCsvReader(file(text), { batchSize: 2, thread: 'worker', chunkSize: 8, mapColumns: byName([{ input: 'x', datatype: 'FP32', columns: ['x'] }], 'id') });
    const seen: string[] = [];
    for await (const b of reader.batches()) {
      seen.push(...b.ids);
      if (seen.length >= 6) break;
    }
    await reader.close();
    assert.deepEqual(seen, ['r0', 'r1', 'r2', 'r3', 'r4', 'r5']);
  });

  it('counts rows skipped for other shards in consumed, and never parses them', async () => {
    const text = 'id,x\nr0,1\nr1,oops\nr2,3\nr3,"a\nb"\nr4,5\n';
    const got = await read(text, { shard: { index: 0, count: 2 }, chunkSize: 2 });
    assert.deepEqual(got.ids, ['r0', 'r2', 'r4']);
    assert.deepEqual(got.rejects, []);
    assert.equal(got.consumed, 5);
  });
});
