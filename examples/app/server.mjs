#!/usr/bin/env node
/**
 * The example application: a web page where a person enters a tumour's measurements and sees whether the
 * breast_cancer model reads it as malignant or benign. It holds no model: it calls ferry (FERRY_URL) with ferry's
 * own client (`ferry/client`), with a timeout, one retry (a prediction is idempotent), and a fallback answer that
 * says the prediction service is unavailable, so the page keeps working while ferry is down or being redeployed, and
 * recovers by itself when it is back.
 *
 *   FERRY_URL=http://127.0.0.1:8080 PORT=3000 node server.mjs
 */
import http from 'node:http';
import { predict, FEATURES, SAMPLE } from './predict.mjs';

const port = Number(process.env.PORT ?? 3000);
const ferryUrl = process.env.FERRY_URL ?? 'http://127.0.0.1:8080';

const page = () => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tumour check</title>
<style>body{font:15px system-ui,sans-serif;max-width:60rem;margin:2rem auto}form{display:grid;grid-template-columns:repeat(3,1fr);gap:.4rem 1.2rem}
label{display:flex;justify-content:space-between;gap:.5rem}input{width:7rem}#answer{margin-top:1.2rem;font-size:1.2rem}</style></head>
<body><h1>Tumour check</h1><p>Measurements of a breast mass (the Wisconsin data set); the prediction comes from the model ferry serves.</p>
<form id="f">${FEATURES.map((name, i) => `<label>${name}<input name="f${i}" type="number" step="any" value="${SAMPLE[i]}" required></label>`).join('')}
<button type="submit">Predict</button></form>
<div id="answer" role="status"></div>
<script>
document.getElementById('f').addEventListener('submit', async (e) => {
  e.preventDefault();
  const values = [...new FormData(e.target).values()].map(Number);
  const out = document.getElementById('answer');
  out.textContent = '...';
  const res = await fetch('/predict', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ features: values }) });
  const a = await res.json();
  out.textContent = a.available ? a.label + ' (probability ' + a.probability.toFixed(3) + ')' : a.message;
});
</script></body></html>`;

const server = http.createServer(async (req, res) => {
  const reply = (status, type, body) => res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) }).end(body);
  try {
    if (req.method === 'GET' && req.url === '/') return reply(200, 'text/html; charset=utf-8', page());
    if (req.method === 'GET' && req.url === '/healthz') return reply(200, 'text/plain', 'ok\n');
    if (req.method === 'POST' && req.url === '/predict') {
      let body = '';
      for await (const chunk of req) body += chunk;
      const features = JSON.parse(body || '{}').features;
      if (!Array.isArray(features) || features.length !== FEATURES.length || !features.every(Number.isFinite)) {
        return reply(400, 'application/json', JSON.stringify({ error: `features must be ${FEATURES.length} numbers` }));
      }
      return reply(200, 'application/json', JSON.stringify(await predict(ferryUrl, features)));
    }
    reply(404, 'text/plain', 'not found\n');
  } catch (e) {
    reply(400, 'application/json', JSON.stringify({ error: String(e.message) }));
  }
});
server.listen(port, () => console.log(`example app on http://127.0.0.1:${server.address().port}, asking ferry at ${ferryUrl}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
