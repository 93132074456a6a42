#!/usr/bin/env bash
# ferry batch against numpy + scikit-learn, end to end, one command: builds ferry, checks Python, then runs
# bench/batch-suite.mjs (input CSVs generated once, seeded, under $TMPDIR/ferry-batch-bench; not committed).
#   bench/batch.sh                       # e2e (1M rows, 5 reps), scoring loop, memory (5M rows): about 6 minutes on 2 cores
#   bench/batch.sh e2e --reps 3          # some scenarios, fewer reps
#   bench/batch.sh --help
# Results: bench/results/batch-<UTC date>.md (tables) and .json (every run's numbers).
# FERRY_BENCH_NO_BUILD=1 measures the dist/ already built.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=/usr/bin/python3   # the python3 first on PATH may lack numpy/scikit-learn
for mod in numpy sklearn; do
  "$PYTHON" -c "import $mod" 2>/dev/null || { echo "batch-bench: $PYTHON cannot import $mod (Debian: python3-numpy, python3-sklearn)" >&2; exit 2; }
done
if [[ "${FERRY_BENCH_NO_BUILD:-}" != 1 ]]; then
  echo "batch-bench: npm run build" >&2
  npm run build --silent >&2
fi
exec node bench/batch-suite.mjs --python "$PYTHON" "$@"
