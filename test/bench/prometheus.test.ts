/**
 * The Prometheus reader behind the bench's batch-size column, on fixture scrapes: samples and labels, one
 * model's histogram summed over its versions, the delta between two scrapes, and its mean and median.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { findHistogram, histogramDelta, histogramMean, histogramQuantile, parsePrometheusText } from '../../src/bench/prometheus.js';
import { summarizeBatchSizes } from '../../src/bench/metrics-scrape.js';

const fixture = (name: string) => parsePrometheusText(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
const before = fixture('metrics-before.txt');
const after = fixture('metrics-after.txt');

describe('Prometheus text and histograms', () => {
  it('reads samples: labels (escaped quotes, commas), +Inf, timestamps; skips comments and blank lines', () => {
    const odd = before.find((s) => s.name === 'ferry_requests_total' && s.labels.model !== 'mlp');
    assert.deepEqual(odd, { name: 'ferry_requests_total', labels: { model: 'odd "name", with, commas', version: '1', outcome: 'success' }, value: 2 });
    assert.equal(before.find((s) => s.name === 'process_cpu_user_seconds_total')?.value, 1.25);
    assert.equal(before.filter((s) => s.labels.le === '+Inf').length, 3);
    assert.ok(before.every((s) => !s.name.startsWith('#')));
  });

  it("finds one model's histogram, its versions summed, another model with a longer name left out", () => {
    const h = findHistogram(before, 'ferry_batch_size', { model: 'mlp' })!;
    assert.equal(h.count, 13);
    assert.equal(h.sum, 19);
    assert.deepEqual(h.buckets.map((b) => b.le), [1, 2, 4, 8, 16, 32, Infinity]);
    assert.deepEqual(h.buckets.map((b) => b.count), [11, 11, 13, 13, 13, 13, 13]);
    assert.equal(findHistogram(before, 'ferry_batch_size', { model: 'mlp', version: '2' })!.count, 1);
    assert.equal(findHistogram(before, 'ferry_batch_size', { model: 'resnet' }), undefined);
    assert.equal(findHistogram(before, 'ferry_no_such_metric', { model: 'mlp' }), undefined);
  });

  it('takes the delta of two scrapes and its mean and approximate median', () => {
    const delta = histogramDelta(findHistogram(before, 'ferry_batch_size', { model: 'mlp' }), findHistogram(after, 'ferry_batch_size', { model: 'mlp' })!);
    // Between the scrapes: 10 runs of 1 row, 10 runs in (8, 16], 40 runs in (16, 32]; 1380 rows in 60 runs.
    assert.equal(delta.count, 60);
    assert.equal(delta.sum, 1380);
    assert.deepEqual(delta.buckets.map((b) => b.count), [10, 10, 10, 10, 20, 60, 60]);
    assert.equal(histogramMean(delta), 23);
    // The 30th of 60 runs is the 10th of the 40 in (16, 32]: a quarter of the way through that bucket.
    assert.equal(histogramQuantile(delta, 0.5), 16 + 16 * (10 / 40));
    assert.equal(histogramQuantile(delta, 0.5, { integers: true }), 17 + 15 * (10 / 40));
    assert.deepEqual(summarizeBatchSizes(findHistogram(before, 'ferry_batch_size', { model: 'mlp' }), findHistogram(after, 'ferry_batch_size', { model: 'mlp' })), {
      runs: 60, mean: 23, p50: 17 + 15 * (10 / 40),
    });
  });

  it('batch sizes of one row read as 1, not the 0.5 plain interpolation in (0, 1] would give', () => {
    const ones = { buckets: [{ le: 1, count: 8 }, { le: 2, count: 8 }, { le: Infinity, count: 8 }], sum: 8, count: 8 };
    assert.equal(histogramQuantile(ones, 0.5), 0.5);
    assert.equal(histogramQuantile(ones, 0.5, { integers: true }), 1);
  });

  it('a median in the +Inf bucket is the highest finite bound; nothing observed gives undefined', () => {
    const h = { buckets: [{ le: 1, count: 1 }, { le: 4, count: 1 }, { le: Infinity, count: 9 }], sum: 100, count: 9 };
    assert.equal(histogramQuantile(h, 0.5), 4);
    const empty = { buckets: [{ le: 1, count: 0 }, { le: Infinity, count: 0 }], sum: 0, count: 0 };
    assert.equal(histogramQuantile(empty, 0.5), undefined);
    assert.equal(histogramMean(empty), undefined);
    assert.equal(summarizeBatchSizes(undefined, undefined), undefined, 'no histogram: n/a');
    assert.equal(summarizeBatchSizes(findHistogram(after, 'ferry_batch_size', { model: 'mlp', version: '2' }), findHistogram(after, 'ferry_batch_size', { model: 'mlp', version: '2' })), undefined, 'no runs in the level');
  });

  it('a series that appears between the scrapes counts from zero', () => {
    const h = findHistogram(after, 'ferry_batch_size', { model: 'mlp_other' })!;
    assert.equal(histogramDelta(undefined, h).count, 900);
  });
});
