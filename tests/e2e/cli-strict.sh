#!/usr/bin/env bash
# End-to-end regression tests of issue 8 (CLI defects found by a newcomer), one block per numbered item; each
# check failed on the mfmc of commit 81f33ad. Run against another binary with MFMC=path/to/mfmc.
# Prints cmocka-style closing lines so tools/run-tests.sh can count the checks.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
MFMC=${MFMC:-$ROOT/$BUILD/asan/mfmc}
FACE_GRID=${FACE_GRID:-$ROOT/$BUILD/rel/tools/face-grid}
MODELS=${MFMC_MODELS:-$ROOT/models}
MODELS=$(realpath -- "$MODELS")
export MFMC_MODELS=$MODELS
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
DEMO=$MODELS/demo

ok() { pass=$((pass + 1)); echo "[       OK ] $1"; }
ko() { fail=$((fail + 1)); echo "[  FAILED  ] $1"; }

# run CMD...: exit code in $rc, output in $tmp/out and $tmp/err; a sanitizer report is a failure of its own
run() {
    "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if grep -q -E 'AddressSanitizer|runtime error|LeakSanitizer' "$tmp/err"; then
        ko "sanitizer report from: $*"
        sed 's/^/    stderr| /' "$tmp/err" | head -20
    fi
}
# expect NAME CODE [STDERR_PATTERN] -- CMD...: exit code CODE and (if given) stderr matching the pattern
expect() {
    local name=$1 want=$2 pat=
    shift 2
    if [ "$1" != -- ]; then pat=$1; shift; fi
    shift
    run "$@"
    if [ "$rc" -eq "$want" ] && { [ -z "$pat" ] || grep -q -E -- "$pat" "$tmp/err"; }; then
        ok "$name"
    else
        ko "$name (exit $rc, expected $want${pat:+, stderr matching '$pat'})"
        sed 's/^/    stderr| /' "$tmp/err" | head -5
    fi
}
# pycheck NAME PYTHON_EXPR_ON_d_AND_raw: stdout of the last run parsed as JSON into d (raw: its bytes)
pycheck() {
    if python3 -c 'import json,sys; raw=open(sys.argv[1],"rb").read(); d=json.loads(raw.decode("utf-8")); sys.exit(0 if ('"$2"') else 1)' "$tmp/out" 2>"$tmp/pyerr"; then
        ok "$1"
    else
        ko "$1"
        head -c 300 "$tmp/out" | sed 's/^/    stdout| /'
        echo
        tail -2 "$tmp/pyerr" | sed 's/^/    python| /'
    fi
}

[ -x "$MFMC" ] || { echo "missing $MFMC (make $BUILD/asan/mfmc)"; echo "[  FAILED  ] 1 test(s)"; exit 1; }
IMG=$DEMO/sample1.jpg

# A models folder whose files are links to the real ones, but for FILE (under human/), replaced by a copy of the
# same size whose float weights are all NaN.
tampered_models() { # dir file-stem
    local dir=$1 stem=$2 d f
    mkdir -p "$dir/human"
    for d in "$MODELS"/*/; do [ "$(basename "$d")" = human ] || ln -s "$d" "$dir/$(basename "$d")"; done
    for f in "$MODELS"/human/*; do ln -s "$f" "$dir/human/"; done
    rm -f "$dir/human/$stem.bin"
    python3 - "$MODELS/human/$stem.json" "$dir/human/$stem.bin" <<'PY'
import json, struct, sys
man = json.load(open(sys.argv[1]))["weightsManifest"][0]
d = bytearray(open(sys.argv[1].rsplit("/", 1)[0] + "/" + man["paths"][0], "rb").read())
off = 0
for w in man["weights"]:
    n = 1
    for s in w["shape"]:
        n *= s
    q = (w.get("quantization") or {}).get("dtype") or w["dtype"]
    if q == "float16":
        d[off:off + 2 * n] = b"\x00\x7e" * n
    elif q == "float32":
        d[off:off + 4 * n] = struct.pack("<f", float("nan")) * n
    off += {"float16": 2, "float32": 4, "int32": 4, "uint8": 1, "uint16": 2}[q] * n
assert off == len(d)
open(sys.argv[2], "wb").write(d)
PY
}

# 2. no silent cap: a 20 x 15 grid of one face (sample6's first face, 2x its box, 120 px cells) has 300 faces
if [ -x "$FACE_GRID" ] && "$FACE_GRID" "$DEMO/sample6.jpg" 480 227 524 524 120 20 15 "$tmp/grid.png" 2>"$tmp/err"; then
    expect "2: detect --fast on 300 faces exits 0" 0 -- "$MFMC" detect --fast --json "$tmp/grid.png"
    pycheck "2: detect --fast reports all 300 faces of the grid (not 256)" 'len(d["faces"]) == 300'
else
    ko "2: cannot make the face grid ($FACE_GRID: make $BUILD/rel/tools/face-grid)"
fi

# 3. the sha256 list is found from any directory and any models folder
tampered_models "$tmp/mesh-nan" facemesh
(cd "$tmp" && MFMC_MODELS=$tmp/mesh-nan "$MFMC" models >"$tmp/out" 2>"$tmp/err"; echo $? >"$tmp/rc")
if [ "$(cat "$tmp/rc")" -eq 3 ] && grep -q 'human/facemesh.bin: sha256 MISMATCH' "$tmp/out"; then
    ok "3: models, run elsewhere, finds the tampered facemesh.bin (exit 3)"
else
    ko "3: models, run elsewhere, finds the tampered facemesh.bin (exit $(cat "$tmp/rc"))"
    grep -E 'facemesh |FAILED' "$tmp/out" | head -3 | sed 's/^/    stdout| /'
fi
(cd "$tmp" && "$MFMC" models >"$tmp/out" 2>"$tmp/err"; echo $? >"$tmp/rc")
if [ "$(cat "$tmp/rc")" -eq 0 ] && ! grep -q 'no reference' "$tmp/out" && [ "$(grep -c 'sha256 ok' "$tmp/out")" -ge 19 ]; then
    ok "3: models, run elsewhere, checks every file against a reference"
else
    ko "3: models, run elsewhere, checks every file against a reference (exit $(cat "$tmp/rc"))"
fi

# 4. a model computing NaN is an environment error (3) naming the model, not the image's fault (2) nor 0 faces
expect "4: NaN facemesh weights: exit 3 naming facemesh" 3 'facemesh\.json.*non-finite' -- \
    env MFMC_MODELS="$tmp/mesh-nan" "$MFMC" detect "$IMG"
tampered_models "$tmp/det-nan" facemesh-detection-full
expect "4: NaN detector weights: exit 3 naming the detector (not 0 faces)" 3 'facemesh-detection-full.*non-finite' -- \
    env MFMC_MODELS="$tmp/det-nan" "$MFMC" detect --fast "$IMG"

# 5. an unknown detector is a usage error listing the names
expect "5: --detector nosuch: exit 2 listing the detectors" 2 'nosuch.*facemesh-detection-full.*blazeface' -- \
    "$MFMC" detect --detector nosuch "$IMG"

# 6. output that cannot be written is an error
if [ -w /dev/full ]; then
    "$MFMC" detect --fast --json "$IMG" >/dev/full 2>"$tmp/err"
    rc=$?
    if [ "$rc" -ne 0 ] && grep -q 'cannot write' "$tmp/err"; then ok "6: detect --json > /dev/full fails (exit $rc)"
    else ko "6: detect --json > /dev/full fails (exit $rc)"; fi
    "$MFMC" help >/dev/full 2>"$tmp/err"
    rc=$?
    if [ "$rc" -ne 0 ]; then ok "6: help > /dev/full fails"; else ko "6: help > /dev/full fails"; fi
else
    ko "6: no writable /dev/full"
fi

# 7. numeric options: whole string, range, no wrap-around, the option named
for bad in "--threads 2x" "--min-face abc" "--threshold nan" "--min-face 4294967297" "--threads 4294967298" \
    "--threshold 1e999" "--threads -1" "--threshold 0.5x" "--min-face 24.5" "--threshold 0" "--threads 65"; do
    read -r opt val <<<"$bad"
    expect "7: $bad is refused naming $opt" 2 -- "$MFMC" detect --fast "$opt" "$val" "$IMG"
    grep -q -- "$opt" "$tmp/err" || ko "7: the message for $bad names $opt"
done
expect "7: a value with a leading blank is refused" 2 'threads' -- "$MFMC" detect --fast --threads " 2" "$IMG"
expect "7: --threads 1 --min-face 40 --threshold 0.5 are accepted" 0 -- \
    "$MFMC" detect --fast --threads 1 --min-face 40 --threshold 0.5 "$IMG"

# 8. JSON is valid for any file name; the exact bytes survive in path_hex when not UTF-8
name=$(printf 'a\tb\nc\xff"\\d\xc3\xa9.jpg')
cp "$DEMO/sample2.jpg" "$tmp/$name"
expect "8: detect --json on a name with tab, newline, 0xFF, quote, backslash, é" 0 -- \
    "$MFMC" detect --fast --json "$tmp/$name"
pycheck "8: valid JSON; tab and newline kept, 0xFF as U+FFFD, path_hex exact" \
    'd["image"]["path"].endswith("a\tb\nc\ufffd\"\\d\u00e9.jpg") and bytes.fromhex(d["image"]["path_hex"]).endswith(b"a\tb\nc\xff\"\\d\xc3\xa9.jpg")'
cp "$DEMO/sample2.jpg" "$tmp/é.jpg"
expect "8: detect --json on a UTF-8 name" 0 -- "$MFMC" detect --fast --json "$tmp/é.jpg"
pycheck "8: a UTF-8 name is kept as is, without path_hex" \
    'd["image"]["path"].endswith("/é.jpg") and "path_hex" not in d["image"]'

# 9. --json is JSON; options a command does not take are usage errors
expect "9: demo --json exits 0" 0 -- "$MFMC" demo --json --fast
pycheck "9: demo --json prints JSON only (no banner)" 'len(d["faces"]) >= 3'
expect "9: verify --json exits 0" 0 -- "$MFMC" verify --json "$DEMO/sample3.jpg" "$DEMO/sample3.jpg"
pycheck "9: verify --json prints JSON" 'd["model"] == "arcface" and d["similarity"] > 0.99 and d["same_person"] is True'
expect "9: detect --all is a usage error" 2 'all' -- "$MFMC" detect --all "$IMG"
expect "9: detect --model is a usage error" 2 'model' -- "$MFMC" detect --model bogus "$IMG"
expect "9: models --bogus is a usage error" 2 'bogus' -- "$MFMC" models --bogus x
expect "9: --fast --iris is refused" 2 'iris' -- "$MFMC" detect --fast --iris "$IMG"

# 10. --threshold bounds the reported score
expect "10: detect --threshold 0.8 exits 0" 0 -- "$MFMC" detect --fast --json --threshold 0.8 "$IMG"
pycheck "10: every face reported with --threshold 0.8 scores >= 0.8" \
    'len(d["faces"]) >= 2 and all(f["score"] >= 0.8 for f in d["faces"])'

# 11. mobilefacenet (near chance) is not offered
expect "11: verify --model mobilefacenet is refused, listing usable ones" 2 'mobilefacenet.*arcface' -- \
    "$MFMC" verify --model mobilefacenet "$DEMO/sample1.jpg" "$DEMO/sample2.jpg"
expect "11: embed --model mobilefacenet is refused" 2 'mobilefacenet' -- \
    "$MFMC" embed --model mobilefacenet "$DEMO/sample2.jpg"
if sed -n '/^## `mfmc embed/,/^## /p' "$ROOT/docs/cli.md" | grep -q 'mobilefacenet`'; then
    ko "11: docs/cli.md offers mobilefacenet among the recognizers"
else
    ok "11: docs/cli.md does not offer mobilefacenet"
fi

# 12. the input is checked before any model is loaded (here there are none to load)
expect "12: detect MISSING reports the file, not the models" 2 'does-not-exist.*No such file' -- \
    "$MFMC" --models "$tmp/no-models" detect "$tmp/does-not-exist.jpg"
expect "12: verify IMAGE MISSING reports the file, not the models" 2 'does-not-exist.*No such file' -- \
    "$MFMC" --models "$tmp/no-models" verify "$IMG" "$tmp/does-not-exist.jpg"

# 13. a directory: the reason is given
mkdir -p "$tmp/a-folder"
expect "13: detect DIR says it is a directory" 2 'a-folder.*[Ii]s a directory' -- "$MFMC" detect "$tmp/a-folder"

echo "[  PASSED  ] $pass test(s)."
[ "$fail" -eq 0 ] || echo "[  FAILED  ] $fail test(s)."
[ "$fail" -eq 0 ]
