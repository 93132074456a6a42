/**
 * Child processes of the bench (servers, load generators), their resident memory and CPU, free ports, polling.
 * Every child is tracked and stopped by its own pid when the bench ends, however it ends.
 */
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import http from 'node:http';

const live = new Set();

export class Proc {
  /** @param {string} name  @param {string} cmd  @param {string[]} args  @param {import('node:child_process').SpawnOptions} [options] */
  constructor(name, cmd, args, options = {}) {
    this.name = name;
    this.command = [cmd, ...args].join(' ');
    this.output = '';
    this.child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], ...options });
    this.pid = this.child.pid;
    this.listeners = [];
    const keep = (chunk) => {
      const text = chunk.toString('utf8');
      this.output = (this.output + text).slice(-200_000);
      for (const l of this.listeners) l(text);
    };
    this.child.stdout.on('data', keep);
    this.child.stderr.on('data', keep);
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
    this.exitedYet = false;
    this.exited.then(() => {
      this.exitedYet = true;
      live.delete(this);
    });
    this.child.on('error', (e) => {
      this.output += `\nspawn error: ${e.message}`;
    });
    live.add(this);
  }

  /** Resolves with the output so far once `re` matches it (or its `count`-th match). */
  waitForOutput(re, timeoutMs, count = 1) {
    return new Promise((resolve, reject) => {
      const g = new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`);
      const check = () => (this.output.match(g)?.length ?? 0) >= count;
      if (check()) return resolve(this.output);
      const timer = setTimeout(() => finish(new Error(`${this.name}: no ${re} within ${timeoutMs} ms; output:\n${this.output.slice(-3000)}`)), timeoutMs);
      const listener = () => check() && finish();
      const onExit = () => finish(new Error(`${this.name} exited before ${re}; output:\n${this.output.slice(-3000)}`));
      this.exited.then(onExit);
      const finish = (err) => {
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== listener);
        if (err) reject(err);
        else resolve(this.output);
      };
      this.listeners.push(listener);
    });
  }

  /** SIGTERM, then SIGKILL after `graceMs`. Resolves with the exit. */
  async stop(graceMs = 10_000) {
    if (this.exitedYet) return this.exited;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const result = await this.exited;
    clearTimeout(timer);
    return result;
  }
}

/** Stops every child still running (on exit, Ctrl-C, or an error). */
export async function stopAll() {
  await Promise.all([...live].map((p) => p.stop(3000)));
}
export function killAllNow() {
  for (const p of live) {
    try {
      p.child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** One HTTP request to 127.0.0.1; resolves { status, body } or rejects on a network error. */
export function request(url, { method = 'GET', body, headers = {}, timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

/** Polls until `check()` resolves truthy; rejects after timeoutMs (or when `proc` exits). */
export async function pollUntil(check, { timeoutMs = 60_000, intervalMs = 50, proc, what = 'condition' } = {}) {
  const start = performance.now();
  for (;;) {
    if (proc?.exitedYet) throw new Error(`${proc.name} exited while waiting for ${what}; output:\n${proc.output.slice(-3000)}`);
    try {
      if (await check()) return performance.now() - start;
    } catch {
      /* not yet */
    }
    if (performance.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${proc ? `; ${proc.name} output:\n${proc.output.slice(-3000)}` : ''}`);
    await sleep(intervalMs);
  }
}

// ---- /proc: memory and CPU -------------------------------------------------------------------------------------------

function readStatus(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
    return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
  } catch {
    return { rssKb: 0, hwmKb: 0 };
  }
}

/** pid and all its descendants (gunicorn's workers, ferry's worker processes if any). */
export function processTree(pid) {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    let tasks = [];
    try {
      tasks = readdirSync(`/proc/${out[i]}/task`);
    } catch {
      continue;
    }
    for (const t of tasks) {
      try {
        for (const c of readFileSync(`/proc/${out[i]}/task/${t}/children`, 'utf8').trim().split(/\s+/)) if (c) out.push(Number(c));
      } catch {
        /* gone */
      }
    }
  }
  return out;
}

/** Resident memory (MB) of a process and its descendants: VmRSS now, and VmHWM (peak) summed. */
export function memoryMb(pid) {
  let rss = 0;
  let hwm = 0;
  for (const p of processTree(pid)) {
    const s = readStatus(p);
    rss += s.rssKb;
    hwm += s.hwmKb;
  }
  return { rssMb: rss / 1024, peakMb: hwm / 1024 };
}

const HZ = 100; // USER_HZ on Linux

function procJiffies(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime + stime (fields 14, 15)
  } catch {
    return undefined;
  }
}

function allPids() {
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number);
}

/**
 * CPU used by processes that are not the bench's own (other people's jobs on a shared machine) while a measurement
 * runs: the noise the ratios have to live with. `start()` snapshots every process; `stop(mine)` returns the CPU
 * (in cores, averaged over the window) of all processes except the pids in `mine` and their descendants.
 */
export class ForeignCpu {
  start() {
    this.t0 = performance.now();
    this.before = new Map(allPids().map((p) => [p, procJiffies(p)]));
  }
  stop(minePids) {
    const mine = new Set([process.pid, ...minePids.flatMap((p) => processTree(p))]);
    const seconds = (performance.now() - this.t0) / 1000;
    let jiffies = 0;
    for (const p of allPids()) {
      if (mine.has(p)) continue;
      const now = procJiffies(p);
      if (now === undefined) continue;
      const was = this.before.get(p);
      jiffies += was === undefined ? now : now - was; // a process started in the window counts from its start
    }
    return jiffies / HZ / seconds;
  }
}

export function machineInfo() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const meminfo = readFileSync('/proc/meminfo', 'utf8');
  return {
    cpuModel: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? 'unknown',
    cpus: (cpuinfo.match(/^processor\s*:/gm) ?? []).length,
    memGb: Number(/^MemTotal:\s+(\d+)/m.exec(meminfo)?.[1] ?? 0) / 1024 / 1024,
  };
}

/** CPU jiffies per thread of one process: Map(tid -> utime + stime). */
export function threadJiffies(pid) {
  const out = new Map();
  let tasks = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tasks) {
    const j = procJiffies(`${pid}/task/${t}`);
    if (j !== undefined) out.set(Number(t), j);
  }
  return out;
}

/**
 * Where a process's CPU went between two threadJiffies snapshots, in cores: its main thread (tid = pid), its
 * busiest other thread, and all the others together.
 */
export function threadCpu(pid, before, after, seconds) {
  let main = 0;
  let others = 0;
  let busiest = 0;
  for (const [tid, j] of after) {
    const d = (j - (before.get(tid) ?? 0)) / HZ / seconds;
    if (tid === pid) main = d;
    else {
      others += d;
      busiest = Math.max(busiest, d);
    }
  }
  return { main, busiest, others };
}
