/**
 * Traffic splits on the real server (config.yaml `traffic`): shares by weight within binomial bounds, sticky keys
 * that never switch variants and move as few users as possible when a weight changes, `/versions/N` bypassing the
 * split, another model as a variant, who answered said in the body, X-Ferry-Variant and gRPC's `ferry-variant`
 * trailer, fallbacks and missing keys counted, and bad splits refused with the field named.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { postJson, request, startTestServer, type TestServer } from '../helpers/server.js';
import { TempRepository } from '../helpers/repository.js';
import { asRequestInputs, referenceModels } from '../helpers/reference.js';
import { V2GrpcClient } from '../helpers/grpc-client.js';
import { until } from '../helpers/wait.js';
import { loadRuntime, type RuntimeLoader } from '../../src/runtime/load.js';

const inputs = asRequestInputs(referenceModels().find((r) => r.model === 'mlp')!.cases[0]!.inputs);
const split = (weights: [number, number], extra = '') => `version_policy: {all: {}}\ntraffic:\n  variants:\n    - {version: 1, weight: ${weights[0]}}\n    - {version: 2, weight: ${weights[1]}}\n${extra}`;

async function infer(server: TestServer, body: object = {}, headers: Record<string, string> = {}) {
  return request(`${server.url}/v2/models/m/infer`, { method: 'POST', body: JSON.stringify({ inputs, ...body }), headers: { 'content-type': 'application/json', ...headers } });
}

/** `n` requests, 50 at a time; counts by X-Ferry-Variant. */
async function shares(server: TestServer, n: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let done = 0; done < n; done += 50) {
    const replies = await Promise.all(Array.from({ length: Math.min(50, n - done) }, () => infer(server)));
    for (const r of replies) {
      assert.equal(r.status, 200, r.text);
      const v = r.headers.get('x-ferry-variant')!;
      assert.equal(`v${r.body.model_version}`, v, 'the body and the header agree on who answered');
      counts[v] = (counts[v] ?? 0) + 1;
    }
  }
  return counts;
}

/** Within 4.5 standard deviations of n * p: fails by chance about once in 150,000 runs. */
function assertBinomial(observed: number, n: number, p: number, what: string): void {
  const sd = Math.sqrt(n * p * (1 - p));
  assert.ok(Math.abs(observed - n * p) <= 4.5 * sd, `${what}: ${observed} of ${n}, expected ${n * p} +/- ${(4.5 * sd).toFixed(0)}`);
}

const metric = async (server: TestServer, pattern: RegExp): Promise<number> => Number(pattern.exec((await request(`${server.url}/metrics`)).text)?.[1] ?? 0);

describe('traffic split', () => {
  let repo: TempRepository;
  let server: TestServer;
  let loads = 0;
  const counting: RuntimeLoader = (file, context) => {
    loads++;
    return loadRuntime(file, context);
  };

  before(async () => {
    repo = new TempRepository().copyModel('mlp', 'm', 1).copyModel('mlp', 'm', 2).copyModel('mlp', 'other', 1).write('m/config.yaml', split([90, 10]));
    server = await startTestServer({ modelRepository: repo.root, repositoryPollSecs: 0.1, loader: counting });
  });
  after(async () => {
    await server.stop();
    repo.remove();
  });

  it('splits requests without a version by weight: 90/10, then 50/50 (binomial bounds)', async () => {
    let n = 2000;
    let counts = await shares(server, n);
    assertBinomial(counts.v2 ?? 0, n, 0.1, '90/10: v2');
    assert.equal((counts.v1 ?? 0) + (counts.v2 ?? 0), n);
    const loadsBefore = loads;
    repo.write('m/config.yaml', split([50, 50]));
    await until('the new weights', async () => {
      const c = await shares(server, 200);
      return (c.v2 ?? 0) > 60;
    });
    assert.equal(loads, loadsBefore, 'a weight change reloads no version');
    n = 2000;
    counts = await shares(server, n);
    assertBinomial(counts.v2 ?? 0, n, 0.5, '50/50: v2');
    assert.match((await request(`${server.url}/metrics`)).text, /ferry_traffic_requests_total\{model="m",variant="v2"\} \d+/);
  });

  it('keeps each sticky key on one variant, and moves only the keys that must when a weight grows', async () => {
    repo.write('m/config.yaml', split([80, 20], '  sticky: {parameter: user_id, header: X-User-Id}\n'));
    // Applied once a request without the key is counted as unkeyed (only a sticky split counts them).
    await until('the sticky split', async () => {
      const before = await metric(server, /ferry_traffic_unkeyed_total\{model="m"\} (\d+)/);
      await infer(server);
      return (await metric(server, /ferry_traffic_unkeyed_total\{model="m"\} (\d+)/)) > before;
    });
    const users = Array.from({ length: 300 }, (_, i) => `user-${i}`);
    const first = new Map<string, string>();
    for (const u of users) {
      const a = await infer(server, { parameters: { user_id: u } });
      const b = await infer(server, {}, { 'x-user-id': u }); // the header: the same key, the same variant
      const c = await infer(server, { parameters: { user_id: u } });
      assert.equal(a.headers.get('x-ferry-variant'), c.headers.get('x-ferry-variant'), `${u} switched variants`);
      assert.equal(a.headers.get('x-ferry-variant'), b.headers.get('x-ferry-variant'), `${u} by header`);
      first.set(u, a.headers.get('x-ferry-variant')!);
    }
    assertBinomial([...first.values()].filter((v) => v === 'v2').length, users.length, 0.2, 'sticky 80/20: v2 users');
    repo.write('m/config.yaml', split([60, 40], '  sticky: {parameter: user_id}\n'));
    await until('the new weights', async () => {
      let moved = 0;
      for (const u of users.slice(0, 60)) if ((await infer(server, { parameters: { user_id: u } })).headers.get('x-ferry-variant') !== first.get(u)) moved++;
      return moved > 0;
    });
    let toV2 = 0;
    for (const u of users) {
      const now = (await infer(server, { parameters: { user_id: u } })).headers.get('x-ferry-variant');
      if (first.get(u) === 'v2') assert.equal(now, 'v2', `${u} left the variant that gained weight`);
      else if (now === 'v2') toV2++;
    }
    // From 20% to 40%: about a quarter of the v1 users move (0.2 / 0.8), and no one moves the other way.
    assertBinomial(toV2, [...first.values()].filter((v) => v === 'v1').length, 0.25, 'users moved to v2');
  });

  it('routes a request without its sticky key at random, and counts it', async () => {
    const before = await metric(server, /ferry_traffic_unkeyed_total\{model="m"\} (\d+)/);
    assert.equal((await infer(server)).status, 200);
    assert.equal(await metric(server, /ferry_traffic_unkeyed_total\{model="m"\} (\d+)/), before + 1);
  });

  it('lets /versions/N bypass the split (no variant header)', async () => {
    for (let i = 0; i < 20; i++) {
      const r = await postJson(`${server.url}/v2/models/m/versions/1/infer`, { inputs });
      assert.equal(r.body.model_version, '1');
      assert.equal(r.headers.get('x-ferry-variant'), null);
    }
  });

  it('takes another model as a variant, says it answered, and over gRPC sends the ferry-variant trailer', async () => {
    repo.write('m/config.yaml', 'version_policy: {all: {}}\ntraffic:\n  variants:\n    - {version: 2, weight: 0}\n    - {model: other, weight: 1, name: challenger}\n');
    await until('the model variant', async () => (await infer(server)).headers.get('x-ferry-variant') === 'challenger');
    const r = await infer(server);
    assert.equal(r.body.model_name, 'other');
    assert.equal(r.body.model_version, '1');
    const client = new V2GrpcClient(server.grpcAddress);
    try {
      const call = await new Promise<{ response: any; trailer: grpc.Metadata }>((resolve, reject) => {
        let trailer: grpc.Metadata | undefined;
        const c = (client as any).client.ModelInfer({ model_name: 'm', inputs: [{ name: 'input', datatype: 'FP32', shape: (inputs[0] as any).shape, contents: { fp32_contents: (inputs[0] as any).data } }] }, (err: Error | null, response: any) => (err ? reject(err) : setImmediate(() => resolve({ response, trailer: trailer! }))));
        c.on('status', (s: grpc.StatusObject) => (trailer = s.metadata));
      });
      assert.equal(call.response.model_name, 'other');
      assert.deepEqual(call.trailer.get('ferry-variant'), ['challenger']);
    } finally {
      client.close();
    }
  });

  it('sends a variant that cannot answer to the next one, and counts the fallback', async () => {
    repo.write('m/config.yaml', 'version_policy: {all: {}}\ntraffic:\n  variants:\n    - {version: 1, weight: 1}\n    - {model: missing, weight: 1000}\n');
    // Applied once its variants' series exist (bound, at 0, when a split is applied).
    await until('the split with a missing model', async () => /ferry_traffic_requests_total\{model="m",variant="missing"\}/.test((await request(`${server.url}/metrics`)).text));
    for (let i = 0; i < 10; i++) assert.equal((await infer(server)).headers.get('x-ferry-variant'), 'v1');
    assert.ok((await metric(server, /ferry_traffic_fallbacks_total\{model="m",variant="missing"\} (\d+)/)) >= 10);
  });

  it('refuses a bad split at load, naming the field, and keeps serving what it served', async () => {
    for (const [config, message] of [
      ['traffic:\n  variants:\n    - {version: 1, weight: 0}\n', /traffic\.variants: the weights must add up to more than 0/],
      ['traffic:\n  variants:\n    - {version: 1, model: other, weight: 1}\n', /a variant names either a version or a model/],
      ['traffic:\n  variants:\n    - {version: 1, weight: 1, share: 3}\n', /traffic\.variants\.0: unknown key 'share'/],
      ['traffic:\n  variants: []\n', /traffic\.variants: /],
      ['traffic:\n  variants:\n    - {version: 1, weight: 1}\n  sticky: {}\n', /sticky needs a parameter or a header/],
    ] as const) {
      repo.write('m/config.yaml', config);
      await until(`the problem: ${message}`, async () => {
        const rows = (await (await fetch(`${server.url}/v2/repository/index`)).json()) as { name: string; reason?: string }[];
        return rows.some((r) => r.name === 'm' && message.test(r.reason ?? ''));
      });
      assert.equal((await infer(server)).status, 200, 'still serving');
    }
  });
});
