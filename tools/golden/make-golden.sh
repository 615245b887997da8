#!/usr/bin/env bash
# Writes the golden outputs of the reference runtimes into OUTDIR (see tools/golden/golden.js), only
# when a file is missing or the tool, its pinned runtimes or the model pins changed (stamp in OUTDIR).
# Usage: tools/golden/make-golden.sh OUTDIR
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
die() { printf 'golden: ERROR: %s\n' "$*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: $0 OUTDIR"
OUT=$(realpath -m -- "$1")
MODELS=$(realpath -m -- "${MFMC_MODELS:-$ROOT/models}")

# The files golden.js writes, and what they depend on.
NAMES=(blazeface blazeface-front facemesh-detection-short facemesh-detection-full facemesh iris faceres
       faceres-deep mobileface mobilefacenet gear age gender gender-ssrnet-imdb emotion antispoof selfie
       faceapi-recognition fr_feature fr_detect)
INPUTS=("$HERE/golden.js" "$HERE/lib.js" "$HERE/models.js" "$HERE/package.json" "$HERE/make-golden.sh"
        "$ROOT/tools/npm-pins.txt")
stamp=$(cat -- "${INPUTS[@]}" | sha256sum | cut -c1-64)

fresh=1
[ -f "$OUT/.golden-stamp" ] && [ "$(<"$OUT/.golden-stamp")" = "$stamp" ] || fresh=0
if [ "$fresh" = 1 ]; then
    for n in "${NAMES[@]}"; do [ -f "$OUT/$n.gold" ] || { fresh=0; break; }; done
fi
[ "$fresh" = 1 ] && exit 0

command -v node >/dev/null 2>&1 || die "node not found (run tools/setup.sh)"
for f in human/blazeface.json faceapi/face_recognition_model-weights_manifest.json faceplugin/fr_feature.onnx \
         faceplugin/fr_detect.onnx; do
    [ -f "$MODELS/$f" ] || die "$MODELS/$f missing: run tools/setup.sh (or make setup) first"
done
NM=$("$HERE/node-deps.sh") || die "could not install the reference runtimes"

printf 'golden: writing %d golden files into %s\n' "${#NAMES[@]}" "$OUT"
mkdir -p -- "$OUT"
tmp=$(mktemp -d "$OUT/.tmp.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT
rm -f -- "$OUT/.golden-stamp"
MFMC_NODE_MODULES=$NM MFMC_MODELS=$MODELS node "$HERE/golden.js" "$tmp" 2>"$tmp/log" \
    || { cat "$tmp/log" >&2; die "golden.js failed"; }
for n in "${NAMES[@]}"; do
    [ -s "$tmp/$n.gold" ] || { cat "$tmp/log" >&2; die "golden.js did not write $n.gold"; }
done
mv -f -- "$tmp"/*.gold "$tmp/INDEX.txt" "$OUT/"
printf '%s\n' "$stamp" >"$OUT/.golden-stamp"
