#!/usr/bin/env bash
# Installs the reference runtimes of tools/golden/package.json (exact versions) into the cache,
# outside the clone: $MFMC_CACHE/node-<hash of package.json>/node_modules, and prints that folder.
# Reuses it when present. `--ignore-scripts` is required: onnxruntime-node ships its CPU library in the
# package, and its install script would try a download that fails offline.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=$(realpath -m -- "${MFMC_CACHE:-${HOME:?HOME is not set}/.cache/mfmc}")
die() { printf 'golden: ERROR: %s\n' "$*" >&2; exit 1; }

hash=$(sha256sum "$HERE/package.json" | cut -c1-12)
dir=$CACHE/node-$hash
if [ ! -f "$dir/.complete" ]; then
    command -v npm >/dev/null 2>&1 || die "npm not found (run tools/setup.sh)"
    mkdir -p "$CACHE"
    exec 9>"$CACHE/.node-lock"
    flock 9
    if [ ! -f "$dir/.complete" ]; then
        printf 'golden: installing reference runtimes into %s\n' "$dir" >&2
        tmp=$(mktemp -d "$CACHE/.node-tmp.XXXXXX")
        trap 'rm -rf -- "$tmp"' EXIT
        cp "$HERE/package.json" "$tmp/package.json"
        (cd "$tmp" && npm install --no-audit --no-fund --ignore-scripts --no-package-lock --loglevel=error >&2) \
            || die "npm install of tools/golden/package.json failed"
        [ -f "$tmp/node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm" ] \
            || die "npm install finished but the tfjs wasm binaries are missing"
        touch "$tmp/.complete"
        rm -rf -- "$dir"
        mv -- "$tmp" "$dir"
        trap - EXIT
    fi
fi
printf '%s\n' "$dir/node_modules"
