/**
 * The rollout guarantee, under load: 16 clients keep calling a model while a new version is copied into the
 * repository and the old one deleted a moment later, ten times in a row; not one request may fail, and the newest
 * version must serve at the end. Once for each placement: the main thread, worker threads (drained before they end:
 * ending a thread mid-run aborts the process) and child processes. Bounded: about 10 s a placement here.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { startTestServer } from '../helpers/server.js';
import { TempRepository } from '../helpers/repository.js';
import { asRequestInputs, referenceModels } from '../helpers/reference.js';
import { until } from '../helpers/wait.js';
import { LoadLoop } from '../helpers/load-loop.js';

const mlpInputs = asRequestInputs(referenceModels().find((r) => r.model === 'mlp')!.cases[0]!.inputs);
const SWAPS = 10;

for (const execution of ['main', 'thread', 'process'] as const) {
  describe(`ten version swaps under load, execution: ${execution}`, () => {
    it('fails no request and ends on the newest version', async () => {
      const repo = new TempRepository().copyModel('mlp', 'm', 1).write('m/config.yaml', `execution: ${execution}\n`);
      const server = await startTestServer({ modelRepository: repo.root, repositoryPollSecs: 0.1 });
      const load = new LoadLoop(`${server.url}/v2/models/m/infer`, { inputs: mlpInputs }, 16);
      try {
        await until('traffic on version 1', () => load.seen('1'));
        for (let v = 2; v <= SWAPS + 1; v++) {
          repo.copyModel('mlp', 'm', v);
          await new Promise((r) => setTimeout(r, 20)); // the deploy script's "a moment later"
          rmSync(join(repo.root, 'm', String(v - 1)), { recursive: true });
          await until(`version ${v} to answer`, () => load.seen(String(v)), 30_000);
        }
        await until('the old versions to be gone from the index', async () => {
          const rows = (await (await fetch(`${server.url}/v2/repository/index`)).json()) as { version?: string }[];
          return rows.length === 1 && rows[0]!.version === String(SWAPS + 1);
        });
      } finally {
        const summary = await load.stop();
        await server.stop();
        repo.remove();
        assert.deepEqual(Object.keys(summary.statuses), ['200'], `every request must succeed; failures: ${summary.failures.join('; ')}`);
        assert.equal(summary.lastVersion, String(SWAPS + 1));
        assert.ok(summary.requests > 100, `enough traffic to mean something (${summary.requests} requests)`);
      }
    });
  });
}
