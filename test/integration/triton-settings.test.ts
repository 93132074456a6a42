/**
 * Triton's logging and trace extensions on the real server: the log settings are the log level's, read on the public
 * ports and changed on the management port only (REST and gRPC); tracing is off, says so, and refuses to be turned on
 * with the reason.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { postJson, request, startTestServer, type TestServer } from '../helpers/server.js';
import { TempRepository } from '../helpers/repository.js';
import { V2GrpcClient } from '../helpers/grpc-client.js';

const INFO = { log_file: '', log_info: true, log_warning: true, log_error: true, log_verbose_level: 0, log_format: 'default' };

describe("Triton's logging and trace extensions", () => {
  let repo: TempRepository;
  let server: TestServer;
  const logger = pino({ level: 'info' }, new Writable({ write: (_c, _e, done) => done() }));
  const management = () => `http://127.0.0.1:${server.managementPort}`;
  before(async () => {
    repo = new TempRepository().copyModel('mlp', 'mlp');
    server = await startTestServer({ modelRepository: repo.root, logger });
  });
  after(async () => {
    await server.stop();
    repo.remove();
  });

  it('reads the log settings on the public port, and refuses to change them there', async () => {
    assert.deepEqual((await request(`${server.url}/v2/logging`)).body, INFO);
    const refused = await postJson(`${server.url}/v2/logging`, { log_verbose_level: 1 });
    assert.equal(refused.status, 403);
    assert.match(refused.body.error, /management port/);
    assert.equal(logger.level, 'info');
  });

  it('changes the log level on the management port, refusing what does not map', async () => {
    const verbose = await postJson(`${management()}/v2/logging`, { log_verbose_level: 1 });
    assert.equal(verbose.status, 200, verbose.text);
    assert.equal(verbose.body.log_verbose_level, 1);
    assert.equal(logger.level, 'debug');
    const quiet = await postJson(`${management()}/v2/logging`, { log_verbose_level: 0, log_info: false });
    assert.deepEqual([quiet.body.log_info, quiet.body.log_warning, logger.level], [false, true, 'warn']);
    const file = await postJson(`${management()}/v2/logging`, { log_file: '/tmp/triton.log' });
    assert.equal(file.status, 400);
    assert.match(file.body.error, /log_file cannot be changed: ferry writes its log to standard output/);
    assert.equal((await postJson(`${management()}/v2/logging`, { log_colour: true })).status, 400);
    assert.equal((await postJson(`${management()}/v2/logging`, { log_info: 'yes' })).status, 400);
    await postJson(`${management()}/v2/logging`, { log_info: true });
    assert.equal(logger.level, 'info');
  });

  it('says tracing is off, server-wide and per model, and refuses to turn it on', async () => {
    const off = await request(`${server.url}/v2/trace/setting`);
    assert.equal(off.status, 200);
    assert.deepEqual(off.body.trace_level, ['OFF']);
    assert.deepEqual((await request(`${server.url}/v2/models/mlp/trace/setting`)).body.trace_level, ['OFF']);
    assert.equal((await request(`${server.url}/v2/models/nope/trace/setting`)).status, 404);
    assert.equal((await postJson(`${server.url}/v2/trace/setting`, { trace_level: ['OFF'] })).status, 200);
    const on = await postJson(`${server.url}/v2/trace/setting`, { trace_level: ['TIMESTAMPS'], trace_rate: '1' });
    assert.equal(on.status, 409);
    assert.match(on.body.error, /ferry does not trace requests, so trace_level cannot be set .*\/v2\/models\/NAME\/stats/);
  });

  it('does the same over gRPC: reading on the public port, changing on the management port', async () => {
    const client = new V2GrpcClient(server.grpcAddress);
    const admin = new V2GrpcClient(`127.0.0.1:${server.managementPort}`);
    try {
      const read = await client.call('LogSettings', {});
      assert.equal(read.error, null, read.error?.details);
      assert.equal(read.response.settings.log_info.bool_param, true);
      assert.equal(read.response.settings.log_verbose_level.uint32_param, 0);
      const refused = await client.call('LogSettings', { settings: { log_verbose_level: { uint32_param: 1 } } });
      assert.equal(refused.error?.code, 7, 'PERMISSION_DENIED');
      const changed = await admin.call('LogSettings', { settings: { log_verbose_level: { uint32_param: 1 } } });
      assert.equal(changed.error, null, changed.error?.details);
      assert.equal(changed.response.settings.log_verbose_level.uint32_param, 1);
      assert.equal(logger.level, 'debug');
      await admin.call('LogSettings', { settings: { log_verbose_level: { uint32_param: 0 } } });
      assert.equal(logger.level, 'info');
      const trace = await client.call('TraceSetting', { model_name: 'mlp' });
      assert.deepEqual(trace.response.settings.trace_level.value, ['OFF']);
      const on = await client.call('TraceSetting', { settings: { trace_level: { value: ['TIMESTAMPS'] } } });
      assert.equal(on.error?.code, 9, 'FAILED_PRECONDITION');
    } finally {
      client.close();
      admin.close();
    }
  });
});
