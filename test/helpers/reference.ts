/** Reads examples/models/NAME/reference.json: inputs and the original library's predictions. */
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { EXAMPLES } from './server.js';

export interface RefTensor {
  name: string;
  datatype: string;
  shape: number[];
  data?: unknown[];
  data_base64?: string;
}

export interface Reference {
  model: string;
  library: string;
  tolerance: { rtol: number; atol: number };
  cases: { inputs: RefTensor[]; outputs: RefTensor[] }[];
}

const ARRAYS: Record<string, (b: Buffer) => ArrayLike<number | bigint>> = {
  FP32: (b) => new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4),
  FP64: (b) => new Float64Array(b.buffer, b.byteOffset, b.byteLength / 8),
};

/** The tensor's values as a flat JSON-ready array, decoding data_base64 where the file used it. */
export function values(t: RefTensor): unknown[] {
  if (t.data) return t.data.flat(Infinity as 1);
  const decode = ARRAYS[t.datatype];
  assert.ok(decode && t.data_base64, `reference tensor ${t.name} has no data`);
  const raw = Buffer.from(t.data_base64, 'base64');
  const aligned = Buffer.alloc(raw.length);
  raw.copy(aligned);
  return Array.from(decode(aligned), Number);
}

export function referenceModels(): Reference[] {
  return readdirSync(EXAMPLES)
    .filter((name) => existsSync(join(EXAMPLES, name, 'reference.json')))
    .map((name) => JSON.parse(readFileSync(join(EXAMPLES, name, 'reference.json'), 'utf8')) as Reference);
}

export function asRequestInputs(inputs: RefTensor[]): object[] {
  return inputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape, data: values(t) }));
}

/** Asserts a served output equals the library's: integers and strings exactly, floats within the tolerance. */
export function assertClose(got: { name: string; datatype: string; shape: number[]; data: unknown[] }, want: RefTensor, tol: Reference['tolerance'], what: string): void {
  assert.equal(got.datatype, want.datatype, `${what}: datatype`);
  assert.deepEqual(got.shape, want.shape, `${what}: shape`);
  const expected = values(want);
  assert.equal(got.data.length, expected.length, `${what}: element count`);
  const float = want.datatype.startsWith('FP');
  for (let i = 0; i < expected.length; i++) {
    const g = got.data[i];
    const e = expected[i];
    if (float && typeof e === 'number' && typeof g === 'number') {
      const ok = Math.abs(g - e) <= tol.atol + tol.rtol * Math.abs(e);
      assert.ok(ok, `${what}[${i}]: got ${g}, the library gave ${e} (atol ${tol.atol}, rtol ${tol.rtol})`);
    } else {
      assert.deepEqual(g, e, `${what}[${i}]`);
    }
  }
}
