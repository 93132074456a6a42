#!/usr/bin/env bash
# What records through preprocessing cost against tensors (issue 17's target: at most 15% of the throughput): the churn
# example served twice by one ferry, with its features and postprocess (churn) and as the bare ONNX model
# (churn_tensor), one record per request under wrk -t1 -c32, interleaved per round:
#   tensor    V2 to churn_tensor: the 11 preprocessed floats, FP32 [1, 11] (the application did the feature work)
#   features  V2 to churn: the record as 6 feature inputs (FP64 / BYTES [1]), answered with label and probability
#   records   V1 to churn: {"instances": [record]} (TensorFlow Serving's records API)
# Each: 2 s of warm-up, 8 s measured, req/s and the server's CPU per request (utime + stime of the process).
#   bench/records.sh [ROUNDS]      (needs dist/ built: npm run build)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
command -v wrk >/dev/null || { echo "records: needs wrk (apt-get install wrk)" >&2; exit 2; }
work=$(mktemp -d /tmp/ferry-records-XXXXXX)
trap 'kill "${pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/repo/churn" "$work/repo/churn_tensor"
cp -r examples/models/churn/1 examples/models/churn/config.yaml "$work/repo/churn/"
cp -r examples/models/churn/1 "$work/repo/churn_tensor/"
# One record, and the model input the churn config makes of it (computed by ferry's own compiled features).
node --import tsx -e '
const { readFileSync, writeFileSync } = await import("node:fs");
const { parseModelConfig } = await import("./src/config/model-config-schema.ts");
const { compileFeatures } = await import("./src/features/feature-plan.ts");
const { parse } = await import("yaml");
const record = { age: 41, tenure_months: 3, monthly_charges: 99.5, support_calls: 4, plan: "basic", region: "north" };
const config = parseModelConfig(parse(readFileSync("examples/models/churn/config.yaml", "utf8")), "churn");
const plan = compileFeatures(config.features, [{ name: "float_input", datatype: "FP32", shape: [-1, 11] }]);
const columns = config.features.map((f) => f.type === "category"
  ? { name: f.name, datatype: "BYTES", shape: [1], data: [record[f.name]] }
  : { name: f.name, datatype: "FP64", shape: [1], data: Float64Array.of(record[f.name]) });
const [x] = plan.prepare(columns);
const dir = process.argv[1];
writeFileSync(`${dir}/tensor.json`, JSON.stringify({ inputs: [{ name: "float_input", datatype: "FP32", shape: [1, 11], data: Array.from(x.data) }] }));
writeFileSync(`${dir}/features.json`, JSON.stringify({ inputs: columns.map((c) => ({ name: c.name, datatype: c.datatype, shape: [1], data: Array.from(c.data) })) }));
writeFileSync(`${dir}/records.json`, JSON.stringify({ instances: [record] }));
' "$work"
port=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
node dist/cli/main.js serve "$work/repo" --host 127.0.0.1 --http-port "$port" --grpc-port 0 --management-port 0 --log-level warn >/dev/null 2>&1 & pid=$!
for _ in $(seq 100); do [[ "$(curl -s -o /dev/null -w "%{http_code}" "http://127.0.0.1:$port/v2/health/ready" 2>/dev/null)" == 200 ]] && break; sleep 0.1; done
tick=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
declare -A url=([tensor]="/v2/models/churn_tensor/infer" [features]="/v2/models/churn/infer" [records]="/v1/models/churn:predict")
load() { WRK_BODY="$work/$2.json" wrk -t1 -c32 -d"$1"s -s bench/wrk/post.lua "http://127.0.0.1:$port${url[$2]}"; }
for kind in tensor features records; do curl -sf -X POST --data-binary "@$work/$kind.json" "http://127.0.0.1:$port${url[$kind]}" >/dev/null || { echo "records: $kind request refused" >&2; exit 1; }; done
declare -A rate
for round in $(seq "$rounds"); do
  for kind in tensor features records; do
    load 2 "$kind" >/dev/null
    before=$(cpu)
    requests=$(load 8 "$kind" | sed -n 's/^WRK_JSON {"requests":\([0-9]*\).*/\1/p')
    after=$(cpu)
    rate[$kind]=$((requests / 8))
    awk -v k="$kind" -v r="$round" -v n="$requests" -v c="$((after - before))" -v hz="$tick" \
      'BEGIN { printf "round %d %-9s %8.0f req/s, %6.2f us of server CPU per request\n", r, k, n / 8, c / hz * 1e6 / n }'
  done
  awk -v t="${rate[tensor]}" -v f="${rate[features]}" -v r="${rate[records]}" -v n="$round" \
    'BEGIN { printf "round %d ratios: features/tensor %.3f, records/tensor %.3f\n", n, f / t, r / t }'
done
