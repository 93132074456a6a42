/**
 * What a folder given as the model repository looks like, when it is not one: the mistakes a new user makes (a
 * version folder or a model folder given instead of the repository, an empty or wrong path), said with what was found
 * and what a repository looks like, so the start fails with a sentence rather than serving nothing.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelOnDisk } from './model-repository.js';

const LAYOUT = 'a repository holds one folder per model, each with numbered version folders: REPOSITORY/NAME/1/model.onnx';
const VERSION_NAME = /^[1-9][0-9]*$/;

/** Why `root` is not a model repository, or undefined when it holds at least one model. */
export async function notARepository(root: string, found: readonly ModelOnDisk[]): Promise<string | undefined> {
  if ((await stat(root)).isFile()) return undefined; // one .onnx file: a model by itself
  const entries = await readdir(root, { withFileTypes: true });
  const onnx = entries.filter((e) => e.isFile() && e.name.endsWith('.onnx')).map((e) => e.name);
  if (found.length === 0) {
    if (onnx.length > 0) {
      return `${root} holds ${onnx.join(', ')} but no model folders: it looks like a version folder. Give the repository two levels up, or the file itself (ferry serve ${join(root, onnx[0]!)}); ${LAYOUT}. (To start with no model and wait for some: --allow-empty-repository)`;
    }
    const listed = entries.filter((e) => !e.name.startsWith('.')).map((e) => e.name).slice(0, 8);
    return `${root} holds no model folders${listed.length ? ` (it holds: ${listed.join(', ')})` : ' (it is empty)'}; ${LAYOUT}. To start with no model and wait for some (a volume filled later), add --allow-empty-repository`;
  }
  if (found.every((m) => VERSION_NAME.test(m.name)) && (await holdsModelFiles(root, found))) {
    return `${root} looks like one model's folder: its sub-folders ${found.map((m) => m.name).join(', ')} are versions with the model file in them. Give the repository, its parent folder; ${LAYOUT}`;
  }
  return undefined;
}

/** True when the numbered "models" hold a model file directly, as versions do. */
async function holdsModelFiles(root: string, found: readonly ModelOnDisk[]): Promise<boolean> {
  for (const m of found) {
    const names = await readdir(join(root, m.name)).catch(() => [] as string[]);
    if (!names.some((n) => n.endsWith('.onnx'))) return false;
  }
  return true;
}
