/**
 * Many different binary images sent at once, to a model in a worker thread (bodies moved there) and to one on the
 * main thread (inputs are views of the bodies), each answered exactly as that image alone is: memory shared between
 * requests by mistake (a body, a batch buffer, a buffer used again too soon) shows here as another image's answer.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { TempRepository } from '../helpers/repository.js';
import { binaryRequest, f32, rawPost, splitBinaryResponse, readF32 } from '../helpers/binary.js';

const PIXELS = 3 * 128 * 128;

/** A distinct image per seed (pixels in [0, 1]). */
function image(seed: number): Buffer {
  return f32(Array.from({ length: PIXELS }, (_, i) => ((i * (seed + 3) + seed * 977) % 251) / 251));
}

async function logits(server: TestServer, model: string, pixels: Buffer): Promise<number[]> {
  const { body, headers } = binaryRequest(
    { inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 3, 128, 128], parameters: { binary_data_size: pixels.length } }], outputs: [{ name: 'logits', parameters: { binary_data: true } }] },
    [pixels],
  );
  const reply = await rawPost(`${server.url}/v2/models/${model}/infer`, body, headers);
  assert.equal(reply.status, 200, reply.body.toString());
  const { rest } = splitBinaryResponse(reply.headers, reply.body);
  return readF32(rest);
}

describe('binary requests at once', () => {
  let repo: TempRepository;
  let server: TestServer;

  before(async () => {
    repo = new TempRepository().copyModel('image_cnn', 'cnn_thread').copyModel('image_cnn', 'cnn_main')
      .write('cnn_thread/config.yaml', 'execution: thread\n').write('cnn_main/config.yaml', 'execution: main\n');
    server = await startTestServer({ modelRepository: repo.root });
  });
  after(async () => {
    await server.stop();
    repo.remove();
  });

  for (const model of ['cnn_thread', 'cnn_main']) {
    it(`answers each of many different images sent at once as it answers that image alone (${model})`, async () => {
      const images = Array.from({ length: 6 }, (_, seed) => image(seed));
      const alone: number[][] = [];
      for (const pixels of images) alone.push(await logits(server, model, pixels));
      for (let i = 1; i < alone.length; i++) assert.notDeepEqual(alone[i], alone[0], 'the images give different answers');
      for (let round = 0; round < 4; round++) {
        const order = Array.from({ length: 36 }, (_, k) => (k * 5 + round) % images.length);
        const answers = await Promise.all(order.map((k) => logits(server, model, images[k]!)));
        answers.forEach((a, j) => {
          const expected = alone[order[j]!]!;
          a.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) < 1e-4, `round ${round}, request ${j} (image ${order[j]}): logit ${i} is ${v}, alone ${expected[i]}`));
        });
      }
    });
  }
});
