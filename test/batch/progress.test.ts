import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { elapsed, progressLine } from '../../src/batch/progress.js';

const counts = { consumed: 500, scored: 490, rejected: 10 };

describe('progress line', () => {
  it('a file: the fraction and ETA from bytes', () => {
    const line = progressLine({ counts, inputBytes: 250, inputSize: 1000, elapsedMs: 1000 }, 0, 0);
    assert.match(line, /^\[######\.+\] 25\.0%  500 rows  500 rows\/s  ETA 0:03  rejected 10$/);
  });

  it('Parquet: no bytes, but a row count: the fraction and ETA from rows', () => {
    const line = progressLine({ counts, inputBytes: 0, inputSize: 0, inputRows: 2000, elapsedMs: 1000 }, 0, 0);
    assert.match(line, /^\[######\.+\] 25\.0%  500 rows  500 rows\/s  ETA 0:03  rejected 10$/);
  });

  it('a PostgreSQL query: no total, so no bar and no ETA', () => {
    assert.equal(progressLine({ counts, inputBytes: 0, inputSize: 0, elapsedMs: 2000 }, 0, 100), '500 rows  200 rows/s  rejected 10');
  });
});

describe('summary time', () => {
  it('says a short job in milliseconds, not "0.0 s", and a long one in minutes', () => {
    assert.equal(elapsed(0.0421), '42 ms');
    assert.equal(elapsed(0.0001), '1 ms');
    assert.equal(elapsed(3.14159), '3.1 s');
    assert.equal(elapsed(754), '12 min 34 s');
  });
});
