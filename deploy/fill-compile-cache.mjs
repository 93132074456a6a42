/**
 * Fills V8's compile cache (NODE_COMPILE_CACHE, Node >= 22.1) at image build time with what a start compiles: ferry
 * serving an empty repository, started until ready, then stopped (a graceful exit writes the cache). Measured: a
 * container's start to ready 306 -> 287 ms (medians of 5, BENCHMARKS.md, "Containers"). Node 20 ignores the variable.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const repo = mkdtempSync(join(tmpdir(), 'ferry-empty-'));
const args = ['/app/dist/cli/main.js', 'serve', repo, '--allow-empty-repository', '--host', '127.0.0.1', '--http-port', '0', '--grpc-port', '0', '--management-port', '0', '--log-format', 'json'];
const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
child.stdout.on('data', (chunk) => {
  out += chunk;
  if (/server is ready/.test(out)) child.kill('SIGTERM');
});
const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
const code = await new Promise((resolve) => child.on('exit', resolve));
clearTimeout(timer);
process.exit(code === 0 ? 0 : 1);
