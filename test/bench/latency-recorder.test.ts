/** Exact nearest-rank percentiles, across the recorder's growth. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LatencyRecorder, percentile } from '../../src/bench/latency-recorder.js';

describe('LatencyRecorder', () => {
  it('gives exact nearest-rank percentiles, whatever the order recorded, after growing past its capacity', () => {
    const r = new LatencyRecorder(4);
    const values = Array.from({ length: 1000 }, (_, i) => i + 1).sort(() => Math.random() - 0.5);
    for (const v of values) r.record(v);
    assert.equal(r.count, 1000);
    assert.deepEqual(r.summary(), { min: 1, mean: 500.5, p50: 500, p90: 900, p95: 950, p99: 990, max: 1000 });
  });

  it('nothing recorded: no summary; one value: every percentile is that value', () => {
    assert.equal(new LatencyRecorder().summary(), undefined);
    const one = new LatencyRecorder();
    one.record(2.5);
    assert.deepEqual(one.summary(), { min: 2.5, mean: 2.5, p50: 2.5, p90: 2.5, p95: 2.5, p99: 2.5, max: 2.5 });
  });

  it('percentile picks the smallest value with p% at or below it', () => {
    const sorted = new Float64Array([1, 2, 3, 4]);
    assert.equal(percentile(sorted, 50), 2);
    assert.equal(percentile(sorted, 51), 3);
    assert.equal(percentile(sorted, 100), 4);
    assert.equal(percentile(sorted, 0), 1);
  });
});
