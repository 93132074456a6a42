#!/usr/bin/env bash
# compose.yaml, checked end to end with podman-compose (issue 16, item 5): builds the images (LOCAL_BASE=1 and
# Debian's Prometheus where no registry is reachable), brings up ferry, the app and Prometheus on a copy of the
# example repository, then checks that the app answers from ferry by service name, that Prometheus scrapes ferry,
# and that a one-off training run adds a version ferry serves without a restart; then takes it all down.
#   bench/compose-check.sh [--no-build]        (needs podman, podman-compose, and podman's dnsname plugin)
set -euo pipefail
cd "$(dirname "$0")/.."
for cmd in podman podman-compose; do command -v "$cmd" >/dev/null || { echo "compose-check: needs $cmd (apt-get install podman podman-compose golang-github-containernetworking-plugin-dnsname)" >&2; exit 2; }; done
[[ "${1:-}" == --no-build ]] || LOCAL_BASE=1 IMAGES="ferry training app prometheus" deploy/build-images.sh
models=$(mktemp -d /tmp/ferry-compose-XXXXXX)
cp -r examples/models/. "$models/" && chmod -R a+rwX "$models"
compose() { FERRY_MODELS="$models" PROMETHEUS_IMAGE=${PROMETHEUS_IMAGE:-localhost/ferry-prometheus:latest} podman-compose --podman-args "--runtime runc" --podman-run-args "--ulimit nofile=1024:1024 --ulimit nproc=1024:1024" "$@"; }
cleanup() { compose down >/dev/null 2>&1 || true; rm -rf "$models"; }
trap cleanup EXIT
fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }
compose up -d >/dev/null 2>&1
for _ in $(seq 100); do curl -sf -o /dev/null localhost:8080/v2/health/ready && break; sleep 0.2; done
features=$(node -e 'import("./examples/app/predict.mjs").then((m) => process.stdout.write(m.SAMPLE.join(",")))')
answer=""
for _ in $(seq 50); do answer=$(curl -s -X POST localhost:3000/predict -H 'content-type: application/json' -d "{\"features\":[$features]}" || true); [[ "$answer" == *'"available":true'* ]] && break; sleep 0.2; done
check "the app answers from ferry by service name: $answer" '[[ "$answer" == *"\"available\":true"* ]]'
up=""
for _ in $(seq 60); do up=$(curl -s 'localhost:9090/api/v1/query?query=up%7Bjob%3D%22ferry%22%7D' || true); [[ "$up" == *'"1"]'* ]] && break; sleep 1; done
check "Prometheus scrapes ferry (up{job=\"ferry\"}: ${up:0:160})" '[[ "$up" == *"\"1\"]"* ]]'
compose run --rm training --model trained --c 0.5 2>/dev/null | tail -1
served=""
for _ in $(seq 50); do served=$(curl -s -o /dev/null -w '%{http_code}' localhost:8080/v2/models/trained/ready || true); [[ "$served" == 200 ]] && break; sleep 0.2; done
check "the training run's model is served by ferry without a restart (ready: $served)" '[[ "$served" == 200 ]]'
exit $fail
