#!/usr/bin/env bash
# ferry's benchmark suite, one command: builds ferry, checks the tools, then runs bench/suite.mjs.
#   bench/run.sh                 # everything (about 10 minutes on 2 cores)
#   bench/run.sh tabular grpc    # some scenarios
#   bench/run.sh --help          # scenarios and options (durations, connections, rounds)
# Results: bench/results/<UTC date>.md (markdown tables) and .json (raw numbers).
# Set FERRY_BENCH_NO_BUILD=1 to measure the dist/ already built; FERRY_BENCH_NO_INSTALL=1 to never apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=/usr/bin/python3   # the python3 first on PATH may lack scikit-learn/torch

for arg in "$@"; do
  if [[ "$arg" == "-h" || "$arg" == "--help" ]]; then exec node bench/suite.mjs --help; fi
done

missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v h2load >/dev/null || missing+=(nghttp2-client)
command -v gunicorn >/dev/null || missing+=(gunicorn)
"$PYTHON" -c 'import flask' 2>/dev/null || missing+=(python3-flask)
if ((${#missing[@]})); then
  if [[ "${FERRY_BENCH_NO_INSTALL:-}" == 1 ]]; then
    echo "bench: missing ${missing[*]} (FERRY_BENCH_NO_INSTALL=1, so not installing). Install with: apt-get install ${missing[*]}" >&2
    exit 2
  fi
  echo "bench: installing the Debian packages the baselines need: ${missing[*]} (apt-get install --no-install-recommends)" >&2
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get install -y --no-install-recommends "${missing[@]}" >&2 ||
    { $SUDO apt-get update >&2 && $SUDO apt-get install -y --no-install-recommends "${missing[@]}" >&2; }
fi
for mod in sklearn torch onnx numpy; do
  "$PYTHON" -c "import $mod" 2>/dev/null || { echo "bench: $PYTHON cannot import $mod (Debian: python3-sklearn, python3-torch, python3-onnx, python3-numpy)" >&2; exit 2; }
done

if [[ "${FERRY_BENCH_NO_BUILD:-}" != 1 ]]; then
  echo "bench: npm run build" >&2
  npm run build --silent >&2
fi
exec node bench/suite.mjs --python "$PYTHON" "$@"
