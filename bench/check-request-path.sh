#!/usr/bin/env bash
# The request-path check (issue 15, "hold the line"): run it before merging anything that touches the per-request
# path. It builds BASE_REV beside this checkout, times the stages of a tabular request in both builds
# (bench/request-stages.mjs), then runs the tabular wrk benchmark with both servers interleaved, three rounds, and
# fails when this build's median throughput falls below MIN_RATIO (default 0.97: the budget in docs/performance.md)
# of the base's. Ratios only: the machines here are shared and noisy, absolute numbers mean nothing across runs.
#   bench/check-request-path.sh BASE_REV [MIN_RATIO]      e.g. bench/check-request-path.sh HEAD~3
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:?usage: bench/check-request-path.sh BASE_REV [MIN_RATIO]}
min=${2:-0.97}
dir=$(mktemp -d /tmp/ferry-base-XXXXXX)
trap 'rm -rf "$dir"' EXIT
git archive "$base" | tar -x -C "$dir"
# The same dependencies: share them; otherwise the base installs its own.
if cmp -s package-lock.json "$dir/package-lock.json"; then ln -s "$PWD/node_modules" "$dir/node_modules"; else (cd "$dir" && npm ci --silent >&2); fi
(cd "$dir" && npm run build --silent >&2)
npm run build --silent >&2
echo "== stages (us per request; $PWD first, then $base)"
node bench/request-stages.mjs . "$dir" | sed "s#$dir#$base#; s#| $PWD |#| this build |#"
echo "== tabular, wrk -c32, interleaved"
FERRY_BENCH_NO_BUILD=1 bench/run.sh tabular --rounds 3 --servers ferry --alt-ferry-dir "$dir" --alt-label "$base" >&2
result=$(ls -t bench/results/*.json | head -1)
node - "$result" "$min" "$base" <<'JS'
const [file, min, base] = process.argv.slice(2);
const runs = JSON.parse(require('node:fs').readFileSync(file, 'utf8')).scenarios.tabular.runs;
const rps = (kind, round) => runs.find((r) => r.kind === kind && r.round === round)?.rps;
const ratios = [...new Set(runs.map((r) => r.round))].map((round) => rps('ferry', round) / rps('ferryAlt', round));
const median = [...ratios].sort((a, b) => a - b)[Math.floor(ratios.length / 2)];
console.log(`this build / ${base}: ${ratios.map((r) => r.toFixed(3)).join(', ')} (median ${median.toFixed(3)}; budget ${min}) [${file}]`);
process.exit(median >= Number(min) ? 0 : 1);
JS
