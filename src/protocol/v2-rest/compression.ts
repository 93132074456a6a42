/**
 * HTTP content codings on the V2 REST front, as Triton's HTTP server has them: request bodies sent with
 * `Content-Encoding: gzip` or `deflate` are decompressed, and responses are compressed when the client's
 * `Accept-Encoding` allows it. zlib runs through its async API, on libuv's threadpool, so a large body never
 * blocks the event loop while it is (de)compressed.
 */
import { promisify } from 'node:util';
import type * as Zlib from 'node:zlib';
import { lazyBuiltin } from '../../lazy-builtin.js';
import { FerryError, invalid } from '../../errors.js';

export type Coding = 'gzip' | 'deflate';

/** The codings ferry speaks, in the order it prefers them; named in 415 answers and their Accept-Encoding. */
export const SUPPORTED_CODINGS = 'gzip, deflate';

/**
 * Smallest response body worth compressing, in bytes. Below about 1 KiB the gzip header and trailer (18 bytes)
 * and the CPU spent eat most of the saving, and such a body already fits in one TCP segment; it is the threshold
 * common proxies and compression middleware use too. A client that refuses identity (`identity;q=0`) gets even a
 * small body compressed.
 */
export const COMPRESS_MIN_BYTES = 1024;

const zlib = lazyBuiltin<typeof Zlib>('node:zlib');
const unzipAsync = (body: Buffer, options: Zlib.ZlibOptions): Promise<Buffer> => promisify(zlib().unzip)(body, options);
const inflateRawAsync = (body: Buffer, options: Zlib.ZlibOptions): Promise<Buffer> => promisify(zlib().inflateRaw)(body, options);
const gzipAsync = (body: Buffer): Promise<Buffer> => promisify(zlib().gzip)(body);
const deflateAsync = (body: Buffer): Promise<Buffer> => promisify(zlib().deflate)(body);

/** A request body in a coding ferry cannot decode: 415, and the answer's Accept-Encoding says what it can. */
export class UnsupportedEncoding extends FerryError {
  readonly accepted = SUPPORTED_CODINGS;
  constructor(coding: string) {
    super('UNSUPPORTED_MEDIA_TYPE', `Content-Encoding '${coding}' is not supported (supported: ${SUPPORTED_CODINGS}, or identity)`);
  }
}

/** The coding of a request body from its Content-Encoding; undefined for none (absent, empty or identity). */
export function requestCoding(header: string | undefined): Coding | undefined {
  if (header === undefined) return undefined;
  const coding = header.trim().toLowerCase();
  if (coding === '' || coding === 'identity') return undefined;
  if (coding === 'gzip' || coding === 'x-gzip') return 'gzip';
  if (coding === 'deflate') return 'deflate';
  throw new UnsupportedEncoding(header.trim());
}

/**
 * Decompresses a request body, refusing (413) as soon as the output passes `limit`: the body-size limit holds for
 * what the body expands to, so a small "zip bomb" cannot make the server allocate gigabytes.
 */
export async function decompress(body: Buffer, coding: Coding, limit: number): Promise<Buffer> {
  const options: Zlib.ZlibOptions = { maxOutputLength: limit };
  try {
    // Like Triton (inflateInit2 with windowBits 15|32), unzip accepts a gzip or a zlib header whichever coding is
    // named. "deflate" is meant to be zlib-wrapped (RFC 9110 8.4.1.2), but some clients send raw deflate: a body
    // without a zlib header is inflated raw.
    if (coding === 'deflate' && !hasZlibHeader(body) && !hasGzipHeader(body)) return await inflateRawAsync(body, options);
    return await unzipAsync(body, options);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ERR_BUFFER_TOO_LARGE') {
      throw new FerryError(
        'PAYLOAD_TOO_LARGE',
        `request body is larger than the limit of ${limit} bytes once decompressed (Content-Encoding: ${coding}; set --max-body-size to raise it)`,
      );
    }
    throw invalid(`request body is not valid ${coding} data (Content-Encoding: ${coding}): ${err.message}`);
  }
}

/** RFC 1950: compression method 8 in the low nibble, and the two header bytes a multiple of 31. */
function hasZlibHeader(b: Buffer): boolean {
  return b.length >= 2 && ((b[0] as number) & 0x0f) === 8 && (((b[0] as number) << 8) | (b[1] as number)) % 31 === 0;
}

/** RFC 1952: the gzip magic bytes. */
function hasGzipHeader(b: Buffer): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}

/**
 * The coding to answer in, from the request's Accept-Encoding (RFC 9110 12.5.3), or undefined to answer
 * uncompressed: codings with q=0 are refused, `*` stands for codings not named, gzip wins a tie with deflate, and
 * identity wins when the client ranks it above both. Bodies under COMPRESS_MIN_BYTES go uncompressed unless
 * identity is refused.
 */
export function responseCoding(acceptEncoding: string | undefined, byteLength: number): Coding | undefined {
  if (acceptEncoding === undefined || acceptEncoding === '') return undefined;
  // A small body goes uncompressed unless identity may be refused: no need to parse the header for it.
  if (byteLength < COMPRESS_MIN_BYTES && !/identity|\*/i.test(acceptEncoding)) return undefined;
  const q = parseAcceptEncoding(acceptEncoding);
  const any = q.get('*');
  const gzipQ = q.get('gzip') ?? q.get('x-gzip') ?? any ?? 0;
  const deflateQ = q.get('deflate') ?? any ?? 0;
  const best: Coding = gzipQ >= deflateQ ? 'gzip' : 'deflate';
  const bestQ = Math.max(gzipQ, deflateQ);
  if (bestQ <= 0) return undefined; // nothing ferry speaks is acceptable: identity is the fallback RFC 9110 allows
  // identity is acceptable unless refused by name or by "*;q=0"; unnamed, it ranks below any named coding.
  const identityQ = q.get('identity') ?? (any === 0 ? 0 : undefined);
  if (identityQ !== undefined && identityQ > bestQ) return undefined;
  if (byteLength < COMPRESS_MIN_BYTES && identityQ !== 0) return undefined;
  return best;
}

/** coding -> q value; an entry with a malformed q (RFC 9110 12.4.2: 0 to 1, three decimals at most) is skipped. */
function parseAcceptEncoding(header: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const entry of header.split(',')) {
    const [name, ...params] = entry.split(';');
    const coding = (name as string).trim().toLowerCase();
    if (coding === '') continue;
    let q: number | undefined = 1;
    for (const p of params) {
      const eq = p.indexOf('=');
      if (eq < 0 || p.slice(0, eq).trim().toLowerCase() !== 'q') continue;
      const value = p.slice(eq + 1).trim();
      q = /^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(value) ? Number(value) : undefined;
    }
    if (q !== undefined) out.set(coding, q);
  }
  return out;
}

/** Compresses a response body; undefined when zlib fails, in which case (as Triton does) it goes uncompressed. */
export async function compress(body: Buffer, coding: Coding): Promise<Buffer | undefined> {
  try {
    return await (coding === 'gzip' ? gzipAsync(body) : deflateAsync(body));
  } catch {
    return undefined;
  }
}
