/** TrafficSplit's choice: weights, stickiness, and the minimal movement of keys when weights change. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TrafficSplit } from '../../src/registry/traffic-split.js';

const three = (a: number, b: number, c: number) => new TrafficSplit({ variants: [{ version: 1, weight: a }, { version: 2, weight: b }, { model: 'x', weight: c }], sticky: { parameter: 'user' } });
const keys = Array.from({ length: 20_000 }, (_, i) => `customer-${i}`);

describe('TrafficSplit', () => {
  it('gives each key its variant in proportion to the weights, the same every time', () => {
    const split = three(70, 20, 10);
    const counts: Record<string, number> = {};
    for (const k of keys) {
      const v = split.choose(k).name;
      assert.equal(split.choose(k).name, v);
      counts[v] = (counts[v] ?? 0) + 1;
    }
    for (const [name, p] of [['v1', 0.7], ['v2', 0.2], ['x', 0.1]] as const) {
      const sd = Math.sqrt(keys.length * p * (1 - p));
      assert.ok(Math.abs(counts[name]! - keys.length * p) < 4.5 * sd, `${name}: ${counts[name]}`);
    }
  });

  it('moves only the keys that must when a weight changes: exactly those, with two variants', () => {
    const moves = (a: TrafficSplit, b: TrafficSplit) => {
      const flows: Record<string, number> = {};
      for (const k of keys) {
        const from = a.choose(k).name;
        const to = b.choose(k).name;
        if (from !== to) flows[`${from}->${to}`] = (flows[`${from}->${to}`] ?? 0) + 1;
      }
      return flows;
    };
    const canary = (w: number) => new TrafficSplit({ variants: [{ version: 1, weight: 100 - w }, { version: 2, weight: w }] });
    const two = moves(canary(10), canary(20));
    assert.deepEqual(Object.keys(two), ['v1->v2'], 'a canary growing from 10% to 20% only takes users from the control');
    const p = 0.1 / 0.9; // of the control's users, the share that must move
    const control = keys.filter((k) => canary(10).choose(k).name === 'v1').length;
    assert.ok(Math.abs(two['v1->v2']! - control * p) < 4.5 * Math.sqrt(control * p * (1 - p)), `moved ${two['v1->v2']}`);
    // Three variants (weighted rendezvous): no key leaves the variant that gained or enters the one that lost, and
    // the keys that move are within a few points of the least that could (20% here; measured 22%).
    const three3 = moves(three(70, 20, 10), three(50, 40, 10));
    for (const flow of Object.keys(three3)) assert.ok(!flow.startsWith('v2->') && !flow.endsWith('->v1'), flow);
    const moved = Object.values(three3).reduce((a, b) => a + b, 0) / keys.length;
    assert.ok(moved >= 0.19 && moved <= 0.25, `moved ${moved}`);
  });

  it('never chooses a variant of weight 0; reads the key from the parameter, then the header', () => {
    const split = new TrafficSplit({ variants: [{ version: 1, weight: 0 }, { version: 2, weight: 1 }], sticky: { parameter: 'user', header: 'X-User' } });
    for (let i = 0; i < 1000; i++) assert.equal(split.choose(String(i)).name, 'v2');
    for (let i = 0; i < 1000; i++) assert.equal(split.choose(undefined).name, 'v2');
    assert.equal(split.keyOf({ parameters: { user: 42 }, headers: { 'x-user': 'h' } }), '42');
    assert.equal(split.keyOf({ parameters: {}, headers: { 'x-user': 'h' } }), 'h');
    assert.equal(split.keyOf({}), undefined);
  });
});
