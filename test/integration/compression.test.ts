/**
 * HTTP compression on the V2 REST front: gzip/deflate request bodies (with the body-size limit on what they expand
 * to), gzip/deflate responses as Accept-Encoding allows, and the binary extension through both. Requests go out
 * with node:http, which neither adds Accept-Encoding nor decompresses, so the test sees the wire.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { deflateRawSync, deflateSync, gunzipSync, gzipSync, inflateSync } from 'node:zlib';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { assertClose, referenceModels, values, type Reference } from '../helpers/reference.js';
import { binaryRequest, f32, rawPost, rawRequest, readF32, splitBinaryResponse, type RawReply } from '../helpers/binary.js';

const mlp = referenceModels().find((r) => r.model === 'mlp') as Reference;
const mlpInput = mlp.cases[0]!.inputs[0]!;
const mlpOutput = mlp.cases[0]!.outputs[0]!;
const small = JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: mlpInput.shape, data: values(mlpInput) }] });

/** The reference rows repeated 20 times: an answer of 100x3 floats, well over the 1 KiB compression threshold. */
const rows = 20;
const bigInput = Array.from({ length: rows }, () => values(mlpInput) as number[]).flat();
const big = JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [5 * rows, 30], data: bigInput }] });

const parse = (reply: RawReply, body: Buffer = reply.body): any => JSON.parse(body.toString('utf8'));

function assertMlpAnswer(doc: any, repeat = 1): void {
  const got = doc.outputs[0];
  assert.deepEqual(got.shape, [5 * repeat, 3]);
  for (let r = 0; r < repeat; r++) {
    assertClose({ ...got, shape: [5, 3], data: got.data.slice(r * 15, (r + 1) * 15) }, mlpOutput, mlp.tolerance, `mlp output block ${r}`);
  }
}

describe('HTTP compression', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ maxBodyBytes: 64 * 1024 });
  });
  after(() => server.stop());

  const infer = (body: Buffer | string, headers: Record<string, string | number> = {}) => rawPost(`${server.url}/v2/models/mlp/infer`, body, headers);

  async function assertStillServing(): Promise<void> {
    const reply = await infer(small, { 'content-type': 'application/json' });
    assert.equal(reply.status, 200, reply.body.toString());
    assertMlpAnswer(parse(reply));
  }

  describe('request bodies', () => {
    const cases: [string, string, Buffer][] = [
      ['gzip', 'gzip', gzipSync(small)],
      ['deflate (zlib-wrapped, as RFC 9110 defines it)', 'deflate', deflateSync(small)],
      ['deflate sent raw, as some clients do', 'deflate', deflateRawSync(small)],
      ['GZIP in capitals', 'GZIP', gzipSync(small)],
      ['identity', 'identity', Buffer.from(small)],
    ];
    for (const [what, coding, body] of cases) {
      it(`decompresses ${what}`, async () => {
        const reply = await infer(body, { 'content-encoding': coding });
        assert.equal(reply.status, 200, reply.body.toString());
        assertMlpAnswer(parse(reply));
      });
    }

    it('a body that expands past the body-size limit (zip bomb) is 413, though its compressed size is small', async () => {
      const bomb = gzipSync(Buffer.alloc(10 * 1024 * 1024, ' '));
      assert.ok(bomb.length < 64 * 1024, 'the bomb itself is under the limit');
      const reply = await infer(bomb, { 'content-encoding': 'gzip' });
      assert.equal(reply.status, 413);
      assert.match(parse(reply).error, /request body is larger than the limit of 65536 bytes once decompressed \(Content-Encoding: gzip; set --max-body-size to raise it\)/);
      await assertStillServing();
    });

    it('a corrupt gzip stream is 400 saying so', async () => {
      const reply = await infer(Buffer.from('this is not gzip at all'), { 'content-encoding': 'gzip' });
      assert.equal(reply.status, 400);
      assert.match(parse(reply).error, /request body is not valid gzip data \(Content-Encoding: gzip\): incorrect header check/);
      await assertStillServing();
    });

    it('a truncated gzip stream is 400', async () => {
      const whole = gzipSync(small);
      const reply = await infer(whole.subarray(0, whole.length - 20), { 'content-encoding': 'gzip' });
      assert.equal(reply.status, 400);
      assert.match(parse(reply).error, /request body is not valid gzip data .*unexpected end of file/);
      await assertStillServing();
    });

    it('a corrupt deflate stream is 400', async () => {
      const whole = deflateSync(small);
      whole[whole.length - 1]! ^= 0xff; // breaks the Adler-32 checksum
      const reply = await infer(whole, { 'content-encoding': 'deflate' });
      assert.equal(reply.status, 400);
      assert.match(parse(reply).error, /request body is not valid deflate data/);
      await assertStillServing();
    });

    it('an unsupported coding (br) is 415, naming the supported ones in the message and in Accept-Encoding', async () => {
      const reply = await infer(Buffer.from([0x0b, 0x02, 0x80]), { 'content-encoding': 'br' });
      assert.equal(reply.status, 415);
      assert.match(parse(reply).error, /Content-Encoding 'br' is not supported \(supported: gzip, deflate, or identity\)/);
      assert.equal(reply.headers['accept-encoding'], 'gzip, deflate');
      await assertStillServing();
    });

    it('stacked codings (gzip, gzip) are 415 too', async () => {
      const reply = await infer(gzipSync(gzipSync(small)), { 'content-encoding': 'gzip, gzip' });
      assert.equal(reply.status, 415);
      await assertStillServing();
    });
  });

  describe('responses', () => {
    it('gzip when accepted: Content-Encoding, Vary, and the body decompresses to the answer', async () => {
      const reply = await infer(big, { 'accept-encoding': 'gzip' });
      assert.equal(reply.status, 200, reply.body.toString());
      assert.equal(reply.headers['content-encoding'], 'gzip');
      assert.equal(reply.headers.vary, 'Accept-Encoding');
      assert.equal(reply.headers['content-type'], 'application/json');
      assert.equal(Number(reply.headers['content-length']), reply.body.length);
      const plain = gunzipSync(reply.body);
      assert.ok(reply.body.length < plain.length, 'compressed is smaller');
      assertMlpAnswer(parse(reply, plain), rows);
    });

    it('deflate when that is what is accepted (zlib-wrapped)', async () => {
      const reply = await infer(big, { 'accept-encoding': 'deflate' });
      assert.equal(reply.headers['content-encoding'], 'deflate');
      assertMlpAnswer(parse(reply, inflateSync(reply.body)), rows);
    });

    const negotiation: [string, string | undefined][] = [
      ['deflate, gzip', 'gzip'], // a tie goes to gzip
      ['gzip;q=0.5, deflate', 'deflate'],
      ['gzip;q=0, deflate', 'deflate'],
      ['gzip;q=0', undefined],
      ['gzip;q=0, deflate;q=0', undefined],
      ['GZIP;Q=1.0', 'gzip'],
      ['br', undefined],
      ['identity', undefined],
      ['gzip;q=0.5, identity', undefined], // identity ranked higher
      ['*', 'gzip'],
      ['*, gzip;q=0', 'deflate'],
      ['*;q=0', undefined],
      ['', undefined],
    ];
    for (const [accept, want] of negotiation) {
      it(`Accept-Encoding "${accept}" -> ${want ?? 'uncompressed'}`, async () => {
        const reply = await infer(big, { 'accept-encoding': accept });
        assert.equal(reply.status, 200);
        assert.equal(reply.headers['content-encoding'], want);
        const plain = want === 'gzip' ? gunzipSync(reply.body) : want === 'deflate' ? inflateSync(reply.body) : reply.body;
        assertMlpAnswer(parse(reply, plain), rows);
      });
    }

    it('no Accept-Encoding, no compression', async () => {
      const reply = await infer(big);
      assert.equal(reply.headers['content-encoding'], undefined);
      assertMlpAnswer(parse(reply), rows);
    });

    it('bodies under 1 KiB go uncompressed, unless identity is refused', async () => {
      let reply = await infer(small, { 'accept-encoding': 'gzip' });
      assert.ok(reply.body.length < 1024);
      assert.equal(reply.headers['content-encoding'], undefined);
      assert.equal(reply.headers.vary, 'Accept-Encoding');
      assertMlpAnswer(parse(reply));
      reply = await infer(small, { 'accept-encoding': 'gzip, identity;q=0' });
      assert.equal(reply.headers['content-encoding'], 'gzip');
      assertMlpAnswer(parse(reply, gunzipSync(reply.body)));
    });

    it('metadata answers are compressed the same way', async () => {
      const reply = await rawRequest('GET', `${server.url}/v2/models/datatypes`, undefined, { 'accept-encoding': 'gzip' });
      assert.equal(reply.status, 200);
      assert.equal(reply.headers['content-encoding'], 'gzip');
      assert.equal(parse(reply, gunzipSync(reply.body)).name, 'datatypes');
    });

    it('a compressed request can get a compressed answer', async () => {
      const reply = await infer(gzipSync(big), { 'content-encoding': 'gzip', 'accept-encoding': 'gzip' });
      assert.equal(reply.headers['content-encoding'], 'gzip');
      assertMlpAnswer(parse(reply, gunzipSync(reply.body)), rows);
    });
  });

  describe('with the binary extension', () => {
    const raw = f32(bigInput);
    const json = {
      inputs: [{ name: 'input', datatype: 'FP32', shape: [5 * rows, 30], parameters: { binary_data_size: raw.length } }],
      outputs: [{ name: 'output', parameters: { binary_data: true } }],
    };

    it('Inference-Header-Content-Length counts the decompressed JSON of a compressed request', async () => {
      const { body, headers } = binaryRequest(json, [raw]);
      const reply = await infer(gzipSync(body), { ...headers, 'content-encoding': 'gzip' });
      assert.equal(reply.status, 200, reply.body.toString());
      const { json: doc } = splitBinaryResponse(reply.headers, reply.body);
      const out = doc.outputs[0]!;
      assertMlpAnswer({ outputs: [{ ...out, data: readF32(out.raw!) }] }, rows);
    });

    for (const [coding, inflate] of [['gzip', gunzipSync], ['deflate', inflateSync]] as const) {
      it(`a ${coding} binary answer keeps Inference-Header-Content-Length as the uncompressed JSON length`, async () => {
        const { body, headers } = binaryRequest(json, [raw]);
        const reply = await infer(body, { ...headers, 'accept-encoding': coding });
        assert.equal(reply.status, 200, reply.body.toString());
        assert.equal(reply.headers['content-encoding'], coding);
        assert.equal(reply.headers['content-type'], 'application/octet-stream');
        const plain = inflate(reply.body);
        const length = Number(reply.headers['inference-header-content-length']);
        assert.ok(length > 0 && length < plain.length, `header length ${length} is within the decompressed body`);
        assert.equal(plain[length - 1], '}'.charCodeAt(0), 'the JSON ends where the header says');
        const { json: doc } = splitBinaryResponse(reply.headers, plain);
        const out = doc.outputs[0]!;
        assert.equal(out.parameters!.binary_data_size, 5 * rows * 3 * 4);
        assertMlpAnswer({ outputs: [{ ...out, data: readF32(out.raw!) }] }, rows);
      });
    }
  });
});
