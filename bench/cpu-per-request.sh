#!/usr/bin/env bash
# Server CPU per request, tabular JSON under wrk -t1 -c32: for each target, per round, start it alone, warm up 2 s,
# then over 8 s of load read the server process's CPU time (utime + stime, /proc/PID/stat) and divide by the
# requests answered. Where throughput says how fast, this says what each request costs the server, which is what a
# change to the request path changes (and it moves less with the host's noise than req/s does).
#   bench/cpu-per-request.sh [ROUNDS] TARGET...     TARGET: a ferry checkout with dist/ built, or "ceiling"
#   bench/cpu-per-request.sh 3 ceiling . /tmp/ferry-old
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=3
if [[ "${1:-}" =~ ^[0-9]+$ ]]; then rounds=$1; shift; fi
(($#)) || { echo "usage: bench/cpu-per-request.sh [ROUNDS] TARGET... (a built ferry checkout, or ceiling)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "cpu-per-request: needs wrk (apt-get install wrk)" >&2; exit 2; }
work=$(mktemp -d /tmp/ferry-cpr-XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/repo/breast_cancer"
cp -r examples/models/breast_cancer/1 "$work/repo/breast_cancer/"   # the model alone, as bench/run.sh tabular serves it
node -e 'process.stdout.write(JSON.stringify({ inputs: [{ name: "float_input", datatype: "FP32", shape: [1, 30], data: Array.from({ length: 30 }, (_, i) => 0.1 + i / 7) }] }))' > "$work/body.json"
tick=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
load() { WRK_BODY="$work/body.json" wrk -t1 -c32 -d"$1"s -s bench/wrk/post.lua "http://127.0.0.1:$2/v2/models/breast_cancer/infer"; }
for round in $(seq "$rounds"); do
  for target in "$@"; do
    port=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
    if [[ "$target" == ceiling ]]; then
      node bench/servers/ceiling.mjs "$port" 2>/dev/null & pid=$!
    else
      node "$target/dist/cli/main.js" serve "$work/repo" --host 127.0.0.1 --http-port "$port" --grpc-port 0 --management-port 0 --log-level warn >/dev/null 2>&1 & pid=$!
    fi
    for _ in $(seq 100); do [[ "$(curl -s -o /dev/null -w "%{http_code}" "http://127.0.0.1:$port/v2/health/ready" 2>/dev/null)" =~ ^(200|404)$ ]] && break; sleep 0.1; done
    load 2 "$port" >/dev/null
    before=$(cpu "$pid")
    requests=$(load 8 "$port" | sed -n 's/^WRK_JSON {"requests":\([0-9]*\).*/\1/p')
    after=$(cpu "$pid")
    kill "$pid"; wait "$pid" 2>/dev/null || true
    awk -v t="$target" -v r="$round" -v n="$requests" -v c="$((after - before))" -v hz="$tick" \
      'BEGIN { printf "%-28s round %d: %8.0f req/s, %6.2f us of server CPU per request\n", t, r, n / 8, c / hz * 1e6 / n }'
  done
done
