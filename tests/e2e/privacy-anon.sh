#!/usr/bin/env bash
# End-to-end test of issue 11's anonymizer check (docs/detection.md, "Anonymizing the set"): `mfmc anonymize` (ASan
# build, default options: privacy detection, synthetic faces) on a small set built at test time from the shared
# data (tests/tools/privacy-anon-set: a face turned 90 and 180 degrees, one cut at 50% by the left border, a grid of
# 12 faces; PNG, so an untouched region stays bit-identical) must leave no truth face region unchanged and none
# similar to the original for arcface (eval/eval_privacy_anon --compare: each region turned upright, embedded where
# a face is still found). The checker is first run on the untouched set, where it must report every face as a
# failure (it can fail). Skips when ../shared/data is absent. Prints cmocka-style lines.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}
MFMC=${MFMC:-$ROOT/$BUILD/asan/mfmc}
CHECK=$ROOT/$BUILD/rel/eval/eval_privacy_anon
MAKESET=$ROOT/$BUILD/rel/tools/privacy-anon-set
MODELS=${MFMC_MODELS:-$ROOT/models}
export MFMC_MODELS=$MODELS
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
DATA=${MFMC_DATA:-$ROOT/../shared/data}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$ROOT/tests/e2e/report-lib.sh"
for x in "$MFMC" "$CHECK" "$MAKESET"; do
    [ -x "$x" ] || { echo "missing $x (make $BUILD/asan/mfmc $BUILD/rel/eval/eval_privacy_anon $BUILD/rel/tools/privacy-anon-set)"; echo "[  FAILED  ] 1 test(s)"; exit 1; }
done
[ -d "$MODELS/human" ] && [ -f data/identity/synthetic-v1.mfid ] || { echo "  skipped: models absent"; skipped=1; finish; }
[ -d "$DATA/ffhq" ] || { echo "  skipped: no shared data at $DATA"; skipped=1; finish; }

# column of the checker's table by header name, for variant $2 of table file $3
col() { awk -F'\t' -v c="$1" -v v="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == c) k = i } $1 == v { print $k }' "$3"; }

if "$MAKESET" "$MODELS" "$DATA" "$tmp/set" >"$tmp/out" 2>"$tmp/err" && [ "$(wc -l <"$tmp/set/truth.tsv")" -eq 4 ]; then
    ok "the small set is built (rot90, rot180, cutl50, grid12)"
else
    ko "the small set is built"
    finish
fi

# the checker can fail: on the untouched set every face region is unchanged, and similar where it is embeddable
"$CHECK" --compare "$tmp/set" "$tmp/set" >"$tmp/same.tsv" 2>"$tmp/err"
rc=$?
if [ "$rc" -eq 1 ] && [ "$(col left_unchanged grid12 "$tmp/same.tsv")" = 12 ] &&
    [ "$(col left_similar rot90 "$tmp/same.tsv")" = 1 ] && [ "$(col left_similar rot180 "$tmp/same.tsv")" = 1 ] &&
    [ "$(col left_unchanged cutl50 "$tmp/same.tsv")" = 1 ]; then
    ok "the checker fails an untouched set (every face unchanged, the embeddable ones similar)"
else
    ko "the checker fails an untouched set (exit $rc)"
    sed 's/^/    | /' "$tmp/same.tsv"
fi

if "$MFMC" anonymize "$tmp/set" -o "$tmp/anon" --report "$tmp/report.json" >"$tmp/out" 2>"$tmp/err" &&
    ! grep -q -E 'AddressSanitizer|runtime error|LeakSanitizer' "$tmp/err"; then
    ok "mfmc anonymize (default options) on the set"
else
    ko "mfmc anonymize (default options) on the set"
fi
python3 - "$tmp/report.json" <<'PY' && ok "the report: at least 15 faces, each replaced or fallen back" || ko "the report: at least 15 faces, each replaced or fallen back"
import json, sys
r = json.load(open(sys.argv[1]))
faces = [f for x in r['files'] for f in x['faces']]
assert len(faces) >= 15, len(faces)
assert all(f['decision'] in ('replaced', 'fallback') for f in faces), faces
PY

"$CHECK" --compare "$tmp/set" "$tmp/anon" >"$tmp/anon.tsv" 2>"$tmp/err"
rc=$?
mv "$tmp/err" "$tmp/check.err"
sed 's/^/    | /' "$tmp/anon.tsv"
[ "$rc" -le 1 ] && ok "the checker ran (exit $rc)" || ko "the checker ran (exit $rc)"
for v in rot90:1 rot180:1 cutl50:1 grid12:12; do
    name=${v%%:*} n=${v##*:}
    faces=$(col faces "$name" "$tmp/anon.tsv") repl=$(col replaced "$name" "$tmp/anon.tsv")
    sim=$(col left_similar "$name" "$tmp/anon.tsv") unch=$(col left_unchanged "$name" "$tmp/anon.tsv")
    if [ "$faces" = "$n" ] && [ "$repl" = "$n" ] && [ "$sim" = 0 ] && [ "$unch" = 0 ]; then
        ok "$name: all $n face(s) changed, none left similar"
    else
        ko "$name: $n face(s): ${faces:-?} checked, ${repl:-?} changed, ${sim:-?} left similar, ${unch:-?} unchanged"
        grep "^FAIL $name " "$tmp/check.err" | sed 's/^/    | /'
    fi
done
# the arcface check is not vacuous: the turned faces and most of the grid can still be embedded upright
e1=$(col embeddable_before rot90 "$tmp/anon.tsv") e2=$(col embeddable_before rot180 "$tmp/anon.tsv") eg=$(col embeddable_before grid12 "$tmp/anon.tsv")
emb=$(( ${e1:-0} + ${e2:-0} ))
[ "$emb" -eq 2 ] && [ "${eg:-0}" -ge 10 ] &&
    ok "the original regions are embeddable (rot90 + rot180: $emb, grid: ${eg:-0})" ||
    ko "the original regions are embeddable"
finish
