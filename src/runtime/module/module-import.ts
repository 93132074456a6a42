/**
 * Imports a model module. `.mjs` and `.js` are imported as they are. `.ts` is imported directly where Node strips
 * types itself (22.18+, 23.6+: erasable syntax only); elsewhere (Node 20) it is bundled with esbuild, when
 * installed, into one ES module in a temporary folder, its own imports (relative
 * ones and packages) inside it, since a bare import could not be resolved from that folder. Bundled rather than
 * transpiled alone because a model folder often holds helpers next to model.ts; esbuild is the tool the field uses
 * for it, and ferry writes no TypeScript compiler of its own.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { messageOf } from '../../errors.js';

/** Files this thread has imported: importing one again (its version reloaded in place) needs a URL of its own. */
const imported = new Set<string>();

export async function importModelModule(file: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(file);
  // A file imported before gets a new query: the module cache would otherwise hand back the code it held then. Not
  // on the first import (every worker's): TypeScript loaders such as tsx's do not all resolve a query in a worker.
  if (imported.has(file)) url.search = `?load=${Date.now()}-${Math.random().toString(36).slice(2)}`;
  imported.add(file);
  const typescript = extname(file) === '.ts' || extname(file) === '.mts';
  if (!typescript || (process.features as { typescript?: unknown }).typescript) return (await import(url.href)) as Record<string, unknown>;
  const esbuild = await import('esbuild').catch(() => undefined);
  if (esbuild) return importBundled(file, esbuild);
  try {
    return (await import(url.href)) as Record<string, unknown>; // a TypeScript loader may be registered (tsx)
  } catch (e) {
    if ((e as { code?: string }).code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw e;
    throw new Error(`${file} is TypeScript, which this Node (${process.version}) cannot import: run Node 22.18 or later, install esbuild beside ferry, or compile it to model.mjs`);
  }
}

async function importBundled(file: string, esbuild: typeof import('esbuild')): Promise<Record<string, unknown>> {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-model-'));
  try {
    const out = join(dir, 'model.mjs');
    try {
      await esbuild.build({ entryPoints: [file], outfile: out, bundle: true, format: 'esm', platform: 'node', logLevel: 'silent', target: `node${process.versions.node.split('.')[0]}` });
    } catch (e) {
      throw new Error(`${file} does not compile: ${messageOf(e).split('\n').slice(0, 4).join(' ')}`);
    }
    return (await import(pathToFileURL(out).href)) as Record<string, unknown>;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
