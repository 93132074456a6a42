import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AggregatorRegistry, Counter, Histogram, Registry } from 'prom-client';
import { FastCounter, FastHistogram } from '../../src/observe/fast-metrics.js';
import { Metrics } from '../../src/observe/metrics.js';

const BUCKETS = [0.001, 0.01, 0.1, 1];
const OBSERVED = [0.0005, 0.001, 0.002, 0.01, 0.05, 0.5, 1, 3, 0, 0.1];

describe('fast metrics', () => {
  it('write the same Prometheus text as prom-client for the same observations', async () => {
    const theirs = new Registry();
    const ours = new Registry();
    const h = new Histogram({ name: 'x_seconds', help: 'help text', labelNames: ['model', 'version'], buckets: BUCKETS, registers: [theirs] });
    const c = new Counter({ name: 'x_total', help: 'count', labelNames: ['model', 'version', 'outcome'], registers: [theirs] });
    const fh = new FastHistogram({ name: 'x_seconds', help: 'help text', buckets: BUCKETS, registers: [ours] });
    const fc = new FastCounter({ name: 'x_total', help: 'count', registers: [ours] });
    for (const [model, version] of [['a', '1'], ['b', '2']] as const) {
      const cell = fh.labels({ model, version });
      const ok = fc.labels({ model, version, outcome: 'success' });
      for (const v of OBSERVED) {
        h.labels({ model, version }).observe(v);
        cell.observe(v);
        c.labels({ model, version, outcome: 'success' }).inc();
        ok.value++;
      }
    }
    assert.equal(await ours.metrics(), await theirs.metrics());
  });

  it('count a value equal to a bound in that bucket, and one above every bound only in +Inf', async () => {
    const r = new Registry();
    const cell = new FastHistogram({ name: 'y', help: 'h', buckets: [1, 2], registers: [r] }).labels({ m: 'x' });
    cell.observe(1);
    cell.observe(5);
    const text = await r.metrics();
    assert.match(text, /^y_bucket\{le="1",m="x"\} 1$/m);
    assert.match(text, /^y_bucket\{le="2",m="x"\} 1$/m);
    assert.match(text, /^y_bucket\{le="\+Inf",m="x"\} 2$/m);
    assert.match(text, /^y_sum\{m="x"\} 6$/m);
    assert.match(text, /^y_count\{m="x"\} 2$/m);
  });

  it('show a model version from its load on, at zero, before any request', async () => {
    const metrics = new Metrics();
    metrics.forVersion('idle', 4);
    const text = await metrics.registry.metrics();
    assert.match(text, /^ferry_requests_total\{model="idle",version="4",outcome="success"\} 0$/m);
    assert.match(text, /^ferry_request_duration_seconds_count\{model="idle",version="4"\} 0$/m);
    assert.match(text, /^ferry_batch_size_bucket\{le="\+Inf",model="idle",version="4"\} 0$/m);
  });

  it('keep counting when a version is bound again (reloaded), and aggregate across processes by sum', async () => {
    const one = new Metrics();
    const two = new Metrics();
    one.forVersion('m', 1).requestDone(2);
    one.forVersion('m', 1).requestDone(4);
    two.forVersion('m', 1).requestDone(8, 'DEADLINE_EXCEEDED');
    two.forVersion('m', 1).ran(3, 1);
    const total = AggregatorRegistry.aggregate([await one.registry.getMetricsAsJSON(), await two.registry.getMetricsAsJSON()]);
    const text = await total.metrics();
    assert.match(text, /^ferry_requests_total\{model="m",version="1",outcome="success"\} 2$/m);
    assert.match(text, /^ferry_requests_total\{model="m",version="1",outcome="timeout"\} 1$/m);
    assert.match(text, /^ferry_request_duration_seconds_count\{model="m",version="1"\} 3$/m);
    assert.match(text, /^ferry_request_duration_seconds_sum\{model="m",version="1"\} 0\.014$/m);
    assert.match(text, /^ferry_batch_size_bucket\{le="4",model="m",version="1"\} 1$/m);
  });
});
