/**
 * Cold start: a model that `execution: auto` sends to a worker thread is ready, and answers, from its measured
 * main-thread session before its worker thread is up, then moves there; answers are the same on both sides.
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
  it('serves a heavy model from the main thread until its worker thread is up, then from the worker', async () => {
    const repo = new TempRepository().copyModel('image_cnn', 'image_cnn');
    const logs: string[] = [];
    let onLog = (): void => {};
    const sink = new Writable({ write(chunk, _enc, done) { logs.push(String(chunk)); onLog(); done(); } });
    const server = await startTestServer({ modelRepository: repo.root, logger: pino({ level: 'info' }, sink) });
    try {
      assert.equal((await request(`${server.url}/v2/health/ready`)).status, 200);
      assert.ok(logs.some((l) => /image_cnn' version 1: a run of 8 rows takes .* it runs in 1 worker thread .*on the main thread until they are up/.test(l)), logs.join(''));
      await assertAnswers(server.url);
      const moved = /image_cnn' version 1: now runs in its worker threads/;
      if (!logs.some((l) => moved.test(l))) await new Promise<void>((resolve) => (onLog = () => logs.some((l) => moved.test(l)) && resolve()));
      await assertAnswers(server.url);
      assert.ok(!logs.some((l) => /"level":50/.test(l)), logs.join(''));
    } finally {
      await server.stop();
      repo.remove();
    }
  });
});
