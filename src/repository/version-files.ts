/**
 * What a version folder's files look like, so the poller loads a version only once it is complete: not while a
 * copy is still writing it (Triton's poll mode can load a half-copied file; its docs call that mode unfit for
 * production for this reason).
 *
 * - fingerprint: every file's path, size and modification time. Equal in two polls in a row: nothing is writing.
 *   Different from the fingerprint a loaded version was loaded from: its files changed, reload it.
 * - whole: the folder was renamed into place after its files were written (a deploy that copies to a temporary
 *   folder and renames it: atomic), so it can load at first sight. Told from the change times: a rename sets the
 *   moved folder's ctime, after every ctime inside it; while a copy is writing into the folder, the file being
 *   written has a ctime at or after the folder's (its creation changed the folder; its writes change the file).
 *   Times compared strictly: the file system's clock moves in ticks (about 4 ms on Linux here), so a rename within
 *   the tick of the copy's last write looks like a copy in progress, and the two-poll rule decides.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface FolderState {
  readonly fingerprint: string;
  readonly whole: boolean;
}

/** Deeper trees or more files than this are not a model version; the scan stops there rather than walk a disk. */
const MAX_DEPTH = 8;
const MAX_FILES = 10_000;

export async function describeFolder(dir: string): Promise<FolderState> {
  const top = await stat(dir, { bigint: true });
  const lines: string[] = [];
  let whole = true;
  const walk = async (at: string, rel: string, depth: number): Promise<void> => {
    if (depth > MAX_DEPTH) throw new Error(`${dir} is more than ${MAX_DEPTH} folders deep`);
    const names = (await readdir(at)).sort();
    for (const name of names) {
      const path = join(at, name);
      const info = await stat(path, { bigint: true }).catch(() => undefined); // gone since readdir: the next poll sees it
      if (!info) {
        whole = false;
        continue;
      }
      if (info.ctimeNs >= top.ctimeNs) whole = false;
      if (info.isDirectory()) {
        await walk(path, `${rel}${name}/`, depth + 1);
      } else {
        if (lines.length >= MAX_FILES) throw new Error(`${dir} holds more than ${MAX_FILES} files`);
        lines.push(`${rel}${name}\t${info.size}\t${info.mtimeNs}`);
      }
    }
  };
  await walk(dir, '', 0);
  return { fingerprint: lines.join('\n'), whole: whole && lines.length > 0 };
}

/** A single model file's state (a repository given as one .onnx file). */
export async function describeFile(file: string): Promise<FolderState> {
  const info = await stat(file, { bigint: true });
  return { fingerprint: `${info.size}\t${info.mtimeNs}`, whole: false };
}
