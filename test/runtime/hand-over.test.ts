/** HandOverRuntime: the main-thread session serves until the decision is carried out, and is released only when idle. */
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
const tick = () => new Promise((res) => setImmediate(res));

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
    const next = deferred<ModelRuntime | undefined>();
    const messages: string[] = [];
    const r = new HandOverRuntime(main, () => next.promise, { label: 'm', report: (_l, m) => messages.push(m) });
    assert.equal(r.placement, 'main');
    assert.equal(r.handed, false);
    const early = ran(r); // still running on main when the pool arrives
    await tick();
    next.resolve(pool);
    await tick();
    assert.equal(r.handed, true);
    assert.equal(r.placement, 'thread');
    assert.equal(await ran(r), 2, 'new runs go to the pool');
    assert.equal(main.released, false, 'not released while its run is in progress');
    main.open();
    assert.equal(await early, 1);
    await r.handedOver;
    assert.equal(main.released, true);
    assert.equal(main.releasedWhileRunning, false);
    assert.match(messages.join('\n'), /m: now runs in 1 worker thread/);
    await r.release();
    assert.equal(pool.released, true);
  });

  it('stays on the first runtime when the decision is to stay', async () => {
    const main = new FakeRuntime('main');
    const r = new HandOverRuntime(main, async () => undefined, { label: 'm' });
    await r.handedOver;
    assert.equal(r.handed, false);
    assert.equal(await ran(r), 1);
    assert.equal(main.released, false);
    await r.release();
    assert.equal(main.released, true);
  });

  it('stays on the first runtime, with an error, when the move fails', async () => {
    const main = new FakeRuntime('main');
    const messages: string[] = [];
    const r = new HandOverRuntime(main, () => Promise.reject(new Error('no worker')), { label: 'm', report: (l, m) => messages.push(`${l}: ${m}`) });
    await r.handedOver;
    assert.equal(await ran(r), 1);
    assert.match(messages.join('\n'), /error: m: it could not move off the main thread \(no worker\); it stays there/);
    await r.release();
    assert.equal(main.released, true);
  });

  it('released before the decision: tells it, and releases what it brings', async () => {
    const main = new FakeRuntime('main');
    const pool = new FakeRuntime('thread');
    const next = deferred<ModelRuntime | undefined>();
    let wanted: (() => boolean) | undefined;
    const r = new HandOverRuntime(main, (w) => ((wanted = w), next.promise), { label: 'm' });
    await tick();
    assert.equal(wanted!(), true);
    const releasing = r.release();
    assert.equal(wanted!(), false);
    next.resolve(pool);
    await releasing;
    assert.equal(main.released, true);
    assert.equal(pool.released, true);
  });

  it('released during a timed run of the decision (a load that fails in its round): waits for that run, refuses more', async () => {
    const main = new FakeRuntime('main', true);
    let later: Promise<unknown> | undefined;
    const r = new HandOverRuntime(main, async (_wanted, runner) => {
      await runner.run(input, ['y']);
      later = runner.run(input, ['y']);
      await later.catch(() => undefined);
      return undefined;
    }, { label: 'm' });
    await tick();
    assert.equal(main.inFlight, 1, 'the timed run is in progress');
    const releasing = r.release();
    await tick();
    assert.equal(main.released, false, 'not freed under its run');
    main.open();
    await releasing;
    assert.equal(main.released, true);
    assert.equal(main.releasedWhileRunning, false);
    await r.handedOver;
    await assert.rejects(later!, /unloading/);
  });
});
