/**
 * Triton's system shared memory extension on the real server (--allow-client-shm): regions made under /dev/shm as a
 * client makes them, registered over REST and gRPC, the image CNN's input read from one and its logits written into
 * another (checked against the same request sent as JSON), BYTES both ways, a region unregistered while a request
 * holds it, and every refusal: keys outside /dev/shm, links, directories, sizes and offsets past the end, unknown
 * regions, data given twice. Without the flag the extension refuses with the reason; CUDA shared memory is refused.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { postJson, request, startTestServer, type TestServer } from '../helpers/server.js';
import { TempRepository } from '../helpers/repository.js';
import { V2GrpcClient } from '../helpers/grpc-client.js';
import { until } from '../helpers/wait.js';

const SHM = '/dev/shm';
const TAG = `ferry-test-${process.pid}`;
const IMAGE_BYTES = 3 * 128 * 128 * 4;

/** Upper-cases its BYTES input; with `wait` in its parameters, marks its start in that file and takes 600 ms. */
const SHOUT = `
import { writeFileSync } from 'node:fs';
export const load = ({ parameters }) => ({
  inputs: [{ name: 'text', datatype: 'BYTES', shape: [-1] }],
  outputs: [{ name: 'loud', datatype: 'BYTES', shape: [-1] }],
  async predict({ text }) {
    if (parameters.wait) {
      writeFileSync(parameters.wait, 'started');
      await new Promise((r) => setTimeout(r, 600));
    }
    return { loud: { data: text.data.map((s) => s.toUpperCase()), shape: text.shape } };
  },
});
`;

/** A file under /dev/shm, as shm_open makes it; its key is '/NAME'. */
function shmFile(name: string, bytes: Uint8Array | number): string {
  writeFileSync(join(SHM, `${TAG}-${name}`), typeof bytes === 'number' ? new Uint8Array(bytes) : bytes);
  return `/${TAG}-${name}`;
}

const readShm = (name: string): Buffer => readFileSync(join(SHM, `${TAG}-${name}`));

/** Triton's serialized BYTES: a 4-byte little-endian length before each element. */
function serialize(strings: string[]): Buffer {
  return Buffer.concat(strings.flatMap((s) => [Buffer.from(Uint32Array.of(Buffer.byteLength(s)).buffer), Buffer.from(s)]));
}

function image(): Float32Array {
  const x = new Float32Array(IMAGE_BYTES / 4);
  for (let i = 0; i < x.length; i++) x[i] = ((i * 7919) % 1000) / 1000;
  return x;
}

const register = (server: TestServer, region: string, body: object) => postJson(`${server.url}/v2/systemsharedmemory/region/${region}/register`, body);
const shmParams = (region: string, size: number, offset?: number) => ({
  shared_memory_region: region, shared_memory_byte_size: size, ...(offset !== undefined ? { shared_memory_offset: offset } : {}),
});

describe("Triton's system shared memory extension", () => {
  let repo: TempRepository;
  let server: TestServer;
  let grpc: V2GrpcClient;
  const started = join(tmpdir(), `${TAG}-started`);
  const x = image();
  let logits: number[];

  before(async () => {
    repo = new TempRepository().copyModel('image_cnn', 'cnn').copyModel('two_inputs', 'two');
    repo.write('shout/1/model.mjs', SHOUT).write('slow_shout/1/model.mjs', SHOUT).write('slow_shout/config.yaml', `parameters: {wait: ${JSON.stringify(started)}}\n`);
    // The largest body is 2 MiB (one image as JSON fits); the bound holds for what a request reads from regions too.
    server = await startTestServer({ modelRepository: repo.root, allowClientShm: 'local', maxBodyBytes: 2 * 1024 * 1024 });
    grpc = new V2GrpcClient(server.grpcAddress);
    const plain = await postJson(`${server.url}/v2/models/cnn/infer`, { inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 3, 128, 128], data: [...x] }] });
    logits = plain.body.outputs[0].data;
  });
  after(async () => {
    grpc.close();
    await server.stop();
    repo.remove();
    for (const name of ['in', 'out', 'text', 'loud', 'small', 'link', 'dir', 'g_in', 'g_out', 'features', 'cut', 'big']) rmSync(join(SHM, `${TAG}-${name}`), { recursive: true, force: true });
    rmSync(started, { force: true });
  });

  it('lists system_shared_memory among the extensions', async () => {
    assert.ok((await request(`${server.url}/v2`)).body.extensions.includes('system_shared_memory'));
  });

  it('reads the CNN input from one region and writes its logits into another (REST)', async () => {
    const inKey = shmFile('in', new Uint8Array(x.buffer));
    // The output region starts 16 bytes into its file, and the output 4 bytes into the region.
    const outKey = shmFile('out', 64);
    assert.equal((await register(server, 'cnn_in', { key: inKey, byte_size: IMAGE_BYTES })).status, 200);
    const out = await register(server, 'cnn_out', { key: outKey, offset: 16, byte_size: 48 });
    assert.equal(out.status, 200, out.text);
    assert.deepEqual((await request(`${server.url}/v2/systemsharedmemory/status`)).body, [
      { name: 'cnn_in', key: inKey, offset: 0, byte_size: IMAGE_BYTES },
      { name: 'cnn_out', key: outKey, offset: 16, byte_size: 48 },
    ]);
    assert.deepEqual((await request(`${server.url}/v2/systemsharedmemory/region/cnn_out/status`)).body, [{ name: 'cnn_out', key: outKey, offset: 16, byte_size: 48 }]);

    const reply = await postJson(`${server.url}/v2/models/cnn/infer`, {
      inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 3, 128, 128], parameters: shmParams('cnn_in', IMAGE_BYTES) }],
      outputs: [{ name: 'logits', parameters: shmParams('cnn_out', 40, 4) }],
    });
    assert.equal(reply.status, 200, reply.text);
    assert.deepEqual(reply.body.outputs, [{ name: 'logits', datatype: 'FP32', shape: [1, 10], parameters: { shared_memory_region: 'cnn_out', shared_memory_byte_size: 40 } }]);
    const file = readShm('out');
    const written = new Float32Array(file.buffer.slice(file.byteOffset + 20, file.byteOffset + 60));
    for (let i = 0; i < 10; i++) assert.ok(Math.abs(written[i]! - logits[i]!) < 1e-6, `logit ${i}: ${written[i]} vs ${logits[i]}`);
    assert.deepEqual([...file.subarray(0, 20)], new Array(20).fill(0), 'nothing written before the slice');

    // The input from shared memory and the answer in JSON; and binary_data_output leaves a placed output placed.
    const mixed = await postJson(`${server.url}/v2/models/cnn/infer`, { inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 3, 128, 128], parameters: shmParams('cnn_in', IMAGE_BYTES) }] });
    assert.deepEqual(mixed.body.outputs[0].data.map((v: number) => v.toFixed(5)), logits.map((v) => v.toFixed(5)));
    const binary = await postJson(`${server.url}/v2/models/cnn/infer`, {
      parameters: { binary_data_output: true },
      inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 3, 128, 128], parameters: shmParams('cnn_in', IMAGE_BYTES) }],
      outputs: [{ name: 'logits', parameters: shmParams('cnn_out', 40) }],
    });
    assert.equal(binary.headers.get('content-type'), 'application/json');
    assert.deepEqual(binary.body.outputs[0].parameters, { shared_memory_region: 'cnn_out', shared_memory_byte_size: 40 });
  });

  it('carries BYTES through shared memory, serialized as Triton does', async () => {
    const text = serialize(['ferry', 'shm']);
    assert.equal((await register(server, 'text', { key: shmFile('text', text), byte_size: text.length })).status, 200);
    assert.equal((await register(server, 'loud', { key: shmFile('loud', 32), byte_size: 32 })).status, 200);
    const reply = await postJson(`${server.url}/v2/models/shout/infer`, {
      inputs: [{ name: 'text', datatype: 'BYTES', shape: [2], parameters: shmParams('text', text.length) }],
      outputs: [{ name: 'loud', parameters: shmParams('loud', 32) }],
    });
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.body.outputs[0].parameters.shared_memory_byte_size, text.length);
    assert.deepEqual(readShm('loud').subarray(0, text.length), serialize(['FERRY', 'SHM']));
  });

  it('registers, reads and writes through gRPC, answering an empty raw entry for a placed output', async () => {
    const inKey = shmFile('g_in', new Uint8Array(x.buffer));
    const outKey = shmFile('g_out', 40);
    for (const [name, key, size] of [['g_in', inKey, IMAGE_BYTES], ['g_out', outKey, 40]] as const) {
      const { error } = await grpc.call('SystemSharedMemoryRegister', { name, key, offset: 0, byte_size: size });
      assert.equal(error, null);
    }
    const status = await grpc.call('SystemSharedMemoryStatus', { name: 'g_out' });
    assert.deepEqual(status.response.regions, { g_out: { name: 'g_out', key: outKey, offset: '0', byte_size: '40' } });
    const { error, response } = await grpc.call('ModelInfer', {
      model_name: 'cnn',
      inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 3, 128, 128], parameters: { shared_memory_region: { string_param: 'g_in' }, shared_memory_byte_size: { int64_param: IMAGE_BYTES } } }],
      outputs: [{ name: 'logits', parameters: { shared_memory_region: { string_param: 'g_out' }, shared_memory_byte_size: { int64_param: 40 } } }],
    });
    assert.equal(error, null, error?.message);
    assert.deepEqual(response.outputs[0].shape, ['1', '10']);
    assert.equal(response.outputs[0].parameters.shared_memory_region.string_param, 'g_out');
    assert.deepEqual(response.raw_output_contents.map((r: Uint8Array) => r.length), [0]);
    const file = readShm('g_out');
    const written = new Float32Array(file.buffer.slice(file.byteOffset, file.byteOffset + 40));
    for (let i = 0; i < 10; i++) assert.ok(Math.abs(written[i]! - logits[i]!) < 1e-6);

    // A typed input beside nothing raw, and a shared one: raw_input_contents counts only the inputs not in shared memory.
    const miscount = await grpc.call('ModelInfer', {
      model_name: 'cnn',
      inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 3, 128, 128], parameters: { shared_memory_region: { string_param: 'g_in' }, shared_memory_byte_size: { int64_param: IMAGE_BYTES } } }],
      raw_input_contents: [Buffer.alloc(4)],
    });
    assert.equal(miscount.error?.code, 3);
    assert.match(miscount.error!.details, /raw_input_contents has 1 entries but there are 0 inputs not in shared memory/);
    // Two inputs, the first in shared memory and the second raw: the second takes raw_input_contents[0].
    const features = Float32Array.from({ length: 8 }, (_, i) => i / 8);
    assert.equal((await grpc.call('SystemSharedMemoryRegister', { name: 'features', key: shmFile('features', new Uint8Array(features.buffer)), offset: 0, byte_size: 32 })).error, null);
    const category = Buffer.from(BigInt64Array.of(3n).buffer);
    const mixedCall = (first: object) => grpc.call('ModelInfer', {
      model_name: 'two',
      inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 8], ...first }, { name: 'category', datatype: 'INT64', shape: [1] }],
      raw_input_contents: 'contents' in first ? [] : [category],
    });
    const viaShm = await mixedCall({ parameters: { shared_memory_region: { string_param: 'features' }, shared_memory_byte_size: { int64_param: 32 } } });
    assert.equal(viaShm.error, null, viaShm.error?.message);
    const typed = await grpc.call('ModelInfer', {
      model_name: 'two',
      inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 8], contents: { fp32_contents: [...features] } }, { name: 'category', datatype: 'INT64', shape: [1], contents: { int64_contents: ['3'] } }],
    });
    assert.equal(typed.error, null, typed.error?.message);
    assert.deepEqual(viaShm.response.raw_output_contents.map((r: Uint8Array) => [...r]), typed.response.raw_output_contents.map((r: Uint8Array) => [...r]));
    // An entry with no value set names no region: the input then needs data like any other.
    const empty = await mixedCall({ parameters: { shared_memory_region: {} } });
    assert.equal(empty.error?.code, 3);
    assert.match(empty.error!.details, /raw_input_contents has 1 entries but there are 2 inputs/);
    assert.equal((await grpc.call('SystemSharedMemoryUnregister', { name: 'g_in' })).error, null);
    assert.equal((await grpc.call('SystemSharedMemoryStatus', { name: 'g_in' })).error?.code, 5);
    assert.equal((await grpc.call('SystemSharedMemoryRegister', { name: 'g_x', key: '/../etc/passwd', byte_size: 4 })).error?.code, 3);
  });

  it('refuses keys outside /dev/shm, links, directories and sizes past the end, saying which', async () => {
    const cases: [object, RegExp][] = [
      [{ key: '/../etc/passwd', byte_size: 4 }, /not a POSIX shared memory name/],
      [{ key: '/dev/shm/x', byte_size: 4 }, /not a POSIX shared memory name/],
      [{ key: '..', byte_size: 4 }, /not a POSIX shared memory name/],
      [{ key: '/sem.lock', byte_size: 4 }, /POSIX semaphore/],
      [{ key: `/${TAG}-absent`, byte_size: 4 }, /no such shared memory object/],
      [{ key: shmFile('small', 32), byte_size: 33 }, /offset 0 \+ byte_size 33 goes past the end of key .* which holds 32 bytes/],
      [{ key: `/${TAG}-small`, offset: 30, byte_size: 4 }, /goes past the end/],
      [{ key: `/${TAG}-small`, byte_size: -1 }, /'byte_size' must be a non-negative integer/],
      [{ key: `/${TAG}-small` }, /'byte_size' must be a non-negative integer number of bytes, got nothing/],
      [{ byte_size: 4 }, /needs 'key'/],
      [{ key: `/${TAG}-small`, byte_size: 4, path: '/etc/passwd' }, /got 'path' too/],
    ];
    symlinkSync('/etc/hostname', join(SHM, `${TAG}-link`));
    cases.push([{ key: `/${TAG}-link`, byte_size: 4 }, /symbolic link/]);
    mkdirSync(join(SHM, `${TAG}-dir`));
    cases.push([{ key: `/${TAG}-dir`, byte_size: 0 }, /directory|not a regular file/]);
    for (const [body, message] of cases) {
      const reply = await register(server, 'bad', body);
      assert.equal(reply.status, 400, `${JSON.stringify(body)}: ${reply.text}`);
      assert.match(reply.body.error, message);
    }
    assert.equal((await request(`${server.url}/v2/systemsharedmemory/region/bad/status`)).status, 404);
    assert.equal((await register(server, 'small', { key: `/${TAG}-small`, byte_size: 32 })).status, 200);
    const twice = await register(server, 'small', { key: `/${TAG}-small`, byte_size: 8 });
    assert.equal(twice.status, 409);
    assert.match(twice.body.error, /already registered/);
  });

  it('refuses requests that name too much, too little or the unknown', async () => {
    const cnn = (params: object, extra: object = {}) => postJson(`${server.url}/v2/models/cnn/infer`, {
      inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 3, 128, 128], parameters: params, ...extra }],
    });
    const cases: [Promise<{ status: number; body: any }>, number, RegExp][] = [
      [cnn(shmParams('cnn_in', IMAGE_BYTES, 4)), 400, /offset 4 \+ shared_memory_byte_size 196608 goes past the end of region 'cnn_in'/],
      [cnn(shmParams('cnn_in', IMAGE_BYTES, 10 ** 9)), 400, /shared_memory_offset 1000000000 is past the end/],
      [cnn(shmParams('cnn_in', 400)), 400, /shared_memory_byte_size is 400, but FP32 \[1,3,128,128\] takes 196608 bytes/],
      [cnn(shmParams('nowhere', IMAGE_BYTES)), 404, /no shared memory region 'nowhere' is registered/],
      [cnn(shmParams('cnn_in', 0, IMAGE_BYTES)), 400, /shared_memory_offset 196608 is past the end of region 'cnn_in'/],
      [postJson(`${server.url}/v2/models/nope/infer`, { inputs: [{ name: 'image', datatype: 'FP32', shape: [1], parameters: shmParams('nowhere', 4) }] }), 404, /Request for unknown model 'nope'/],
      [cnn({ shared_memory_region: 'cnn_in' }), 400, /needs shared_memory_byte_size/],
      [cnn(shmParams('cnn_in', IMAGE_BYTES), { data: [1] }), 400, /give its data one way/],
      [cnn({ ...shmParams('cnn_in', IMAGE_BYTES), shared_memory_offset: 'far' }), 400, /shared_memory_offset must be a non-negative integer/],
    ];
    assert.equal((await register(server, 'big', { key: shmFile('big', 16 * IMAGE_BYTES), byte_size: 16 * IMAGE_BYTES })).status, 200);
    const big = postJson(`${server.url}/v2/models/cnn/infer`, {
      inputs: [{ name: 'image', datatype: 'FP32', shape: [16, 3, 128, 128], parameters: shmParams('big', 16 * IMAGE_BYTES) }],
    });
    cases.push([big, 413, /the inputs read from shared memory take 3145728 bytes, more than the 2097152 a request may carry/]);
    // A negative size cannot offset a big one against the bound: each size is checked before anything is read.
    const negative = postJson(`${server.url}/v2/models/two/infer`, {
      inputs: [
        { name: 'features', datatype: 'FP32', shape: [1, 8], parameters: shmParams('features', 32) },
        { name: 'category', datatype: 'INT64', shape: [1], parameters: shmParams('cnn_in', -32) },
      ],
    });
    cases.push([negative, 400, /input 'category': shared_memory_byte_size must be a non-negative integer/]);
    const small = postJson(`${server.url}/v2/models/cnn/infer`, {
      inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 3, 128, 128], parameters: shmParams('cnn_in', IMAGE_BYTES) }],
      outputs: [{ name: 'logits', parameters: shmParams('small', 12) }],
    });
    cases.push([small, 400, /holds 12 bytes, but the result \(FP32 \[1,10\]\) takes 40: give a larger shared_memory_byte_size/]);
    const both = postJson(`${server.url}/v2/models/cnn/infer`, {
      inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 3, 128, 128], parameters: shmParams('cnn_in', IMAGE_BYTES) }],
      outputs: [{ name: 'logits', parameters: { ...shmParams('small', 12), binary_data: true } }],
    });
    cases.push([both, 400, /either shared_memory_region or binary_data/]);
    const regionless = postJson(`${server.url}/v2/models/cnn/infer`, {
      inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 3, 128, 128], parameters: shmParams('cnn_in', IMAGE_BYTES) }],
      outputs: [{ name: 'logits', parameters: { shared_memory_byte_size: 40 } }],
    });
    cases.push([regionless, 400, /output 'logits': shared_memory_byte_size and shared_memory_offset need shared_memory_region beside them/]);
    for (const [reply, status, message] of cases) {
      const r = await reply;
      assert.equal(r.status, status, JSON.stringify(r.body));
      assert.match(r.body.error, message);
    }
  });

  it('says so when a region was cut short after it was registered, and never grows the file', async () => {
    assert.equal((await register(server, 'cut', { key: shmFile('cut', 64), byte_size: 64 })).status, 200);
    truncateSync(join(SHM, `${TAG}-cut`), 8);
    const read = await postJson(`${server.url}/v2/models/shout/infer`, { inputs: [{ name: 'text', datatype: 'BYTES', shape: [1], parameters: shmParams('cut', 16) }] });
    assert.equal(read.status, 400);
    assert.match(read.body.error, /is now shorter than the region registered on it/);
    const write = await postJson(`${server.url}/v2/models/shout/infer`, {
      inputs: [{ name: 'text', datatype: 'BYTES', shape: [1], data: ['a'] }],
      outputs: [{ name: 'loud', parameters: shmParams('cut', 32, 4) }],
    });
    assert.equal(write.status, 400);
    assert.equal(readShm('cut').length, 8);
    assert.equal((await postJson(`${server.url}/v2/systemsharedmemory/region/cut/unregister`, {})).status, 200);
  });

  it('keeps a region a request holds until it is done, though unregistered meanwhile', async () => {
    const descriptors = () => readdirSync('/proc/self/fd').length;
    const text = serialize(['late']);
    writeFileSync(join(SHM, `${TAG}-text`), text);
    assert.equal((await postJson(`${server.url}/v2/systemsharedmemory/region/text/unregister`, {})).status, 200);
    assert.equal((await register(server, 'text', { key: `/${TAG}-text`, byte_size: text.length })).status, 200);
    rmSync(started, { force: true });
    const reply = postJson(`${server.url}/v2/models/slow_shout/infer`, {
      inputs: [{ name: 'text', datatype: 'BYTES', shape: [1], parameters: shmParams('text', text.length) }],
      outputs: [{ name: 'loud', parameters: shmParams('loud', 32) }],
    });
    await until('the slow model to start', () => existsSync(started));
    const whileHeld = descriptors();
    // Every region at once, while the request holds two of them: the names go now, the files stay open for it.
    assert.equal((await postJson(`${server.url}/v2/systemsharedmemory/unregister`, {})).status, 200);
    assert.deepEqual((await request(`${server.url}/v2/systemsharedmemory/status`)).body, []);
    const done = await reply;
    assert.equal(done.status, 200, done.text);
    // The regions' files were kept open for the request, and closed once it was done.
    await until('the held regions to close', () => descriptors() < whileHeld);
    assert.deepEqual(readShm('loud').subarray(0, text.length), serialize(['LATE']));
    const after = await postJson(`${server.url}/v2/models/shout/infer`, {
      inputs: [{ name: 'text', datatype: 'BYTES', shape: [1], parameters: shmParams('text', text.length) }],
    });
    assert.equal(after.status, 404);
    // Unregistering a name that is not registered is no error (Triton's rule).
    assert.equal((await postJson(`${server.url}/v2/systemsharedmemory/region/never/unregister`, {})).status, 200);
  });

  it('holds at most 1024 regions at once (each keeps a file open)', async () => {
    const key = shmFile('small', 32);
    let answered = 200;
    for (let i = 0; answered === 200 && i < 1100; i++) answered = (await register(server, `many-${i}`, { key, byte_size: 8 })).status;
    assert.equal(answered, 429);
    assert.equal((await request(`${server.url}/v2/systemsharedmemory/status`)).body.length, 1024);
    assert.equal((await postJson(`${server.url}/v2/systemsharedmemory/unregister`, {})).status, 200);
    assert.deepEqual((await request(`${server.url}/v2/systemsharedmemory/status`)).body, []);
  });

  it('refuses CUDA shared memory clearly, with nothing to list or unregister', async () => {
    const cuda = await postJson(`${server.url}/v2/cudasharedmemory/region/gpu/register`, { raw_handle: { b64: 'AA==' }, device_id: 0, byte_size: 4 });
    assert.equal(cuda.status, 400);
    assert.match(cuda.body.error, /CUDA shared memory is not supported: ferry runs models on CPU/);
    assert.deepEqual((await request(`${server.url}/v2/cudasharedmemory/status`)).body, []);
    assert.equal((await postJson(`${server.url}/v2/cudasharedmemory/unregister`, {})).status, 200);
    const grpcCuda = await grpc.call('CudaSharedMemoryRegister', { name: 'gpu', raw_handle: Buffer.alloc(64), device_id: 0, byte_size: 4 });
    assert.equal(grpcCuda.error?.code, 12); // UNIMPLEMENTED, as Triton without GPUs
    assert.deepEqual((await grpc.call('CudaSharedMemoryStatus', {})).response.regions, {});
    assert.equal((await request(`${server.url}/v2/systemsharedmemory/status`, { method: 'POST' })).status, 405);
  });
});

describe('system shared memory without --allow-client-shm', () => {
  let repo: TempRepository;
  let server: TestServer;
  let grpc: V2GrpcClient;
  const key = `/${TAG}-off`;
  before(async () => {
    writeFileSync(join(SHM, key.slice(1)), new Uint8Array(8));
    repo = new TempRepository().copyModel('mlp', 'mlp');
    server = await startTestServer({ modelRepository: repo.root });
    grpc = new V2GrpcClient(server.grpcAddress);
  });
  after(async () => {
    grpc.close();
    await server.stop();
    repo.remove();
    rmSync(join(SHM, key.slice(1)), { force: true });
  });

  it('refuses to register, naming the flag; lists nothing; and does not claim the extension', async () => {
    const reply = await register(server, 'r', { key, byte_size: 8 });
    assert.equal(reply.status, 400);
    assert.match(reply.body.error, /client shared memory is off: start ferry with --allow-client-shm/);
    assert.equal((await postJson(`${server.url}/v2/systemsharedmemory/unregister`, {})).status, 400);
    assert.deepEqual((await request(`${server.url}/v2/systemsharedmemory/status`)).body, []);
    assert.ok(!(await request(`${server.url}/v2`)).body.extensions.includes('system_shared_memory'));
    const grpcReply = await grpc.call('SystemSharedMemoryRegister', { name: 'r', key, byte_size: 8 });
    assert.equal(grpcReply.error?.code, 12);
    assert.match(grpcReply.error!.details, /--allow-client-shm/);
    const infer = await postJson(`${server.url}/v2/models/mlp/infer`, {
      inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 30], parameters: shmParams('r', 120) }],
    });
    assert.equal(infer.status, 400);
    assert.match(infer.body.error, /input 'input': client shared memory is off/);
  });
});

describe('system shared memory from a peer that is not on loopback', () => {
  let repo: TempRepository;
  let server: TestServer;
  // This machine's own address on a network interface: a connection to it comes from that address, not loopback.
  const address = Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
  before(async () => {
    assert.ok(address, 'this test needs a non-loopback IPv4 interface, to connect from an address that is not loopback');
    repo = new TempRepository().copyModel('mlp', 'mlp');
    server = await startTestServer({ modelRepository: repo.root, host: '0.0.0.0', allowClientShm: 'local' });
    writeFileSync(join(SHM, `${TAG}-peer`), new Uint8Array(120));
  });
  after(async () => {
    await server.stop();
    repo.remove();
    rmSync(join(SHM, `${TAG}-peer`), { force: true });
  });

  it('refuses registering and using regions to it, naming --allow-client-shm any', async () => {
    const remote = `http://${address}:${server.httpPort}`;
    const reply = await postJson(`${remote}/v2/systemsharedmemory/region/peer/register`, { key: `/${TAG}-peer`, byte_size: 120 });
    assert.equal(reply.status, 403);
    assert.match(reply.body.error, new RegExp(`shared memory is for clients on this machine, and this one connects from ${address!.replace(/\./g, '\\.')}.*--allow-client-shm any`));
    assert.equal((await postJson(`${remote}/v2/systemsharedmemory/unregister`, {})).status, 403);
    assert.equal((await register(server, 'peer', { key: `/${TAG}-peer`, byte_size: 120 })).status, 200); // from loopback
    const infer = { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 30], parameters: shmParams('peer', 120) }] };
    assert.equal((await postJson(`${remote}/v2/models/mlp/infer`, infer)).status, 403);
    assert.equal((await postJson(`${server.url}/v2/models/mlp/infer`, infer)).status, 200);
    const grpc = new V2GrpcClient(`${address}:${server.grpcPort}`);
    try {
      assert.equal((await grpc.call('SystemSharedMemoryRegister', { name: 'p2', key: `/${TAG}-peer`, byte_size: 8 })).error?.code, 7);
      const call = await grpc.call('ModelInfer', { model_name: 'mlp', inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 30], parameters: { shared_memory_region: { string_param: 'peer' }, shared_memory_byte_size: { int64_param: 120 } } }] });
      assert.equal(call.error?.code, 7); // PERMISSION_DENIED
    } finally {
      grpc.close();
    }
  });
});
