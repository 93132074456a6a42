#!/usr/bin/env node
/**
 * Baseline (b), what most users would write: node:http, one onnxruntime-node InferenceSession per model with
 * default session options, and one `session.run` per request. No batching, no worker threads. It reads the V2
 * JSON body (or Triton's binary tensor extension: JSON header, then raw little-endian bytes), runs, and answers
 * V2 JSON.
 *
 * onnxruntime-node cannot return the ZipMap output of a skl2onnx classifier ("Non tensor type is temporarily not
 * supported"), so breast_cancer is loaded from a copy whose ZipMap is replaced by an Identity (what ferry does at
 * load time; bench/prepare_models.py writes it). Its outputs are then the same as ferry's.
 *
 *   node bench/servers/plain-ort.mjs PORT MODEL_DIR [BREAST_CANCER_NO_ZIPMAP.onnx]
 * It serves every MODEL_DIR/NAME/1/model.onnx (breast_cancer from the copy, when given).
 */
import { existsSync, readdirSync } from 'node:fs';
import http from 'node:http';
import * as ort from 'onnxruntime-node';

const [portArg, modelDir, breastCancerFile] = process.argv.slice(2);

const sessions = {};
for (const name of readdirSync(modelDir)) {
  const file = name === 'breast_cancer' && breastCancerFile ? breastCancerFile : `${modelDir}/${name}/1/model.onnx`;
  if (existsSync(file)) sessions[name] = await ort.InferenceSession.create(file);
}

const V2_TYPE = { float32: 'FP32', int64: 'INT64' };

function readInputs(body, headerLength) {
  if (headerLength === undefined) {
    const request = JSON.parse(body.toString('utf8'));
    return request.inputs.map((i) => ({ name: i.name, shape: i.shape, data: Float32Array.from(i.data.flat(Infinity)) }));
  }
  const jsonEnd = Number(headerLength);
  const request = JSON.parse(body.subarray(0, jsonEnd).toString('utf8'));
  let offset = jsonEnd;
  return request.inputs.map((i) => {
    if (i.data !== undefined) return { name: i.name, shape: i.shape, data: Float32Array.from(i.data.flat(Infinity)) };
    const size = i.parameters.binary_data_size;
    const bytes = body.subarray(offset, offset + size);
    offset += size;
    // copy into a fresh, aligned buffer
    return { name: i.name, shape: i.shape, data: new Float32Array(new Uint8Array(bytes).buffer) };
  });
}

const server = http.createServer({ keepAliveTimeout: 65_000 }, async (req, res) => {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const m = /^\/v2\/models\/([^/]+)\/infer$/.exec(req.url ?? '');
  const session = m && sessions[m[1]];
  if (!session) {
    res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"error":"unknown model"}');
    return;
  }
  try {
    const inputs = readInputs(Buffer.concat(chunks), req.headers['inference-header-content-length']);
    const feeds = {};
    for (const i of inputs) feeds[i.name] = new ort.Tensor('float32', i.data, i.shape);
    const results = await session.run(feeds);
    const outputs = session.outputNames.map((name) => {
      const t = results[name];
      return { name, datatype: V2_TYPE[t.type], shape: t.dims, data: Array.from(t.data, Number) };
    });
    const out = JSON.stringify({ model_name: m[1], model_version: '1', outputs });
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(out) });
    res.end(out);
  } catch (e) {
    res.writeHead(400, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: String(e.message) }));
  }
});
server.listen(Number(portArg ?? 0), '127.0.0.1', () => process.stderr.write(`plain-ort listening on ${server.address().port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)).closeAllConnections());
