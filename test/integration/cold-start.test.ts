/**
 * Cold start: under `execution: auto` every model is ready, and answers, from its main-thread session; once start-up
 * is over a measured run decides: the image CNN moves to a worker thread, a cheap model stays. Answers are the same
 * on both sides.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { postJson, request, startTestServer } from '../helpers/server.js';
import { TempRepository } from '../helpers/repository.js';
import { asRequestInputs, assertClose, referenceModels } from '../helpers/reference.js';

const cnn = referenceModels().find((r) => r.model === 'image_cnn')!;

async function assertAnswers(url: string): Promise<void> {
  for (const c of cnn.cases) {
    const reply = await postJson(`${url}/v2/models/image_cnn/infer`, { inputs: asRequestInputs(c.inputs) });
    assert.equal(reply.status, 200, reply.text);
    for (const want of c.outputs) assertClose(reply.body.outputs.find((o: { name: string }) => o.name === want.name), want, cnn.tolerance, want.name);
  }
}

describe('cold start with execution: auto', () => {
  it('serves every model from the main thread at ready; after start-up the CNN moves to a worker thread, the MLP stays', async () => {
    const repo = new TempRepository().copyModel('image_cnn', 'image_cnn').copyModel('mlp', 'mlp');
    const logs: string[] = [];
    let onLog = (): void => {};
    const sink = new Writable({ write(chunk, _enc, done) { logs.push(String(chunk)); onLog(); done(); } });
    const server = await startTestServer({ modelRepository: repo.root, logger: pino({ level: 'info' }, sink) });
    try {
      assert.equal((await request(`${server.url}/v2/health/ready`)).status, 200);
      assert.ok(logs.some((l) => /image_cnn' version 1: batches up to 64 rows, on the main thread/.test(l)), logs.join(''));
      await assertAnswers(server.url);
      const moved = /image_cnn' version 1: now runs in 1 worker thread/;
      if (!logs.some((l) => moved.test(l))) await new Promise<void>((resolve) => (onLog = () => logs.some((l) => moved.test(l)) && resolve()));
      assert.ok(logs.some((l) => /image_cnn' version 1: a run of 8 rows takes [\d.]+ ms, more than 1 ms: it moves to 1 worker thread/.test(l)), logs.join(''));
      // The MLP (about 0.05 ms a run) stays, unless the machine is so loaded that five runs in a row take over 1 ms.
      const mlpDecided = /mlp' version 1: a run of 8 rows takes [\d.]+ ms(: it stays on the main thread|, more than 1 ms: it moves)/;
      if (!logs.some((l) => mlpDecided.test(l))) await new Promise<void>((resolve) => (onLog = () => logs.some((l) => mlpDecided.test(l)) && resolve()));
      if (logs.some((l) => /mlp' version 1: .* it stays on the main thread/.test(l))) assert.ok(!logs.some((l) => /mlp' version 1: now runs/.test(l)), logs.join(''));
      await assertAnswers(server.url);
      assert.ok(!logs.some((l) => /"level":50/.test(l)), logs.join(''));
    } finally {
      await server.stop();
      repo.remove();
    }
  });
});
