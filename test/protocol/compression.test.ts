import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { COMPRESS_MIN_BYTES, requestCoding, responseCoding, UnsupportedEncoding } from '../../src/protocol/v2-rest/compression.js';

describe('content-coding negotiation', () => {
  it('reads a request Content-Encoding, refusing codings it cannot decode with 415', () => {
    assert.equal(requestCoding(undefined), undefined);
    assert.equal(requestCoding(''), undefined);
    assert.equal(requestCoding(' Identity '), undefined);
    assert.equal(requestCoding('gzip'), 'gzip');
    assert.equal(requestCoding('x-gzip'), 'gzip');
    assert.equal(requestCoding('DEFLATE'), 'deflate');
    for (const bad of ['br', 'zstd', 'compress', 'gzip, br']) {
      assert.throws(() => requestCoding(bad), (e: unknown) => e instanceof UnsupportedEncoding && e.code === 'UNSUPPORTED_MEDIA_TYPE' && e.accepted === 'gzip, deflate');
    }
  });

  it('picks the response coding from Accept-Encoding by q value, gzip first on a tie', () => {
    const big = COMPRESS_MIN_BYTES;
    const cases: [string | undefined, string | undefined][] = [
      [undefined, undefined], ['', undefined], ['gzip', 'gzip'], ['deflate', 'deflate'], ['deflate, gzip', 'gzip'],
      ['gzip;q=0.2, deflate;q=0.8', 'deflate'], ['gzip; q=0', undefined], ['x-gzip', 'gzip'], ['*', 'gzip'],
      ['*;q=0.5, gzip;q=0', 'deflate'], ['identity;q=1, gzip;q=0.5', undefined], ['gzip, identity', 'gzip'],
      ['gzip;q=abc', undefined], ['gzip;q=2', undefined], ['br, zstd', undefined], [' , gzip ,', 'gzip'],
    ];
    for (const [header, want] of cases) assert.equal(responseCoding(header, big), want, `Accept-Encoding: ${header}`);
  });

  it('leaves bodies under the threshold alone unless identity is refused', () => {
    assert.equal(responseCoding('gzip', COMPRESS_MIN_BYTES - 1), undefined);
    assert.equal(responseCoding('gzip', COMPRESS_MIN_BYTES), 'gzip');
    assert.equal(responseCoding('gzip, identity;q=0', 10), 'gzip');
    assert.equal(responseCoding('deflate, *;q=0', 10), 'deflate');
    assert.equal(responseCoding('gzip, *;q=0, identity', 10), undefined);
  });
});
