#!/usr/bin/env bash
# Issue 9, item 2: one model catalogue (src/face/catalog.c). data/models.sha256 is its output, `mfmc models` lists
# exactly its models (none that nothing uses) with their roles, and the docs name no model file it lacks.
# Prints cmocka-style closing lines so tools/run-tests.sh can count the checks.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
MFMC=${MFMC:-$ROOT/$BUILD/asan/mfmc}
export MFMC_MODELS=${MFMC_MODELS:-$ROOT/models}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "[       OK ] $1"; }
ko() { fail=$((fail + 1)); echo "[  FAILED  ] $1"; }

[ -x "$MFMC" ] || { echo "missing $MFMC (make $BUILD/asan/mfmc)"; echo "[  FAILED  ] 1 test(s)"; exit 1; }

"$MFMC" models --sha256sum >"$tmp/sums" 2>"$tmp/err"
if grep -v '^#' "$ROOT/data/models.sha256" | cmp -s - "$tmp/sums"; then
    ok "data/models.sha256 is the catalogue's list (mfmc models --sha256sum)"
else
    ko "data/models.sha256 is the catalogue's list: regenerate it with mfmc models --sha256sum"
    diff <(grep -v '^#' "$ROOT/data/models.sha256") "$tmp/sums" | head -5 | sed 's/^/    | /'
fi
if [ "$(wc -l <"$tmp/sums")" -ge 19 ] && ! grep -q -E 'emotion|antispoof|selfie|blazeface-front' "$tmp/sums"; then
    ok "the catalogue lists the models mfmc uses and none it does not"
else
    ko "the catalogue lists the models mfmc uses and none it does not"
fi
if "$MFMC" models >"$tmp/models" 2>"$tmp/err" && grep -q -E '^  blazeface +detector,verifier +ok' "$tmp/models" &&
    grep -q -E '^  faceres +recognizer,attribute +ok' "$tmp/models"; then
    ok "mfmc models names each model's roles"
else
    ko "mfmc models names each model's roles"
    head -5 "$tmp/models" "$tmp/err" | sed 's/^/    | /'
fi

# issue 14: the seven recognizers; mobilefacenet-tflite is a catalogue model (TFLite), lbp has no model file (its
# projection is compiled in) but is a registry recognizer like the others
if grep -q -E '^  mobilefacenet-tflite +recognizer +ok' "$tmp/models" &&
    grep -q -E '^  lbp +dim +64 ' "$tmp/models" && grep -q -E '^  mobilefacenet-tflite +dim +192 ' "$tmp/models"; then
    ok "mfmc models lists the TFLite model and the recognizers mobilefacenet-tflite and lbp"
else
    ko "mfmc models lists the TFLite model and the recognizers mobilefacenet-tflite and lbp"
    grep -E 'tflite|lbp' "$tmp/models" | sed 's/^/    | /'
fi

[ "$pass" -gt 0 ] && echo "[  PASSED  ] $pass test(s)."
[ "$fail" -gt 0 ] && echo "[  FAILED  ] $fail test(s)."
[ "$fail" -eq 0 ]
