/** What the poller lets through: complete versions, settled configs, folders gone for good; on the real file system. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { RepositoryPoller } from '../../src/repository/repository-poller.js';
import { scanRepository } from '../../src/repository/model-repository.js';
import { TempRepository } from '../helpers/repository.js';

const silent = pino({ level: 'silent' });

async function seeded(repo: TempRepository): Promise<RepositoryPoller> {
  const poller = new RepositoryPoller(repo.root, undefined, silent);
  poller.seed(await scanRepository(repo.root));
  return poller;
}

describe('RepositoryPoller', () => {
  it('holds a version folder written in place as pending until its files are the same in two polls', async () => {
    const repo = new TempRepository().copyModel('mlp', 'm', 1);
    try {
      const poller = await seeded(repo);
      repo.write('m/2/model.onnx', 'half');
      let m = (await poller.poll()).models.find((x) => x.name === 'm')!;
      assert.deepEqual(m.versions.map((v) => v.version), [1]);
      assert.deepEqual(m.pending, [2]);
      appendFileSync(join(repo.root, 'm/2/model.onnx'), ' and the rest');
      m = (await poller.poll()).models.find((x) => x.name === 'm')!;
      assert.deepEqual(m.pending, [2], 'still changing');
      m = (await poller.poll()).models.find((x) => x.name === 'm')!;
      assert.deepEqual(m.versions.map((v) => v.version), [1, 2], 'unchanged since the last poll: complete');
      assert.deepEqual(m.pending, []);
    } finally {
      repo.remove();
    }
  });

  it('lets a version folder renamed into place whole through at first sight', async () => {
    const repo = new TempRepository().copyModel('mlp', 'm', 1);
    try {
      const poller = await seeded(repo);
      const staging = join(repo.root, 'm', '.incoming');
      mkdirSync(staging);
      writeFileSync(join(staging, 'model.onnx'), 'ready');
      await new Promise((r) => setTimeout(r, 20));
      renameSync(staging, join(repo.root, 'm', '2'));
      const m = (await poller.poll()).models.find((x) => x.name === 'm')!;
      assert.deepEqual(m.versions.map((v) => v.version), [1, 2]);
    } finally {
      repo.remove();
    }
  });

  it('applies a changed config only once it has stopped changing, and a new model folder with a config a poll later', async () => {
    const repo = new TempRepository().copyModel('mlp', 'm', 1);
    try {
      const poller = await seeded(repo);
      repo.write('m/config.yaml', 'max_batch_size: 8\n');
      assert.equal((await poller.poll()).models.find((x) => x.name === 'm'), undefined, 'config just written: wait');
      const m = (await poller.poll()).models.find((x) => x.name === 'm')!;
      assert.equal(m.config.max_batch_size, 8);
      repo.copyModel('mlp', 'n', 1).write('n/config.yaml', 'max_batch_size: 4\n');
      assert.equal((await poller.poll()).models.find((x) => x.name === 'n'), undefined);
      assert.equal((await poller.poll()).models.find((x) => x.name === 'n')?.config.max_batch_size, 4);
    } finally {
      repo.remove();
    }
  });

  it('says a model folder is gone only when it is missing in two polls in a row', async () => {
    const repo = new TempRepository().copyModel('mlp', 'm', 1).copyModel('mlp', 'keep', 1);
    try {
      const poller = await seeded(repo);
      rmSync(join(repo.root, 'm'), { recursive: true });
      assert.deepEqual((await poller.poll()).gone, [], 'missing once: perhaps being replaced');
      repo.copyModel('mlp', 'm', 1);
      assert.deepEqual((await poller.poll()).gone, [], 'back again');
      rmSync(join(repo.root, 'm'), { recursive: true });
      assert.deepEqual((await poller.poll()).gone, []);
      assert.deepEqual((await poller.poll()).gone, ['m']);
      assert.deepEqual((await poller.poll()).gone, [], 'said once');
    } finally {
      repo.remove();
    }
  });

  it('changes nothing while the repository itself cannot be read', async () => {
    const repo = new TempRepository().copyModel('mlp', 'm', 1);
    const moved = `${repo.root}-away`;
    try {
      const poller = await seeded(repo);
      renameSync(repo.root, moved);
      for (let i = 0; i < 3; i++) assert.deepEqual(await poller.poll(), { models: [], gone: [] });
      renameSync(moved, repo.root);
      assert.deepEqual((await poller.poll()).models.map((m) => m.name), ['m']);
    } finally {
      rmSync(moved, { recursive: true, force: true });
      repo.remove();
    }
  });
});
