/**
 * The servers the bench compares, each started alone on free 127.0.0.1 ports and stopped after its measurement:
 * ferry, (a) the node:http ceiling, (b) node:http + one onnxruntime-node session.run per request, (c) Flask +
 * scikit-learn / PyTorch under gunicorn with 2 workers, and the grpc-js ceiling and node:http2 floor (extra, for the
 * gRPC table).
 */
import { fileURLToPath } from 'node:url';
import { Proc, freePort, pollUntil, request } from './procs.mjs';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

export const LABELS = {
  ferry: 'ferry',
  ceiling: '(a) node:http ceiling',
  plain: '(b) node:http + session.run per request',
  flask: '(c) Flask + sklearn/PyTorch, gunicorn -w 2',
  grpcCeiling: 'grpc-js ceiling (fixed ModelInferResponse)',
  h2Floor: 'node:http2 floor (fixed framed answer, no decoding)',
  ferry1t: 'ferry, every model with intra_op_num_threads: 1 (config)',
  ferrySplit: 'ferry, the model split between two versions (traffic, --split-weights)',
};

/**
 * @typedef {{ kind: string, label: string, proc: Proc, url: string, grpcAddress?: string, metricsUrl?: string,
 *   command: string, stop: () => Promise<unknown> }} Server
 */

/**
 * Starts a server on free ports. A port found free can be taken before the server binds it (the load generators'
 * client sockets draw local ports from the same range), so a start that fails with EADDRINUSE is tried again.
 * @returns {Promise<Server>}
 */
export async function startServer(kind, ctx, options = {}) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startServerOnce(kind, ctx, options);
    } catch (e) {
      if (attempt >= 3 || !String(e?.message).includes('EADDRINUSE')) throw e;
    }
  }
}

async function startServerOnce(kind, ctx, { repo, logLevel = 'warn', extraArgs = [] } = {}) {
  if (kind === 'ferry1t') {
    const s = await startServer('ferry', ctx, { repo: ctx.oneThreadRepo, logLevel });
    return { ...s, kind, label: LABELS.ferry1t };
  }
  if (kind === 'ferrySplit') {
    const s = await startServer('ferry', ctx, { repo: ctx.splitRepo, logLevel, extraArgs: ctx.splitArgs ?? [] });
    return { ...s, kind, label: LABELS.ferrySplit };
  }
  if (kind === 'ferryAlt') {
    // A second build of ferry (--alt-ferry-dir), measured side by side with the first: A/B of a change in src/.
    const s = await startServer('ferry', { ...ctx, ferryDir: ctx.altFerryDir }, { repo, logLevel });
    return { ...s, kind, label: LABELS.ferryAlt, command: s.command.replace('node dist/', 'node ALT/dist/') };
  }
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let proc;
  let grpcAddress;
  let metricsUrl;
  let command;
  switch (kind) {
    case 'ferry': {
      const grpcPort = await freePort();
      grpcAddress = `127.0.0.1:${grpcPort}`;
      metricsUrl = `${url}/metrics`;
      const args = [`${ctx.ferryDir}/dist/cli/main.js`, 'serve', repo ?? ctx.repo, '--host', '127.0.0.1', '--http-port', String(port), '--grpc-port', String(grpcPort), '--log-level', logLevel, ...extraArgs];
      proc = new Proc('ferry', process.execPath, args);
      command = `node dist/cli/main.js serve ${repo ? 'REPO_COPY' : 'examples/models'} --host 127.0.0.1 --http-port P --grpc-port Q --log-level ${logLevel}`;
      await pollUntil(async () => (await request(`${url}/v2/health/ready`)).status === 200, { proc, what: 'ferry ready', intervalMs: 20 });
      break;
    }
    case 'ceiling':
      proc = new Proc('ceiling', process.execPath, [here('../servers/ceiling.mjs'), String(port)]);
      command = 'node bench/servers/ceiling.mjs P';
      await proc.waitForOutput(/listening/, 30_000);
      break;
    case 'plain':
      proc = new Proc('plain-ort', process.execPath, [here('../servers/plain-ort.mjs'), String(port), repo ?? ctx.repo, ctx.breastCancerNoZipMap]);
      command = `node bench/servers/plain-ort.mjs P ${repo ? 'REPO_COPY' : 'examples/models'} WORK/breast_cancer_nozipmap.onnx`;
      await proc.waitForOutput(/listening/, 60_000);
      break;
    case 'flask':
      proc = new Proc('gunicorn', ctx.gunicorn, ['-w', '2', '-b', `127.0.0.1:${port}`, '--chdir', here('../servers'), 'flask_app:app'], {
        env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
      });
      command = `gunicorn -w 2 -b 127.0.0.1:P --chdir bench/servers flask_app:app`;
      await proc.waitForOutput(/flask_app ready/, 120_000, 2); // both workers trained and loaded
      break;
    case 'grpcCeiling': {
      proc = new Proc('grpc-ceiling', process.execPath, [here('../servers/grpc-ceiling.mjs'), String(port)]);
      grpcAddress = `127.0.0.1:${port}`;
      command = 'node bench/servers/grpc-ceiling.mjs P';
      await proc.waitForOutput(/listening/, 30_000);
      break;
    }
    case 'h2Floor': {
      proc = new Proc('h2-floor', process.execPath, [here('../servers/h2-floor.mjs'), String(port)]);
      grpcAddress = `127.0.0.1:${port}`;
      command = 'node bench/servers/h2-floor.mjs P';
      await proc.waitForOutput(/listening/, 30_000);
      break;
    }
    default:
      throw new Error(`unknown server ${kind}`);
  }
  proc.child.stdin.end();
  return { kind, label: LABELS[kind], proc, url, grpcAddress, metricsUrl, command, stop: () => proc.stop() };
}

/** One inference request; throws unless 200 with outputs. Returns the parsed answer (JSON part). */
export async function checkInfer(server, model, body) {
  const headers = { 'Content-Type': body.contentType ?? 'application/json' };
  if (body.headerLength !== undefined) headers['Inference-Header-Content-Length'] = String(body.headerLength);
  const res = await request(`${server.url}/v2/models/${model}/infer`, { method: 'POST', body: body.bytes, headers, timeoutMs: 30_000 });
  // A binary answer (binary_data_output) is a JSON header of Inference-Header-Content-Length bytes, then raw data.
  const jsonLength = res.headers['inference-header-content-length'];
  const text = res.body.toString('utf8', 0, jsonLength === undefined ? res.body.length : Number(jsonLength));
  if (res.status !== 200) throw new Error(`${server.label}: first ${model} request answered ${res.status}: ${text.slice(0, 500)}`);
  const answer = JSON.parse(text);
  if (!Array.isArray(answer.outputs) || answer.outputs.length === 0) throw new Error(`${server.label}: no outputs in ${text.slice(0, 300)}`);
  return answer;
}
