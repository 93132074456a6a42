/**
 * Where inference runs: worker threads and child processes answer as the main thread does; a worker killed in
 * the middle of a run is replaced, only its request fails (500), and the next one succeeds. Session options and
 * an unavailable execution provider (CUDA here) fall back to CPU with a warning.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { postJson, request, startTestServer, type TestServer } from '../helpers/server.js';
import { TempRepository } from '../helpers/repository.js';
import { asRequestInputs, assertClose, referenceModels, values, type Reference } from '../helpers/reference.js';
import { V2GrpcClient } from '../helpers/grpc-client.js';
import { binaryRequest, rawPost } from '../helpers/binary.js';
import { sample, scrape, waitForMetric } from '../helpers/metrics.js';

const refs = new Map<string, Reference>(referenceModels().map((r) => [r.model, r]));

async function assertParity(url: string, served: string, model: string): Promise<void> {
  const r = refs.get(model)!;
  for (const c of r.cases) {
    const reply = await postJson(`${url}/v2/models/${served}/infer`, { inputs: asRequestInputs(c.inputs) });
    assert.equal(reply.status, 200, reply.text);
    for (const want of c.outputs) {
      assertClose(reply.body.outputs.find((o: { name: string }) => o.name === want.name), want, r.tolerance, `${served} ${want.name}`);
    }
  }
}

/** Child processes of this test process (the server runs in it, so its inference workers are its children). */
function childPids(): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(process.pid)], { encoding: 'utf8' }).split('\n').map((s) => Number(s.trim())).filter((n) => n > 0);
  } catch {
    return [];
  }
}

/** Niceness of each thread of a process (Linux /proc: field 19 of task/TID/stat); [] once it is gone (ps itself). */
function threadNiceness(pid: number | 'self'): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).map((tid) => {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    });
  } catch {
    return [];
  }
}

describe('inference workers', () => {
  let server: TestServer;
  const repo = new TempRepository();
  const logs: string[] = [];
  before(async () => {
    repo
      .copyModel('image_cnn', 'cnn_thread').write('cnn_thread/config.yaml', 'execution: thread\ninstance_group: [{count: 2}]\nworker_nice: 7\n')
      .copyModel('image_cnn', 'cnn_process').write('cnn_process/config.yaml', 'execution: process\n')
      .copyModel('two_inputs', 'two_inputs_process').write('two_inputs_process/config.yaml', 'execution: process\n')
      .copyModel('mlp', 'mlp_tuned').write('mlp_tuned/config.yaml', [
        'execution: main',
        'session:',
        '  graph_optimization_level: basic',
        '  intra_op_num_threads: 1',
        '  execution_mode: sequential',
        '  execution_providers: [cuda, cpu]',
      ].join('\n'));
    const sink = new Writable({ write(chunk, _enc, done) { logs.push(String(chunk)); done(); } });
    server = await startTestServer({ modelRepository: repo.root, logger: pino({ level: 'info' }, sink) });
  });
  after(async () => {
    await server.stop();
    repo.remove();
  });

  it('worker threads (two instances) and child processes answer as the libraries did', async () => {
    await assertParity(server.url, 'cnn_thread', 'image_cnn');
    await assertParity(server.url, 'cnn_process', 'image_cnn');
    await assertParity(server.url, 'two_inputs_process', 'two_inputs');
    assert.ok(logs.some((l) => l.includes("model 'cnn_thread' version 1: batches up to 64 rows, on 2 worker threads")), logs.join(''));
    assert.ok(logs.some((l) => l.includes("model 'cnn_process' version 1: batches up to 64 rows, on 1 worker process")));
  });

  it('gRPC raw inputs (a message over many HTTP/2 frames) reach worker threads and processes whole, alone and batched', async () => {
    const r = refs.get('image_cnn')!;
    const kase = r.cases[0]!;
    const input = kase.inputs[0]!;
    const raw = Buffer.from(Float32Array.from(values(input) as number[]).buffer);
    assert.ok(raw.length > 64 * 1024, 'the message must span several 16 KiB frames');
    const client = new V2GrpcClient(server.grpcAddress);
    try {
      const infer = (model: string) => client.call('ModelInfer', { model_name: model, inputs: [{ name: input.name, datatype: 'FP32', shape: input.shape }], raw_input_contents: [raw] });
      for (const model of ['cnn_thread', 'cnn_thread', 'cnn_process']) {
        // Three at once: the thread model may batch them (its inputs then meet in one array), the process copies.
        const answers = await Promise.all([infer(model), infer(model), infer(model)]);
        for (const { error, response } of answers) {
          assert.equal(error, null, error?.details);
          response.outputs.forEach((o: { name: string; datatype: string; shape: string[] }, i: number) => {
            const bytes = Buffer.from(response.raw_output_contents[i]);
            const data = Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4));
            assertClose({ name: o.name, datatype: o.datatype, shape: o.shape.map(Number), data }, kase.outputs.find((w) => w.name === o.name)!, r.tolerance, `${model} gRPC ${o.name}`);
          });
        }
      }
    } finally {
      client.close();
    }
  });

  it('workers run at their worker_nice (the default 10, or the config), with onnxruntime threads inheriting it', () => {
    // cnn_thread: two worker threads in this process, each with onnxruntime's pool threads created after the change.
    const mine = threadNiceness('self');
    assert.ok(mine.filter((n) => n === 7).length >= 2, `threads of this process: niceness ${mine.join(',')}`);
    assert.ok(mine.includes(0), 'the main thread keeps its priority');
    // cnn_process and two_inputs_process: child processes at the default.
    const workerProcesses = childPids().filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('worker-entry');
      } catch {
        return false;
      }
    });
    const children = workerProcesses.map((pid) => threadNiceness(pid)).filter((t) => t.length > 0);
    assert.ok(children.length >= 2, 'two worker processes');
    for (const threads of children) assert.ok(threads.filter((n) => n === 10).length >= 1, `worker process threads: niceness ${threads.join(',')}`);
  });

  it('session options apply, and CUDA missing here falls back to CPU with a warning', async () => {
    await assertParity(server.url, 'mlp_tuned', 'mlp');
    assert.ok(logs.some((l) => /model 'mlp_tuned' version 1: execution provider 'cuda' is not available here .*falling back to cpu/.test(l)), logs.filter((l) => l.includes('mlp_tuned')).join(''));
  });

  it('a worker process killed during a run is replaced: only its request fails, with a clear 500, and the next succeeds', async () => {
    const n = 160;
    const big = binaryRequest({ inputs: [{ name: 'image', datatype: 'FP32', shape: [n, 3, 128, 128], parameters: { binary_data_size: n * 3 * 128 * 128 * 4 } }] }, [Buffer.alloc(n * 3 * 128 * 128 * 4)]);
    const starts = sample(await scrape(server.url), 'ferry_queue_duration_seconds_count', { model: 'cnn_process' }) ?? 0;
    const doomed = rawPost(`${server.url}/v2/models/cnn_process/infer`, big.body, big.headers);
    await waitForMetric(server.url, (t) => (sample(t, 'ferry_queue_duration_seconds_count', { model: 'cnn_process' }) ?? 0) > starts);
    // The pool knows its workers' process ids; the server runs in this process, so ask it.
    const pool = server.dataplane.registry.resolve('cnn_process').runtime as unknown as { pids: number[] };
    const busiest = pool.pids[0]!;
    assert.ok(childPids().includes(busiest), `worker ${busiest} is a child process of the server`);
    assert.match(readFileSync(`/proc/${busiest}/environ`, 'latin1'), /(^|\0)MALLOC_MMAP_THRESHOLD_=1048576\0/, 'a worker process gets the fixed mmap threshold (native-memory.ts)');
    process.kill(busiest, 'SIGKILL');
    const failed = await doomed;
    assert.equal(failed.status, 500, failed.body.toString());
    assert.match(failed.body.toString(), /inference worker \(process \d+\) of model 'cnn_process' version 1 was killed by SIGKILL during the run; the worker is being replaced, retry the request/);
    await assertParity(server.url, 'cnn_process', 'image_cnn');
    await assertParity(server.url, 'two_inputs_process', 'two_inputs');
    assert.ok(!childPids().includes(busiest));
    assert.equal((await request(`${server.url}/v2/health/ready`)).status, 200);
  });
});

describe('metrics', () => {
  it('count requests by outcome, and time queue, inference and batch sizes per model version', async () => {
    const repo = new TempRepository().copyModel('mlp', 'mlp');
    const server = await startTestServer({ modelRepository: repo.root });
    try {
      const good = { inputs: asRequestInputs(refs.get('mlp')!.cases[0]!.inputs) };
      const rows = refs.get('mlp')!.cases[0]!.inputs[0]!.shape[0]!;
      for (let i = 0; i < 3; i++) assert.equal((await postJson(`${server.url}/v2/models/mlp/infer`, good)).status, 200);
      assert.equal((await postJson(`${server.url}/v2/models/mlp/infer`, { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 2], data: [1, 2] }] })).status, 400);
      const res = await fetch(`${server.url}/metrics`);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
      const text = await res.text();
      const labels = { model: 'mlp', version: '1' };
      assert.equal(sample(text, 'ferry_requests_total', { ...labels, outcome: 'success' }), 3);
      assert.equal(sample(text, 'ferry_requests_total', { ...labels, outcome: 'client_error' }), 1);
      assert.equal(sample(text, 'ferry_request_duration_seconds_count', labels), 4);
      assert.equal(sample(text, 'ferry_queue_duration_seconds_count', labels), 3);
      assert.equal(sample(text, 'ferry_inference_duration_seconds_count', labels), 3);
      assert.equal(sample(text, 'ferry_batch_size_count', labels), 3, 'one run per request, sent one after another');
      assert.equal(sample(text, 'ferry_batch_size_sum', labels), 3 * rows);
      assert.ok((sample(text, 'ferry_inference_duration_seconds_sum', labels) ?? 0) > 0);
      assert.ok((sample(text, 'process_resident_memory_bytes') ?? 0) > 0, 'process metrics are there too');
    } finally {
      await server.stop();
      repo.remove();
    }
  });
});
