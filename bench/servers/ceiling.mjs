#!/usr/bin/env node
/**
 * Baseline (a), the ceiling: a plain node:http server that reads the body, parses its JSON (for a request with
 * Triton's binary tensor extension, the JSON header named by Inference-Header-Content-Length; the raw tensor
 * bytes are received but not decoded) and answers a fixed V2 inference response of the model's real output
 * shape, with Content-Length. No model runs. Whatever ferry does beyond this is what it costs.
 *
 *   node bench/servers/ceiling.mjs PORT
 */
import http from 'node:http';

const port = Number(process.argv[2] ?? 0);

const fixed = (model, outputs) => Buffer.from(JSON.stringify({ model_name: model, model_version: '1', outputs }));
const BODIES = {
  breast_cancer: fixed('breast_cancer', [
    { name: 'output_label', datatype: 'INT64', shape: [1], data: [0] },
    { name: 'output_probability', datatype: 'FP32', shape: [1, 2], data: [0.9999966025352478, 0.0000034] },
  ]),
  mlp: fixed('mlp', [{ name: 'output', datatype: 'FP32', shape: [1, 3], data: [0.2187548130750656, 0.6105166077613831, 0.17072856426239014] }]),
  image_cnn: fixed('image_cnn', [
    { name: 'logits', datatype: 'FP32', shape: [1, 10], data: [-0.42, 0.37, 1.23, -1.05, 0.08, 0.66, -0.29, 0.91, -0.74, 0.15] },
  ]),
};

// Model metadata (not on the measured path): `ferry bench` reads it before it sends anything.
const tensor = (name, datatype, shape) => ({ name, datatype, shape });
const METADATA = {
  breast_cancer: { inputs: [tensor('float_input', 'FP32', [-1, 30])], outputs: [tensor('output_label', 'INT64', [-1]), tensor('output_probability', 'FP32', [-1, 2])] },
  mlp: { inputs: [tensor('input', 'FP32', [-1, 30])], outputs: [tensor('output', 'FP32', [-1, 3])] },
  image_cnn: { inputs: [tensor('image', 'FP32', [-1, 3, 128, 128])], outputs: [tensor('logits', 'FP32', [-1, 10])] },
};

const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  const meta = req.method === 'GET' && /^\/v2\/models\/([^/]+)$/.exec(req.url ?? '');
  if (meta && METADATA[meta[1]]) {
    const body = JSON.stringify({ name: meta[1], versions: ['1'], platform: 'onnxruntime_onnx', ...METADATA[meta[1]] });
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }).end(body);
    req.resume();
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const m = /^\/v2\/models\/([^/]+)\/infer$/.exec(req.url ?? '');
    const out = m && BODIES[m[1]];
    if (!out) {
      res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"error":"unknown model"}');
      return;
    }
    const body = Buffer.concat(chunks);
    const headerLength = req.headers['inference-header-content-length'];
    try {
      const json = headerLength === undefined ? body : body.subarray(0, Number(headerLength));
      const parsed = JSON.parse(json.toString('utf8'));
      if (!Array.isArray(parsed.inputs)) throw new Error('no inputs');
    } catch (e) {
      res.writeHead(400, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: String(e.message) }));
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': out.length });
    res.end(out);
  });
});
server.listen(port, '127.0.0.1', () => process.stderr.write(`ceiling listening on ${server.address().port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)).closeAllConnections());
