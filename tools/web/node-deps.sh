#!/usr/bin/env bash
# Installs the browser driver of the web app's tests (tools/web/package.json, exact version, locked with its
# sha512 in tools/web/package-lock.json) into the cache, outside the clone:
# $MFMC_CACHE/web-<hash of the lock>/node_modules, and prints that folder. Reuses it when present (no
# download once cached). `npm ci` installs exactly the lock and checks every integrity; `--ignore-scripts`:
# playwright-core needs none, and the browser is Debian's /usr/bin/chromium, never a download.
# Run by tools/setup.sh (so `make test` has it) and by tests/e2e/web.sh.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=$(realpath -m -- "${MFMC_CACHE:-${HOME:?HOME is not set}/.cache/mfmc}")
die() { printf 'web: ERROR: %s\n' "$*" >&2; exit 1; }

hash=$(cat "$HERE/package.json" "$HERE/package-lock.json" | sha256sum | cut -c1-12)
dir=$CACHE/web-$hash
if [ ! -f "$dir/.complete" ]; then
    command -v npm >/dev/null 2>&1 || die "npm not found (run tools/setup.sh)"
    mkdir -p "$CACHE"
    exec 9>"$CACHE/.web-lock"
    flock 9
    if [ ! -f "$dir/.complete" ]; then
        printf 'web: installing playwright-core into %s\n' "$dir" >&2
        tmp=$(mktemp -d "$CACHE/.web-tmp.XXXXXX")
        trap 'rm -rf -- "$tmp"' EXIT
        cp "$HERE/package.json" "$HERE/package-lock.json" "$tmp/"
        (cd "$tmp" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >&2) \
            || die "npm ci of tools/web/package-lock.json failed (network? registry?)"
        [ -f "$tmp/node_modules/playwright-core/package.json" ] || die "npm ci finished but playwright-core is missing"
        touch "$tmp/.complete"
        rm -rf -- "$dir"
        mv -- "$tmp" "$dir"
        trap - EXIT
    fi
fi
printf '%s\n' "$dir/node_modules"
