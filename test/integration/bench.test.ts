/**
 * `ferry bench` against a real ferry (HTTP JSON, HTTP binary, gRPC raw and typed, fixed rate, a sweep, --input,
 * errors), against a stand-in V2 server with and without a batch-size histogram, and once through the command.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { asRequestInputs, referenceModels } from '../helpers/reference.js';
import { runBench, type BenchReport, type LevelReport } from '../../src/bench/index.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const QUICK = { duration: 0.6, warmup: 0.2 } as const;

/** A level that ran cleanly: requests, no errors, ordered percentiles, rows/s = req/s x rows. */
function assertClean(level: LevelReport, rows: number): void {
  assert.equal(level.errors, 0, JSON.stringify(level.errorsByKind));
  assert.ok(level.requests > 10, `only ${level.requests} requests`);
  const l = level.latencyMs!;
  assert.ok(l.min <= l.p50 && l.p50 <= l.p90 && l.p90 <= l.p95 && l.p95 <= l.p99 && l.p99 <= l.max, JSON.stringify(l));
  assert.ok(Math.abs(level.throughput.requestsPerS - level.requests / level.durationS) < 1e-6);
  assert.ok(Math.abs(level.throughput.rowsPerS - level.throughput.requestsPerS * rows) < 1e-6);
  // ferry exports the batch-size histogram once its /metrics is there; until then the column is n/a.
  if (level.batchSize) assert.ok(level.batchSize.mean >= 1 && level.batchSize.runs > 0, JSON.stringify(level.batchSize));
}

describe('ferry bench', () => {
  let server: TestServer;
  const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-'));
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('HTTP JSON: one level, throughput and latency percentiles, the model and request described', async () => {
    const report = await runBench({ model: 'breast_cancer', url: server.url, concurrency: [4], ...QUICK });
    assert.equal(report.protocol, 'http');
    assert.equal(report.encoding, 'json');
    assert.equal(report.target, server.url);
    assert.deepEqual(report.inputs, [{ name: 'float_input', datatype: 'FP32', shape: [1, 30] }]);
    assert.equal(report.rowsPerRequest, 1);
    assert.deepEqual(report.warnings, []);
    assert.equal(report.levels.length, 1);
    assert.equal(report.levels[0]!.concurrency, 4);
    assertClean(report.levels[0]!, 1);
    // ferry's own times: a request's time inside the server is part of what the client waited for.
    const t = report.levels[0]!.serverTimes!;
    assert.ok(t.requestMs! > 0 && t.runMs! > 0 && t.queueMs! >= 0, JSON.stringify(t));
    assert.ok(t.requestMs! <= report.levels[0]!.latencyMs!.mean, `server ${t.requestMs} ms within the client's ${report.levels[0]!.latencyMs!.mean} ms`);
  });

  it('HTTP binary tensors, 8 rows a request, every datatype (FP16 and BYTES included)', async () => {
    const mlp = await runBench({ model: 'mlp', url: server.url, encoding: 'binary', batch: 8, concurrency: [2], ...QUICK });
    assert.equal(mlp.rowsPerRequest, 8);
    assert.deepEqual(mlp.inputs, [{ name: 'input', datatype: 'FP32', shape: [8, 30] }]);
    assertClean(mlp.levels[0]!, 8);
    const all = await runBench({ model: 'datatypes', url: server.url, encoding: 'binary', batch: 3, ...QUICK });
    assertClean(all.levels[0]!, 3);
  });

  it('gRPC: raw contents over 2 connections (an INT64 category input the embedding accepts) and typed contents (BYTES)', async () => {
    const raw = await runBench({ model: 'two_inputs', protocol: 'grpc', grpcUrl: server.grpcAddress, url: server.url, batch: 3, connections: 2, concurrency: [4], ...QUICK });
    assert.equal(raw.encoding, 'raw');
    assert.equal(raw.target, server.grpcAddress);
    assertClean(raw.levels[0]!, 3);
    const typed = await runBench({ model: 'text_category', protocol: 'grpc', encoding: 'typed', grpcUrl: server.grpcAddress, url: server.url, batch: 2, ...QUICK });
    assertClean(typed.levels[0]!, 2);
  });

  it('a concurrency sweep gives one result per level, in order', async () => {
    const report = await runBench({ model: 'mlp', url: server.url, concurrency: [1, 2, 4], duration: 0.4, warmup: 0.1 });
    assert.deepEqual(report.levels.map((l) => [l.mode, l.concurrency]), [['concurrency', 1], ['concurrency', 2], ['concurrency', 4]]);
    for (const l of report.levels) assertClean(l, 1);
  });

  it('fixed rate (open loop): achieves the target rate, latency timed from the schedule', async () => {
    const report = await runBench({ model: 'mlp', url: server.url, rate: [200], duration: 1, warmup: 0.2 });
    const level = report.levels[0]!;
    assert.equal(level.mode, 'rate');
    assert.equal(level.rate, 200);
    assert.equal(level.unsent, 0);
    assertClean(level, 1);
    // Never above the rate (a closed loop here would do thousands per second); the lower bound is loose because a
    // busy machine delays the generator's own timers, which is not what this test is about.
    const achieved = level.throughput.requestsPerS;
    assert.ok(achieved <= 220 && achieved >= 100, `achieved ${achieved} req/s for a target of 200`);
  });

  it('--input FILE: sends that request (its 5 rows) as JSON, binary and gRPC', async () => {
    const file = join(dir, 'mlp.json');
    const inputs = asRequestInputs(referenceModels().find((r) => r.model === 'mlp')!.cases[0]!.inputs);
    writeFileSync(file, JSON.stringify({ inputs, outputs: [{ name: 'output' }] }));
    for (const options of [{}, { encoding: 'binary' as const }, { protocol: 'grpc' as const, grpcUrl: server.grpcAddress }]) {
      const report = await runBench({ model: 'mlp', url: server.url, inputFile: file, ...options, duration: 0.4, warmup: 0.1 });
      assert.equal(report.rowsPerRequest, 5);
      assertClean(report.levels[0]!, 5);
    }
  });

  it('requests the server refuses are counted by status with the first message, and the run still completes', async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ inputs: [{ name: 'float_input', datatype: 'FP32', shape: [1, 29], data: new Array(29).fill(0.5) }] }));
    const http = await runBench({ model: 'breast_cancer', url: server.url, inputFile: file, duration: 0.4, warmup: 0 });
    const level = http.levels[0]!;
    assert.equal(level.errors, level.requests);
    assert.equal(level.latencyMs, null);
    assert.equal(level.errorsByKind.length, 1);
    assert.equal(level.errorsByKind[0]!.kind, 'HTTP 400');
    assert.match(level.errorsByKind[0]!.firstMessage, /expected shape \[-1,30\], got \[1,29\]/);
    assert.match(http.warnings[0]!, /the first request failed \(HTTP 400: .*\[1,29\]/);
    const grpc = await runBench({ model: 'breast_cancer', protocol: 'grpc', grpcUrl: server.grpcAddress, url: server.url, inputFile: file, duration: 0.3, warmup: 0 });
    assert.equal(grpc.levels[0]!.errorsByKind[0]!.kind, 'gRPC INVALID_ARGUMENT');
  });

  it('an unknown model, an unknown version or no server: a clear error before any load', async () => {
    await assert.rejects(runBench({ model: 'nope', url: server.url }), { name: 'BenchError', message: `model 'nope' not found at ${server.url}: Request for unknown model 'nope'` });
    await assert.rejects(runBench({ model: 'nope', protocol: 'grpc', grpcUrl: server.grpcAddress, url: server.url }), { message: `model 'nope' not found at ${server.grpcAddress}: Request for unknown model 'nope'` });
    await assert.rejects(runBench({ model: 'mlp', modelVersion: '9', url: server.url }), { message: /^model 'mlp' version 9 not found at .*: model 'mlp' has no version '9'/ });
    await assert.rejects(runBench({ model: 'mlp', url: 'http://127.0.0.1:1' }), { message: /^cannot reach http:\/\/127\.0\.0\.1:1: connect ECONNREFUSED/ });
    await assert.rejects(runBench({ model: 'mlp', protocol: 'grpc', grpcUrl: '127.0.0.1:1' }), { message: /^cannot reach 127\.0\.0\.1:1: .*ECONNREFUSED/ });
  });

  it('the command: a table on stdout, progress on stderr, --json, and exit codes', async () => {
    const run = async (args: string[]) => {
      const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'bench', '--url', server.url, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c) => (stdout += c));
      child.stderr.on('data', (c) => (stderr += c));
      const [code] = await once(child, 'exit');
      return { code: code as number, stdout, stderr };
    };
    const [table, json, unknown] = await Promise.all([
      run(['--model', 'mlp', '--concurrency', '1,2', '--duration', '1.2', '--warmup', '0']),
      run(['--model', 'mlp', '--duration', '0.3', '--warmup', '0', '--json']),
      run(['--model', 'nope']),
    ]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^model mlp over HTTP \(JSON\) at http:\/\/127\.0\.0\.1:\d+\n1 row per request \(input FP32 \[1,30\]; \d+ B\)/);
    assert.match(table.stdout, /concurrency +requests +req\/s +rows\/s +p50 ms +p90 ms +p95 ms +p99 ms +max ms +errors +batch mean +batch p50\n +1 +\d+ .*\n +2 +\d+ /);
    assert.match(table.stdout, /inside the server \(means from its \/metrics\).*\nconcurrency +request ms +queue ms +run ms +client mean ms\n +1 +[\d.]+ +[\d.]+ +[\d.]+ +[\d.]+\n +2 +[\d.]+ /);
    assert.match(table.stderr, /^concurrency 1 \| \d\.\d\/1\.2 s \| \d+ requests \| \d+ req\/s \| 0 errors$/m, 'a plain progress line when stderr is not a terminal');
    assert.equal(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout) as BenchReport;
    assert.equal(report.model, 'mlp');
    assert.equal(report.levels.length, 1);
    assert.equal(typeof report.levels[0]!.latencyMs!.p99, 'number');
    assert.notEqual(unknown.code, 0);
    assert.equal(unknown.stderr, `ferry bench: model 'nope' not found at ${server.url}: Request for unknown model 'nope'\n`);
    assert.equal(unknown.stdout, '');
  });
});

/**
 * A stand-in V2 server (another vendor's, as far as the bench knows): metadata, an inference answer, and
 * optionally a /metrics page whose batch-size histogram records 4 rows per run, 2 runs per request, and (`times`)
 * duration histograms of 3 ms a request, 0.5 ms of it queued, and 1 ms a run.
 */
async function standIn(withMetrics: boolean, times = false): Promise<{ url: string; close: () => Promise<void> }> {
  let runs = 0;
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/v2/models/stub') {
        res.end(JSON.stringify({ name: 'stub', versions: ['3'], platform: 'x', inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }], outputs: [{ name: 'y', datatype: 'FP32', shape: [-1] }] }));
      } else if (req.url === '/v2/models/stub/infer') {
        runs += 2;
        res.end('{"model_name":"stub","model_version":"3","outputs":[{"name":"y","datatype":"FP32","shape":[1],"data":[0.5]}]}');
      } else if (req.url === '/metrics' && withMetrics) {
        const le = (b: string, n: number) => `ferry_batch_size_bucket{le="${b}",model="stub",version="3"} ${n}\n`;
        const requests = runs / 2;
        const seconds = (name: string, each: number, n: number) =>
          `${name}_bucket{le="+Inf",model="stub",version="3"} ${n}\n${name}_sum{model="stub",version="3"} ${n * each}\n${name}_count{model="stub",version="3"} ${n}\n`;
        const durations = times ? seconds('ferry_request_duration_seconds', 0.003, requests) + seconds('ferry_queue_duration_seconds', 0.0005, requests) + seconds('ferry_inference_duration_seconds', 0.001, runs) : '';
        res.end(`# TYPE ferry_batch_size histogram\n${le('1', 0)}${le('2', 0)}${le('4', runs)}${le('8', runs)}${le('+Inf', runs)}ferry_batch_size_sum{model="stub",version="3"} ${runs * 4}\nferry_batch_size_count{model="stub",version="3"} ${runs}\n${durations}`);
      } else {
        res.statusCode = 404;
        res.end('{"error":"not here"}');
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}

describe('ferry bench against other V2 servers', () => {
  it('reports batch sizes from a ferry_batch_size histogram: the runs within the measured window', async () => {
    const stub = await standIn(true);
    try {
      const report = await runBench({ model: 'stub', url: stub.url, concurrency: [2], ...QUICK });
      const level = report.levels[0]!;
      assertClean(level, 1);
      const b = level.batchSize!;
      assert.equal(b.mean, 4);
      assert.ok(b.p50 > 2 && b.p50 <= 4, `p50 ${b.p50} within the bucket (2, 4]`);
      // Two runs per request: the window's runs are about twice its requests (give or take the edges).
      assert.ok(Math.abs(b.runs / 2 - level.requests) <= Math.max(20, level.requests * 0.2), `${b.runs} runs for ${level.requests} requests`);
      assert.equal(level.serverTimes, null, 'no duration histograms: no server times');
    } finally {
      await stub.close();
    }
  });

  it('reports the mean request, queue and run times inside the server from its duration histograms, over the measured window', async () => {
    const stub = await standIn(true, true);
    try {
      const report = await runBench({ model: 'stub', url: stub.url, concurrency: [2], ...QUICK });
      const t = report.levels[0]!.serverTimes!;
      assert.ok(Math.abs(t.requestMs! - 3) < 1e-9 && Math.abs(t.queueMs! - 0.5) < 1e-9 && Math.abs(t.runMs! - 1) < 1e-9, JSON.stringify(t));
    } finally {
      await stub.close();
    }
  });

  it('without /metrics the batch sizes are n/a and the rest of the report is whole', async () => {
    const stub = await standIn(false);
    try {
      const report = await runBench({ model: 'stub', url: stub.url, duration: 0.3, warmup: 0 });
      assertClean(report.levels[0]!, 1);
      assert.equal(report.levels[0]!.batchSize, null);
      assert.equal(report.levels[0]!.serverTimes, null);
    } finally {
      await stub.close();
    }
  });
});
