/** Numbers from bytes: every answer must be exactly Number()'s, whichever path gives it. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ByteNumberParser, parseNumberText } from '../../../src/batch/csv/number.js';

const parser = new ByteNumberParser();
const encoder = new TextEncoder();

/** The value of `text` as the scanner reads it (fast path, then the complete one), with the sentinel after it. */
function bytesToNumber(text: string): { value: number; end: number; fast: boolean } {
  const b = new Uint8Array(text.length + 1);
  b.set(encoder.encode(text));
  b[text.length] = 10;
  const fast = parser.parse(b, 0);
  if (fast === fast) return { value: fast, end: parser.end, fast: true };
  return { value: parser.parseAny(b, 0), end: parser.end, fast: false };
}

function checkSame(text: string): void {
  const { value, end } = bytesToNumber(text);
  assert.equal(end, text.length, `${text}: stops at the end`);
  assert.ok(Object.is(value, Number(text)), `${text}: ${value} is not Number()'s ${Number(text)}`);
}

/** A small deterministic generator, so that a failure can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
}

describe('numbers from bytes', () => {
  it('reads the plain forms exactly', () => {
    for (const text of ['0', '-0', '+0', '1', '-1', '+7', '3.25', '-3.25', '.5', '5.', '-.5', '1e5', '1E5', '1e+5', '1e-5',
      '-2.5E-3', '0.1', '0.2', '0.3', '123456789', '9007199254740991', '9007199254740992', '9007199254740993',
      '0.30000000000000004', '1.0000000000000002', '17.99', '1.354000000000000092e+01', '-2.509383141994476318e-02',
      '1e22', '1e23', '1e-22', '1e-23', '123456789012345678', '1234567890123456789', '12345678901234567890',
      '1.7976931348623157e308', '1.8e308', '5e-324', '2e-324', '1e-400', '0e999', '000123.4500']) {
      checkSame(text);
    }
  });

  it('takes the fast path for the short common forms', () => {
    for (const text of ['17.99', '-0.1184', '1001', '1e-5', '.5', '+3']) assert.ok(bytesToNumber(text).fast, text);
  });

  it('stops where the number stops, and declines what is not one', () => {
    const b = encoder.encode('12.5,x\n');
    assert.equal(parser.parse(b, 0), 12.5);
    assert.equal(parser.end, 4);
    for (const text of ['', '-', '+', '.', '-.', 'e5', 'abc', 'nan', 'inf']) {
      assert.ok(Number.isNaN(bytesToNumber(text).value), text);
    }
    for (const text of ['1e', '1e+', '2.5E-']) assert.ok(Number.isNaN(bytesToNumber(text).value), text);
    // "1.2.3" parses as 1.2 and stops at the second point: the scanner sees that the field goes on, and declines it
    assert.equal(bytesToNumber('1.2.3').end, 3);
  });

  it('agrees with Number() on random decimals of up to 25 digits', () => {
    const rnd = random(12345);
    const digits = (n: number) => Array.from({ length: n }, () => Math.floor(rnd() * 10)).join('');
    for (let k = 0; k < 100_000; k++) {
      const form = k % 4;
      const x = (rnd() - 0.5) * 10 ** Math.floor(rnd() * 40 - 20);
      const text =
        form === 0 ? String(x)
        : form === 1 ? x.toExponential(Math.floor(rnd() * 20))
        : form === 2 ? `${digits(1 + Math.floor(rnd() * 12))}.${digits(Math.floor(rnd() * 13))}e${Math.floor(rnd() * 60 - 30)}`
        : x.toPrecision(1 + Math.floor(rnd() * 21));
      checkSame(text);
    }
  });

  it('rounds correctly right next to the midpoint between two doubles', () => {
    // The exact midpoint between a double and the next, cut to 19 significant digits and nudged by one unit in
    // the last digit: within 1e-19 of the point where rounding flips, the hardest inputs for the exact path.
    const rnd = random(777);
    const f64 = new Float64Array(1);
    const bits = new BigUint64Array(f64.buffer);
    for (let k = 0; k < 20_000; k++) {
      f64[0] = (rnd() + 0.01) * 10 ** Math.floor(rnd() * 30 - 15);
      const b = bits[0] as bigint;
      const exponent = Number((b >> 52n) & 0x7ffn) - 1075;
      const mantissa = (b & ((1n << 52n) - 1n)) | (1n << 52n);
      // midpoint = (2 mantissa + 1) * 2^(exponent - 1) = digits * 10^-scale exactly
      let digits = 2n * mantissa + 1n;
      let scale = 0;
      const e = exponent - 1;
      if (e >= 0) digits <<= BigInt(e);
      else {
        digits *= 5n ** BigInt(-e);
        scale = -e;
      }
      const s = digits.toString();
      const cut = BigInt(s.slice(0, 19));
      const power = s.length - 19 - scale;
      for (const nudge of [-1n, 0n, 1n]) checkSame(`${cut + nudge}e${power}`);
    }
  });
});

describe('numbers from text (the fallback)', () => {
  it('reads decimals with spaces around them, nan and inf in any case', () => {
    assert.equal(parseNumberText(' 1.5 '), 1.5);
    assert.equal(parseNumberText('-1e-5'), -1e-5);
    assert.ok(Number.isNaN(parseNumberText('NaN')));
    assert.ok(Number.isNaN(parseNumberText('nan')));
    assert.equal(parseNumberText('inf'), Infinity);
    assert.equal(parseNumberText('-Infinity'), -Infinity);
    assert.equal(parseNumberText('+INF'), Infinity);
  });

  it('is narrower than Number(): no hex, no separators, no empty text', () => {
    for (const text of ['', '  ', '0x10', '0b1', '1_000', '1,5', 'Infinityx', '1e', 'abc']) assert.equal(parseNumberText(text), undefined, text);
  });
});
