/**
 * Load generators: wrk (HTTP, with bench/wrk/post.lua), `ferry bench` (gRPC, or HTTP where the same generator
 * matters) and bench/grpc-load.mjs (gRPC on node:http2), each returning one result shape; and ferry's batch sizes
 * from its /metrics.
 */
import { fileURLToPath } from 'node:url';
import { Proc, request } from './procs.mjs';

const LUA = fileURLToPath(new URL('../wrk/post.lua', import.meta.url));

/**
 * @typedef {{ generator: string, command: string, requests: number, rps: number, errors: number, errorDetail: string,
 *   p50: number, p90: number, p99: number, mean: number, max: number, pid?: number }} LoadResult  (latencies in ms)
 */

/** A wrk run against `url` POSTing `body.file`; resolves a LoadResult. */
export function startWrk({ url, body, connections, durationS, threads = 1, timeoutS = 10 }) {
  const args = [`-t${threads}`, `-c${connections}`, `-d${durationS}s`, '--latency', '--timeout', `${timeoutS}s`, '-s', LUA, url];
  const env = { ...process.env, WRK_BODY: body.file, WRK_CONTENT_TYPE: body.contentType ?? 'application/json' };
  if (body.headerLength !== undefined) env.WRK_HEADER_LENGTH = String(body.headerLength);
  const envText = `WRK_BODY=${body.file}${body.headerLength !== undefined ? ` WRK_HEADER_LENGTH=${body.headerLength} WRK_CONTENT_TYPE=${body.contentType}` : ''}`;
  const proc = new Proc('wrk', 'wrk', args, { env });
  proc.child.stdin.end();
  const result = proc.exited.then(({ code }) => {
    const line = /^WRK_JSON (.*)$/m.exec(proc.output);
    if (code !== 0 || !line) throw new Error(`wrk failed (exit ${code}):\n${proc.output.slice(-2000)}`);
    const r = JSON.parse(line[1]);
    const e = r.errors;
    const errors = e.connect + e.read + e.write + e.status + e.timeout;
    const detail = Object.entries(e).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`).join(', ');
    const seconds = r.duration_us / 1e6;
    return {
      generator: 'wrk',
      command: `${envText} wrk ${args.join(' ').replace(LUA, 'bench/wrk/post.lua')}`,
      requests: r.requests,
      rps: (r.requests - e.status) / seconds, // successful answers per second
      errors,
      errorDetail: detail,
      p50: r.latency_us.p50 / 1000,
      p90: r.latency_us.p90 / 1000,
      p99: r.latency_us.p99 / 1000,
      mean: r.latency_us.mean / 1000,
      max: r.latency_us.max / 1000,
    };
  });
  return { proc, result };
}

/** `ferry bench ... --json`; resolves a LoadResult (its own warm-up included in its run). */
export function startFerryBench({ ferryDir, model, protocol, url, grpcAddress, inputFile, concurrency, connections = 4, durationS, warmupS, encoding, metrics = false }) {
  const args = [
    `${ferryDir}/dist/cli/main.js`, 'bench', '--model', model, '--protocol', protocol, '--input', inputFile,
    '--concurrency', String(concurrency), '--duration', String(durationS), '--warmup', String(warmupS), '--json',
  ];
  if (url) args.push('--url', url);
  if (grpcAddress) args.push('--grpc-url', grpcAddress);
  if (protocol === 'grpc') args.push('--connections', String(connections));
  if (encoding) args.push('--encoding', encoding);
  if (!metrics) args.push('--metrics-url', 'none');
  const proc = new Proc('ferry bench', process.execPath, args);
  proc.child.stdin.end();
  const result = proc.exited.then(({ code }) => {
    const start = proc.output.indexOf('{\n');
    if (code !== 0 || start < 0) throw new Error(`ferry bench failed (exit ${code}):\n${proc.output.slice(-2000)}`);
    const report = JSON.parse(proc.output.slice(start, proc.output.lastIndexOf('}') + 1));
    const level = report.levels[0];
    const lat = level.latencyMs ?? {};
    return {
      generator: 'ferry bench',
      command: `node dist/cli/main.js ${args.slice(1).join(' ')}`,
      requests: level.requests,
      rps: level.throughput.requestsPerS,
      errors: level.errors,
      errorDetail: level.errorsByKind.map((e) => `${e.count} x ${e.kind}: ${e.firstMessage}`).join('; '),
      p50: lat.p50,
      p90: lat.p90,
      p99: lat.p99,
      mean: lat.mean,
      max: lat.max,
      encoding: report.encoding,
      warnings: report.warnings,
    };
  });
  return { proc, result };
}

/** ferry_batch_size for one model from ferry's /metrics: { count, sum, buckets: Map(le -> cumulative count) }. */
export async function scrapeBatchSizes(metricsUrl, model) {
  const res = await request(metricsUrl);
  const text = res.body.toString('utf8');
  const out = { count: 0, sum: 0, buckets: new Map() };
  const labels = `model="${model}"`;
  for (const line of text.split('\n')) {
    if (!line.startsWith('ferry_batch_size') || !line.includes(labels)) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (line.startsWith('ferry_batch_size_count')) out.count += value;
    else if (line.startsWith('ferry_batch_size_sum')) out.sum += value;
    else if (line.startsWith('ferry_batch_size_bucket')) {
      const le = /le="([^"]+)"/.exec(line)[1];
      out.buckets.set(le, (out.buckets.get(le) ?? 0) + value);
    }
  }
  return out;
}

/** Rows per run between two scrapes: mean, and the smallest bucket bound holding half (p50) and 99% (p99) of runs. */
export function batchSizeDelta(before, after) {
  const runs = after.count - before.count;
  if (!(runs > 0)) return null;
  const mean = (after.sum - before.sum) / runs;
  const bound = (q) => {
    for (const [le, n] of after.buckets) if (n - (before.buckets.get(le) ?? 0) >= q * runs) return le;
    return '+Inf';
  };
  return { runs, mean, p50: bound(0.5), p99: bound(0.99) };
}

const GRPC_LOAD = fileURLToPath(new URL('../grpc-load.mjs', import.meta.url));

/** bench/grpc-load.mjs (node:http2, reads each call's grpc-status); resolves a LoadResult. */
export function startGrpcLoad({ address, model, inputFile, streams, connections, durationS, warmupS }) {
  const args = [GRPC_LOAD, '--address', address, '--model', model, '--input', inputFile, '--streams', String(streams), '--connections', String(connections), '--duration', String(durationS), '--warmup', String(warmupS)];
  const proc = new Proc('grpc-load', process.execPath, args);
  proc.child.stdin.end();
  const result = proc.exited.then(({ code }) => {
    const line = proc.output.trim().split('\n').pop();
    if (code !== 0 || !line?.startsWith('{')) throw new Error(`grpc-load failed (exit ${code}):\n${proc.output.slice(-2000)}`);
    return { generator: 'grpc-load', command: `node bench/grpc-load.mjs ${args.slice(1).join(' ')}`, ...JSON.parse(line) };
  });
  return { proc, result };
}

/** h2load's times ("478us", "22.42ms", "1.02s") in ms. */
function h2loadMs(text) {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text);
  if (!m) return NaN;
  return Number(m[1]) * { us: 1e-3, ms: 1, s: 1e3 }[m[2]];
}

/**
 * h2load (nghttp2, written in C) POSTing a gRPC frame (`node bench/grpc-load.mjs --write-frame`) on `streams` streams
 * over `connections` connections: a generator that takes much less of the shared CPU than either Node generator.
 * It does not read grpc-status (an HTTP/2 200 with a gRPC error counts as success), so the caller must check the
 * server's own outcome counts; and it reports no latency percentiles, only min, mean and max. Resolves a LoadResult
 * with p50/p90/p99 NaN.
 */
export function startH2load({ address, frameFile, streams, connections, durationS }) {
  const args = [
    `-c${connections}`, `-m${Math.ceil(streams / connections)}`, '-t1', '-D', String(durationS), '-d', frameFile,
    '-H', 'content-type: application/grpc', '-H', 'te: trailers', `http://${address}/inference.GRPCInferenceService/ModelInfer`,
  ];
  const proc = new Proc('h2load', 'h2load', args);
  proc.child.stdin.end();
  const result = proc.exited.then(({ code }) => {
    const out = proc.output;
    const done = /requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(out);
    const finished = /finished in ([\d.]+)s/.exec(out);
    const times = /time for request:\s+(\S+)\s+(\S+)\s+(\S+)/.exec(out);
    if (code !== 0 || !done || !finished || !times) throw new Error(`h2load failed (exit ${code}):\n${out.slice(-2000)}`);
    const [, , , succeeded, failed, errored, timeout] = done.map(Number);
    const errors = failed + errored + timeout;
    return {
      generator: 'h2load',
      command: `h2load ${args.map((x) => (x.includes(' ') ? `'${x}'` : x)).join(' ')}`,
      requests: succeeded + errors,
      rps: succeeded / Number(finished[1]),
      errors,
      errorDetail: errors ? `${failed} failed, ${errored} errored, ${timeout} timeout (HTTP level)` : '',
      p50: NaN,
      p90: NaN,
      p99: NaN,
      min: h2loadMs(times[1]),
      max: h2loadMs(times[2]),
      mean: h2loadMs(times[3]),
    };
  });
  return { proc, result };
}

/** ferry_requests_total for one model from ferry's /metrics, by outcome. */
export async function scrapeOutcomes(metricsUrl, model) {
  const res = await request(metricsUrl);
  const out = new Map();
  for (const line of res.body.toString('utf8').split('\n')) {
    if (!line.startsWith('ferry_requests_total{') || !line.includes(`model="${model}"`)) continue;
    const outcome = /outcome="([^"]+)"/.exec(line)?.[1] ?? '?';
    out.set(outcome, (out.get(outcome) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return out;
}
