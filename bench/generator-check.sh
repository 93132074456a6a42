#!/usr/bin/env bash
# `ferry bench` against wrk on the same server (issue 15: the load generator should measure the server, not
# itself): ferry on examples/models, breast_cancer tabular JSON at 32 in flight, per round wrk then `ferry bench`
# (this build's, then OTHER_FERRY_DIR's when given), 6 s each, three rounds. Needs a built dist/ and wrk.
#   bench/generator-check.sh [OTHER_FERRY_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
other=${1:-}
work=$(mktemp -d /tmp/ferry-gen-XXXXXX)
port=18295
node -e 'require("fs").writeFileSync(process.argv[1], JSON.stringify({ inputs: [{ name: "float_input", datatype: "FP32", shape: [1, 30], data: Array.from({ length: 30 }, (_, i) => 0.1 + i / 7) }] }))' "$work/body.json"
node dist/cli/main.js serve examples/models --host 127.0.0.1 --http-port $port --grpc-port $((port + 1)) --management-port $((port + 2)) --log-level warn > "$work/server.log" 2>&1 &
server=$!
trap 'kill -INT $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/v2/health/ready" >/dev/null && break; sleep 0.1; done
url="http://127.0.0.1:$port"
bench() { node "$1/dist/cli/main.js" bench --model breast_cancer --url "$url" --input "$work/body.json" --concurrency 32 --duration 6 --warmup 1 --json 2>/dev/null |
  node -e 'let s="";process.stdin.on("data",(c)=>(s+=c)).on("end",()=>{const l=JSON.parse(s).levels[0];console.log(l.throughput.requestsPerS.toFixed(0))})'; }
for round in 1 2 3; do
  w=$(WRK_BODY="$work/body.json" wrk -t1 -c32 -d6s -s bench/wrk/post.lua "$url/v2/models/breast_cancer/infer" | awk '/^Requests\/sec/{printf "%.0f", $2}')
  f=$(bench .)
  line="round $round: wrk $w req/s, ferry bench $f ($(node -e "console.log(($f/$w).toFixed(3))")x)"
  if [[ -n "$other" ]]; then o=$(bench "$other"); line="$line, ferry bench of $other $o ($(node -e "console.log(($o/$w).toFixed(3))")x)"; fi
  echo "$line"
done
