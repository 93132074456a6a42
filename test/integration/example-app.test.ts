/**
 * The example application (examples/app) against a real ferry: it answers with ferry's prediction, answers its
 * fallback (not an error) while ferry is stopped, and recovers by itself when ferry is back on the same port. It
 * imports ferry's client as `ferry/client`, the way an application would (`npm ci` in examples/app links it).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { postJson, request, startTestServer, type TestServer } from '../helpers/server.js';
import { ROOT } from '../helpers/served-process.js';
import { until } from '../helpers/wait.js';

const APP = join(ROOT, 'examples/app');

describe('the example application', () => {
  let ferry: TestServer | undefined;
  let app: ChildProcess;
  let appUrl: string;
  let sample: number[];

  before(async () => {
    assert.ok(existsSync(join(APP, 'node_modules/ferry/package.json')), 'examples/app has no node_modules/ferry: run `npm ci --prefix examples/app` (.ci/run does)');
    sample = (await import(join(APP, 'predict.mjs'))).SAMPLE;
    ferry = await startTestServer();
    app = spawn(process.execPath, [join(APP, 'server.mjs')], { cwd: APP, env: { ...process.env, PORT: '0', FERRY_URL: ferry.url, FERRY_TIMEOUT_MS: '1500' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    app.stdout!.on('data', (c) => (out += c));
    app.stderr!.on('data', (c) => (out += c));
    await until('the app listens', () => {
      if (app.exitCode !== null) throw new Error(`the app exited:\n${out}`);
      return /example app on (http:\/\/\S+),/.test(out);
    });
    appUrl = /example app on (http:\/\/\S+),/.exec(out)![1]!;
  });
  after(async () => {
    app?.kill('SIGTERM');
    await ferry?.stop();
  });

  it('serves its page and answers with ferry\'s prediction', async () => {
    const page = await request(`${appUrl}/`);
    assert.equal(page.status, 200);
    assert.match(page.text, /mean radius/);
    const r = await postJson(`${appUrl}/predict`, { features: sample });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.available, true);
    assert.equal(r.body.label, 'benign');
    assert.ok(r.body.probability > 0.5 && r.body.probability <= 1);
    const bad = await postJson(`${appUrl}/predict`, { features: [1, 2] });
    assert.equal(bad.status, 400);
  });

  it('answers its fallback while ferry is stopped, and recovers when ferry is back', async () => {
    const port = ferry!.httpPort;
    await ferry!.stop();
    ferry = undefined;
    const started = performance.now();
    const down = await postJson(`${appUrl}/predict`, { features: sample });
    assert.equal(down.status, 200, down.text);
    assert.equal(down.body.available, false);
    assert.match(down.body.message, /prediction service is unavailable/);
    assert.ok(performance.now() - started < 5000, 'the fallback comes within the timeout and one retry');

    ferry = await startTestServer({ httpPort: port });
    const back = await postJson(`${appUrl}/predict`, { features: sample });
    assert.equal(back.body.available, true, back.text);
    assert.equal(back.body.label, 'benign');
  });
});
