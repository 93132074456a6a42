/** HandOverRuntime: the main-thread session serves until the workers are up, and is released only when idle. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HandOverRuntime } from '../../src/runtime/hand-over.js';
import type { ModelRuntime } from '../../src/runtime/runtime.js';
import type { Tensor } from '../../src/tensor/tensor.js';

class FakeRuntime implements ModelRuntime {
  readonly platform = 'fake';
  readonly inputs = [{ name: 'x', datatype: 'FP32' as const, shape: [-1] }];
  readonly outputs = [{ name: 'y', datatype: 'FP32' as const, shape: [-1] }];
  readonly labels = new Map<string, (string | number)[]>();
  readonly concurrency = 1;
  runs = 0;
  inFlight = 0;
  released = false;
  releasedWhileRunning = false;
  private gates: (() => void)[] = [];
  constructor(readonly placement: string, private readonly gated = false) {}
  async run(): Promise<Tensor[]> {
    assert.equal(this.released, false, `${this.placement} ran after release`);
    this.runs++;
    this.inFlight++;
    if (this.gated) await new Promise<void>((r) => this.gates.push(r));
    this.inFlight--;
    return [{ name: 'y', datatype: 'FP32', shape: [1], data: new Float32Array([this.placement === 'main' ? 1 : 2]) }];
  }
  open(): void {
    for (const g of this.gates.splice(0)) g();
  }
  async release(): Promise<void> {
    if (this.inFlight > 0) this.releasedWhileRunning = true;
    this.released = true;
  }
}

const input: Tensor[] = [{ name: 'x', datatype: 'FP32', shape: [1], data: new Float32Array([0]) }];
const ran = async (r: ModelRuntime) => ((await r.run(input, ['y']))[0]!.data as Float32Array)[0];

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((a, b) => ((resolve = a), (reject = b)));
  return { promise, resolve, reject };
}

describe('HandOverRuntime', () => {
  it('serves from the first runtime, then from the next once it is up, releasing the first when its runs end', async () => {
    const main = new FakeRuntime('main', true);
    const pool = new FakeRuntime('thread');
    const next = deferred<ModelRuntime>();
    const messages: string[] = [];
    const r = new HandOverRuntime(main, next.promise, { placement: 'thread', concurrency: 1, label: 'm', report: (_l, m) => messages.push(m) });
    assert.equal(r.placement, 'thread');
    assert.equal(r.handed, false);
    const early = ran(r); // still running on main when the pool arrives
    await new Promise((res) => setImmediate(res));
    next.resolve(pool);
    await new Promise((res) => setImmediate(res));
    assert.equal(r.handed, true);
    assert.equal(await ran(r), 2, 'new runs go to the pool');
    assert.equal(main.released, false, 'not released while its run is in progress');
    main.open();
    assert.equal(await early, 1);
    await r.handedOver;
    assert.equal(main.released, true);
    assert.equal(main.releasedWhileRunning, false);
    assert.match(messages.join('\n'), /now runs in its worker threads/);
    await r.release();
    assert.equal(pool.released, true);
  });

  it('stays on the first runtime, with an error, when the next fails to start', async () => {
    const main = new FakeRuntime('main');
    const messages: string[] = [];
    const r = new HandOverRuntime(main, Promise.reject(new Error('no worker')), { placement: 'thread', concurrency: 1, label: 'm', report: (l, m) => messages.push(`${l}: ${m}`) });
    await r.handedOver;
    assert.equal(await ran(r), 1);
    assert.match(messages.join('\n'), /error: m: its worker threads did not start \(no worker\); it stays on the main thread/);
    await r.release();
    assert.equal(main.released, true);
  });

  it('released before the next is up: releases both once it arrives', async () => {
    const main = new FakeRuntime('main');
    const pool = new FakeRuntime('thread');
    const next = deferred<ModelRuntime>();
    const r = new HandOverRuntime(main, next.promise, { placement: 'thread', concurrency: 1, label: 'm' });
    const releasing = r.release();
    next.resolve(pool);
    await releasing;
    assert.equal(main.released, true);
    assert.equal(pool.released, true);
  });
});
