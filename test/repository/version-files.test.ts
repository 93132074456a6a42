/** A version folder's fingerprint and whether it arrived whole, on the real file system. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeFolder } from '../../src/repository/version-files.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'ferry-files-'));
}

describe('describeFolder', () => {
  it('changes its fingerprint when a file grows, is rewritten, or a file is added', async () => {
    const dir = tempDir();
    try {
      writeFileSync(join(dir, 'model.onnx'), 'abc');
      const first = await describeFolder(dir);
      assert.equal((await describeFolder(dir)).fingerprint, first.fingerprint, 'nothing changed: same fingerprint');
      appendFileSync(join(dir, 'model.onnx'), 'd');
      const grown = await describeFolder(dir);
      assert.notEqual(grown.fingerprint, first.fingerprint);
      mkdirSync(join(dir, 'sub'));
      writeFileSync(join(dir, 'sub', 'weights.bin'), 'w');
      const added = await describeFolder(dir);
      assert.notEqual(added.fingerprint, grown.fingerprint);
      assert.match(added.fingerprint, /sub\/weights\.bin/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says whole for a folder renamed into place after its files were written, not for one written in place', async () => {
    const root = tempDir();
    try {
      const staging = join(root, '.staging');
      mkdirSync(staging);
      writeFileSync(join(staging, 'model.onnx'), 'complete');
      await new Promise((r) => setTimeout(r, 20)); // a rename well after the write, as a deploy does
      renameSync(staging, join(root, '2'));
      assert.equal((await describeFolder(join(root, '2'))).whole, true, 'renamed in whole');

      const inPlace = join(root, '3');
      mkdirSync(inPlace);
      writeFileSync(join(inPlace, 'model.onnx'), 'being written');
      appendFileSync(join(inPlace, 'model.onnx'), ' still');
      assert.equal((await describeFolder(inPlace)).whole, false, 'a file written in the folder is not known complete');

      const empty = join(root, '4');
      mkdirSync(empty);
      assert.equal((await describeFolder(empty)).whole, false, 'an empty folder is not a complete version');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
