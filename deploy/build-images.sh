#!/usr/bin/env bash
# Builds ferry's images with podman (or docker where there is no podman):
#   ferry:latest           the prediction image (deploy/Containerfile)
#   ferry-training:latest  trains and exports the example model (examples/training/Containerfile)
#   ferry-app:latest       the example application (examples/app/Containerfile)
#   ferry-prometheus:latest  Debian's Prometheus, only when asked (IMAGES=prometheus): compose.yaml's where
#                          docker.io/prom/prometheus cannot be pulled (PROMETHEUS_IMAGE=ferry-prometheus:latest)
# From the official Node images by default; BASE=... RUNTIME_BASE=... to choose, or LOCAL_BASE=1 to build FROM the
# small local base images deploy/local-base-images.sh makes (for machines that reach no container registry).
#   deploy/build-images.sh     LOCAL_BASE=1 IMAGES="ferry app" deploy/build-images.sh     ENGINE=docker deploy/build-images.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ENGINE=${ENGINE:-$(command -v podman >/dev/null && echo podman || echo docker)}
opts=()
if [[ "$ENGINE" == podman ]]; then
  # podman without a Docker engine, as on Debian with runc: these limits are what runc may set in an unprivileged
  # setup; --format docker keeps the HEALTHCHECK (the OCI format has none).
  opts=(--runtime runc build --format docker --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --network host)
else
  opts=(build --network host)
fi
if [[ "${LOCAL_BASE:-}" == 1 ]]; then
  deploy/local-base-images.sh "$ENGINE"
  BASE=${BASE:-localhost/ferry-node-build:local}
  RUNTIME_BASE=${RUNTIME_BASE:-localhost/ferry-node:local}
  [[ "$ENGINE" == docker ]] && BASE=${BASE#localhost/} && RUNTIME_BASE=${RUNTIME_BASE#localhost/}
fi
args=()
[[ -n "${BASE:-}" ]] && args+=(--build-arg "BASE=$BASE")
[[ -n "${RUNTIME_BASE:-}" ]] && args+=(--build-arg "RUNTIME_BASE=$RUNTIME_BASE")

# The Debian base of the training and Prometheus images: DEBIAN_BASE, or with LOCAL_BASE=1 one debootstrap makes.
debian_base() {
  if [[ "${LOCAL_BASE:-}" == 1 && -z "${DEBIAN_BASE:-}" ]]; then
    deploy/local-debian-image.sh "$ENGINE"
    DEBIAN_BASE=debian-local:bookworm
    [[ "$ENGINE" == podman ]] && DEBIAN_BASE=localhost/$DEBIAN_BASE
  fi
  return 0
}
# IMAGES: which to build, in order (the app takes ferry's client from ferry:latest).
for image in ${IMAGES:-ferry training app}; do
  case "$image" in
    ferry) echo "build-images: ferry:latest (deploy/Containerfile) with $ENGINE" >&2
      "$ENGINE" "${opts[@]}" "${args[@]}" -f deploy/Containerfile -t ferry:latest . ;;
    app) echo "build-images: ferry-app:latest (examples/app/Containerfile)" >&2
      "$ENGINE" "${opts[@]}" "${args[@]}" -f examples/app/Containerfile -t ferry-app:latest examples/app ;;
    training) echo "build-images: ferry-training:latest (examples/training/Containerfile)" >&2
      # Debian with Debian's numpy, scikit-learn and onnx.
      debian_base
      "$ENGINE" "${opts[@]}" ${DEBIAN_BASE:+--build-arg "DEBIAN_BASE=$DEBIAN_BASE"} -f examples/training/Containerfile -t ferry-training:latest examples/training ;;
    prometheus) echo "build-images: ferry-prometheus:latest (deploy/Containerfile.prometheus, Debian's Prometheus)" >&2
      debian_base
      "$ENGINE" "${opts[@]}" ${DEBIAN_BASE:+--build-arg "DEBIAN_BASE=$DEBIAN_BASE"} -f deploy/Containerfile.prometheus -t ferry-prometheus:latest deploy ;;
    *) echo "build-images: unknown image '$image' (ferry, training, app, prometheus)" >&2; exit 2 ;;
  esac
done
"$ENGINE" images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E '^(localhost/)?ferry' >&2
