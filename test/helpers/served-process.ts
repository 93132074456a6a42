/** A `ferry serve` started as its own process (to be signalled or killed), ready when it says "server is ready". */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { until } from './wait.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Started {
  readonly child: ChildProcess;
  readonly out: () => string;
  readonly url: () => string;
}

/** Starts a command in the repository's root and waits for "server is ready" in its output (JSON log lines). */
export async function startServed(cmd: string, args: string[], env: Record<string, string> = {}): Promise<Started> {
  const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (out += c));
  await until('server is ready', () => {
    if (child.exitCode !== null) throw new Error(`exited early:\n${out}`);
    return /server is ready/.test(out);
  }, 60_000);
  return { child, out: () => out, url: () => `http://127.0.0.1:${/"port":(\d+)/.exec(out)![1]}` };
}
