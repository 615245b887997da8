#!/usr/bin/env bash
# End-to-end test of `mfmc eval` (release build: the evaluation is too slow under ASan): --help and bad options,
# then `mfmc eval --quick` (100 LFW pairs, 20 FFHQ faces, original / synthetic / blur, every recognizer) must pass
# its range checks and write an offline report; the strict privacy level is measured when named (20 pairs, 20 FFHQ
# faces); and `--quick` must FAIL its checks when the anonymizer or a recognizer is broken
# on purpose (hidden --break synth-original: "synthetic" returns the original face; --break rec-noise: every
# embedding is random). The quick run's cache is kept in $BUILD/eval-quick (keyed by the anonymizer's revision), so
# only the first run after a change of src/anon pays the anonymization. Skips when ../shared/data is absent.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}
MFMC=${MFMC_EVAL_CLI:-$ROOT/$BUILD/rel/mfmc}
MODELS=${MFMC_MODELS:-$ROOT/models}
export MFMC_MODELS=$MODELS
DATA=${MFMC_DATA:-$ROOT/../shared/data}
OUT=$ROOT/$BUILD/eval-quick
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$ROOT/tests/e2e/report-lib.sh"
ko() { fail=$((fail + 1)); echo "[  FAILED  ] $1"; [ -f "$tmp/err" ] && sed 's/^/    | /' "$tmp/out" "$tmp/err" | tail -25; }
[ -x "$MFMC" ] && [ -x "$(dirname "$MFMC")/mfmc-eval" ] || {
    echo "missing $MFMC or mfmc-eval next to it (make $BUILD/rel/mfmc $BUILD/rel/mfmc-eval)"
    echo "[  FAILED  ] 1 test(s)."
    exit 1
}

run "mfmc eval --help" 0 "$MFMC" eval --help
grep -q -- "--quick" "$tmp/out" && ok "--help lists --quick" || ko "--help lists --quick"
run "unknown option: exit 2" 2 "$MFMC" eval --frobnicate
run "bad --threads: exit 2" 2 "$MFMC" eval --threads 0
run "unknown method: exit 2" 2 "$MFMC" eval --methods original,warp
run "unknown recognizer: exit 2" 2 "$MFMC" eval --recognizers nosuch

if [ ! -f "$DATA/lfw-pairs.tsv" ] || [ ! -d "$DATA/ffhq" ]; then
    echo "  skipped: shared data absent ($DATA): the quick evaluation needs LFW pairs and FFHQ faces"
    skipped=$((skipped + 3))
    finish
fi
run "missing data folder: exit 3" 3 "$MFMC" eval --data "$tmp/none" --out "$tmp/o"

# the quick evaluation passes its range checks and writes an offline report
run "mfmc eval --quick passes its checks" 0 nice "$MFMC" eval --quick --out "$OUT" --no-progress
grep -q "^PASS" "$tmp/out" && ok "--quick prints PASS" || ko "--quick prints PASS"
for f in index.html results.json results.md accuracy.svg reid_lfw.svg attributes.svg; do
    [ -s "$OUT/$f" ] || { ko "report file $f"; continue; }
done
ok "report files written"
# (the SVG namespace URI is a name, never fetched)
if sed 's|xmlns="http://www.w3.org/2000/svg"||g' "$OUT/index.html" | grep -q -i -E '<script|<link|@import|https?://|@font-face'; then ko "index.html opens offline (no script, link, font or URL)"; else ok "index.html opens offline"; fi
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["verification"]; assert d["reid"]["lfw"]["synthetic"]' \
    "$OUT/results.json" 2>"$tmp/err" && ok "results.json parses and holds the figures" || ko "results.json"

python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert "strict" not in d["reid"]["lfw"]' "$OUT/results.json" \
    2>"$tmp/err" && ok "the strict level is not measured unless named" || ko "strict left out by default"

# the strict privacy level as a method (stop 51): 20 pairs and 20 FFHQ faces, cached beside the quick run's
run "--methods original,strict" 0 nice "$MFMC" eval --limit 20 --no-demo --methods original,strict --out "$OUT-strict" \
    --no-progress
python3 - "$OUT-strict/results.json" "$OUT/results.json" <<'PY' 2>"$tmp/err" && ok "strict measured: its own column, its judge never verifies, more fallbacks" || ko "strict measured"
import json, sys
d, q = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
# the same 20 FFHQ faces at the same seeds: the third judge refuses draws the standard level publishes (stop 51: 8
# fallbacks of 20 against 3)
fs, fq = d["utility"]["ffhq"]["strict"], q["utility"]["ffhq"]["synthetic"]
assert fs["faces"] == fq["faces"] == 20 and fs["fallback_rate"] > fq["fallback_rate"], (fs, fq)
for ds in ("lfw", "ffhq"):
    r = d["reid"][ds]["strict"]
    assert "synthetic" not in d["reid"][ds], d["reid"][ds].keys()
    assert r["mobilefacenet-tflite"]["faces"] >= 15 and r["mobilefacenet-tflite"]["verification"] == 0, r
PY

# negative checks: a broken anonymizer and a broken recognizer must fail the range checks
run "--break synth-original fails the checks" 1 nice "$MFMC" eval --quick --out "$OUT" --no-progress --break synth-original
grep -q "CHECK FAILED:.*re-identified" "$tmp/out" && ok "... because synthetic faces are re-identified" ||
    ko "... because synthetic faces are re-identified"
run "--break rec-noise fails the checks" 1 nice "$MFMC" eval --quick --out "$OUT" --no-progress --break rec-noise \
    --methods original,blur
grep -q "CHECK FAILED:.*accuracy of the originals" "$tmp/out" && ok "... because the originals' accuracy falls" ||
    ko "... because the originals' accuracy falls"
finish
