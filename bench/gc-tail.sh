#!/usr/bin/env bash
# The GC tail on binary CNN requests (issue 15, item 5): for each node flag setting, interleaved, three rounds:
# ferry on examples/models under --trace-gc, image_cnn in Triton's binary form at wrk -c1 (8 s), then tabular JSON
# at wrk -c32 (6 s); prints the CNN's p50/p90/p99 and req/s, the main process's Mark-Compacts, and tabular req/s.
#   [ROUNDS=3] [REPO=examples/models] bench/gc-tail.sh ["" "--max-semi-space-size=1" ...]     (needs a built dist/ and wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
flags=("$@"); ((${#flags[@]})) || flags=("" "--max-semi-space-size=1" "--max-semi-space-size=2" "--max-semi-space-size=4")
work=$(mktemp -d /tmp/ferry-gc-XXXXXX); trap 'rm -rf "$work"' EXIT
node -e '
const raw = Buffer.alloc(3 * 128 * 128 * 4); const f = new Float32Array(raw.buffer, raw.byteOffset, raw.length / 4);
for (let i = 0; i < f.length; i++) f[i] = (i % 255) / 255;
const header = Buffer.from(JSON.stringify({ inputs: [{ name: "image", datatype: "FP32", shape: [1, 3, 128, 128], parameters: { binary_data_size: raw.length } }] }));
const fs = require("fs"); fs.writeFileSync(process.argv[1] + "/cnn.bin", Buffer.concat([header, raw])); fs.writeFileSync(process.argv[1] + "/hl", String(header.length));
fs.writeFileSync(process.argv[1] + "/tab.json", JSON.stringify({ inputs: [{ name: "float_input", datatype: "FP32", shape: [1, 30], data: Array(30).fill(0.5) }] }));
' "$work"
port=18195
latency() { awk '/^ +50%/{a=$2} /^ +90%/{b=$2} /^ +99%/{c=$2} /^Requests\/sec/{d=$2} END{print a, b, c, d}'; }
for round in $(seq "${ROUNDS:-3}"); do
  for flag in "${flags[@]}"; do
    # shellcheck disable=SC2086
    node --trace-gc $flag dist/cli/main.js serve "${REPO:-examples/models}" --host 127.0.0.1 --http-port $port --grpc-port $((port + 1)) --management-port $((port + 2)) --log-level warn > "$work/gc.log" 2>&1 &
    pid=$!
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/v2/health/ready" >/dev/null && break; sleep 0.1; done
    cnn=$(WRK_BODY="$work/cnn.bin" WRK_CONTENT_TYPE=application/octet-stream WRK_HEADER_LENGTH=$(cat "$work/hl") wrk -t1 -c1 -d8s --latency -s bench/wrk/post.lua "http://127.0.0.1:$port/v2/models/image_cnn/infer" | latency)
    tab=$(WRK_BODY="$work/tab.json" wrk -t1 -c32 -d6s -s bench/wrk/post.lua "http://127.0.0.1:$port/v2/models/breast_cancer/infer" | awk '/^Requests\/sec/{print $2}')
    kill -INT $pid; wait $pid || true
    main=$(head -1 "$work/gc.log" | grep -o '^\[[0-9]*:0x[0-9a-f]*\]')
    echo "round $round [${flag:-default}] cnn p50 p90 p99 req/s: $cnn | Mark-Compacts (main): $(grep -F "$main" "$work/gc.log" | grep -c Mark-Compact) | tabular req/s: $tab"
  done
done
