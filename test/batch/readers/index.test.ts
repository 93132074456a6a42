import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatFromPath, openReader } from '../../../src/batch/readers/index.js';
import { byName, readAll, tempDir } from './fixtures.js';

describe('reader by format', () => {
  it('tells the format (and a TSV delimiter) from the extension', () => {
    assert.deepEqual(formatFromPath('/data/in.csv'), { format: 'csv' });
    assert.deepEqual(formatFromPath('in.TSV'), { format: 'csv', delimiter: '\t' });
    assert.deepEqual(formatFromPath('a.b/in.jsonl'), { format: 'jsonl' });
    assert.deepEqual(formatFromPath('in.ndjson'), { format: 'jsonl' });
    assert.deepEqual(formatFromPath('in.Parquet'), { format: 'parquet' });
    assert.deepEqual(formatFromPath('postgresql://u@db:5432/shop'), { format: 'postgres' });
    assert.deepEqual(formatFromPath('postgres://u@db/shop'), { format: 'postgres' });
    assert.throws(() => formatFromPath('in.xlsx'), /cannot tell the format of in.xlsx from its extension \(.xlsx\)/);
    assert.throws(() => formatFromPath('data'), /\(none\)/);
  });

  it('opens the reader the format names', async () => {
    const dir = tempDir();
    const tsv = join(dir, 'a.tsv');
    writeFileSync(tsv, 'id\tx\nr0\t1.5\n');
    const { format, delimiter } = formatFromPath(tsv);
    const got = await readAll(await openReader(tsv, format, { batchSize: 8, delimiter, mapColumns: byName([{ input: 'x', datatype: 'FP32', columns: ['x'] }], 'id') }));
    assert.deepEqual(got.values[0], [[1.5]]);
    await assert.rejects(openReader(tsv, 'orc' as 'csv', { batchSize: 1, mapColumns: () => ({ mappings: [], idColumn: undefined }) }), /unknown source format/);
  });
});
