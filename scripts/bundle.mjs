#!/usr/bin/env node
/**
 * Bundles the `ferry` command (src/cli/main.ts and everything it imports, npm packages included) into
 * dist/cli/main.js plus chunks beside it, after `tsc` has built dist/. Why: at start-up Node resolved, read and
 * compiled about 400 files one by one (grpc-js, protobufjs, prom-client, pino, commander and ferry's own); one file
 * and a few chunks start measurably faster (BENCHMARKS.md, cold start). Modules loaded on use (`import()`: the
 * bench, `ferry batch`, the model config schema, the ONNX schema, the gRPC message codecs) stay in chunks of their
 * own, loaded on use.
 *
 * What stays outside the bundle: native packages (onnxruntime-node, @duckdb/node-api, esbuild), and packages that find their
 * own files through __dirname (grpc-health-check, @grpc/reflection; both loaded on first use). The rest of dist/
 * (the library entry dist/server.js, the worker entries) is tsc's output, unchanged.
 *
 * `import.meta.url` in each source file is rewritten to the URL its tsc output has in dist/, so paths built from
 * it (proto/, package.json, the worker entry) point where they did before bundling.
 */
import { build } from 'esbuild';
import { readdir, readFile, rm } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const outdir = join(root, 'dist', 'cli');

/** Bundled code's import.meta.url is the bundle's; give each source file the URL of its own dist/ file instead. */
const distMetaUrl = {
  name: 'dist-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      if (!args.path.startsWith(src + '/') || !text.includes('import.meta.url')) return undefined;
      const own = relative(outdir, join(root, 'dist', relative(src, args.path))).replace(/\.ts$/, '.js');
      return { contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(own)}, import.meta.url).href`), loader: 'ts' };
    });
  },
};

// Chunks of an earlier build (their names are content hashes).
for (const f of await readdir(outdir).catch(() => [])) if (f.startsWith('chunk-')) await rm(join(outdir, f));

/**
 * prom-client requires @opentelemetry/api (about 50 files, a good part of prom-client's load time) at load, but uses
 * it only for exemplars, which ferry does not enable: in the bundle it is a stand-in that loads the real package on
 * its first property read.
 */
const lazyOpenTelemetry = {
  name: 'lazy-opentelemetry-api',
  setup(b) {
    b.onResolve({ filter: /^@opentelemetry\/api$/ }, (args) =>
      args.namespace === 'lazy-otel' ? { path: args.path, external: true } : { path: args.path, namespace: 'lazy-otel' },
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-otel' }, () => ({
      contents: "let api;\nmodule.exports = new Proxy({}, { get: (_, key) => (api ??= require('@opentelemetry/api'))[key] });\n",
      loader: 'js',
      resolveDir: root,
    }));
  },
};

/**
 * CommonJS modules that a bundled package requires when it loads but ferry never uses: each gets a stand-in that
 * requires the real module (still in the bundle, where esbuild wraps CommonJS in a factory that runs on the first
 * require) on its first use. What each would load at start-up, measured on Node 24 (`process.moduleLoadList`):
 * - pino's transport support requires thread-stream (worker_threads, node:assert and its diff helpers) at load;
 *   ferry logs to stdout with pino's default destination and starts no transport.
 * - prom-client's index requires its Pushgateway (node:https, node:url, node:zlib), which ferry does not use, and
 *   its default metrics (a dozen modules, node:perf_hooks, node:v8), which ferry starts after ready (metrics.ts).
 * The stand-in is a function, so that `new` and calls pass through as well as property reads.
 */
const LAZY_REQUIRES = [
  { specifier: 'thread-stream', importer: /[\\/]pino[\\/]lib[\\/]transport\.js$/ },
  { specifier: './lib/pushgateway', importer: /[\\/]prom-client[\\/]index\.js$/ },
  { specifier: './lib/defaultMetrics', importer: /[\\/]prom-client[\\/]index\.js$/ },
];
const lazyRequires = {
  name: 'lazy-requires',
  setup(b) {
    for (const { specifier, importer } of LAZY_REQUIRES) {
      const filter = new RegExp(`^${specifier.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`);
      b.onResolve({ filter }, async (args) => {
        if (args.namespace === 'lazy-require' || !importer.test(args.importer)) return undefined;
        const real = await b.resolve(args.path, { resolveDir: args.resolveDir, kind: args.kind });
        if (real.errors.length) return { errors: real.errors };
        return { path: relative(root, real.path), namespace: 'lazy-require', pluginData: real.path };
      });
    }
    b.onLoad({ filter: /.*/, namespace: 'lazy-require' }, (args) => ({
      contents:
        `let real;\nconst load = () => (real ??= require(${JSON.stringify(args.pluginData)}));\n` +
        'module.exports = new Proxy(function () {}, {\n' +
        '  get: (_, key) => load()[key],\n' +
        '  has: (_, key) => key in load(),\n' +
        '  construct: (_, args) => Reflect.construct(load(), args),\n' +
        '  apply: (_, self, args) => Reflect.apply(load(), self, args),\n' +
        '});\n',
      loader: 'js',
      resolveDir: root,
    }));
  },
};

/**
 * ferry's own `import ... from 'node:http'` (and other built-ins) become require() calls in the bundle. An ESM import
 * of a built-in makes Node build an ESM facade that reads every export; on Node 24 node:http's lazy WebSocket-era
 * getters then load undici, about 5-8 ms at start (CPU profile of `ferry --version`). require() reads only what is used.
 */
const builtinsByRequire = {
  name: 'builtins-by-require',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) =>
      args.namespace === 'builtin-require' || !args.importer.startsWith(src + '/') ? undefined : { path: args.path, namespace: 'builtin-require' },
    );
    b.onLoad({ filter: /.*/, namespace: 'builtin-require' }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});\n`, loader: 'js' }));
  },
};

await build({
  entryPoints: { main: join(src, 'cli', 'main.ts') },
  outdir,
  bundle: true,
  splitting: true,
  // Chunks sit beside main.js: the rewritten import.meta.url above is relative to that folder.
  chunkNames: 'chunk-[hash]',
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  // esbuild: a model.ts on Node 20 is compiled with it when it is installed (runtime/module/module-import.ts).
  external: ['onnxruntime-node', '@duckdb/node-api', 'grpc-health-check', '@grpc/reflection', 'esbuild'],
  // Bundled CommonJS packages call require() (node: built-ins, optional packages); ESM has none of its own.
  banner: { js: "import { createRequire as __ferryCreateRequire } from 'node:module';\nconst require = __ferryCreateRequire(import.meta.url);" },
  plugins: [distMetaUrl, lazyOpenTelemetry, lazyRequires, builtinsByRequire],
  logLevel: 'warning',
});
