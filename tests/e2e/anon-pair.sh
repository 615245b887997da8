#!/usr/bin/env bash
# End-to-end test of eval/anon-pair.py (the paired comparison of two eval_anon runs that docs/anonymization.md's
# paired figures come from): usage errors exit 2; on two hand-written eval_anon logs of three faces (one face the
# same draw log but another published face, one redrawn, one a filter fallback in the second run) every printed
# figure is the one worked out by hand below, and --changed writes the redrawn synthetic face, the face whose kind
# changed and (.moved) the synthetic faces whose similarities differ.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$ROOT/tests/e2e/report-lib.sh"
PAIR="$ROOT/eval/anon-pair.py"
command -v python3 >/dev/null || { echo "[  FAILED  ] python3 missing"; echo "[  FAILED  ] 1 test(s)."; exit 1; }

run "--help: exit 0" 0 python3 "$PAIR" --help
grep -q "PEER.err THIS.err" "$tmp/out" && ok "--help shows the usage" || ko "--help shows the usage"
run "no arguments: exit 2" 2 python3 "$PAIR"
run "unknown option: exit 2" 2 python3 "$PAIR" --frobnicate a b
run "missing file: exit 2" 2 python3 "$PAIR" "$tmp/none.err" "$tmp/none2.err"

cat >"$tmp/a.err" <<'LOG'
../d/a.jpg: ok tries 1 ms 10
  draws o: -2.000; age 30; rung 0
  tone 0 ../d/a.jpg: dY 1.0 dC 5.0 contrast 1.5 strong
  face 0 ../d/a.jpg: sims arcface 0.100 faceapi 0.800; worst jitter arcface 0.100 faceapi 0.800
../d/b.jpg: ok tries 2 ms 10
  draws Ao: 0.300 -2.000; age 30 31; rung 0 1
  tone 1 ../d/b.jpg: dY 1.0 dC 1.0 contrast 0.9
  face 1 ../d/b.jpg: sims arcface 0.200 faceapi 0.850; worst jitter arcface 0.200 faceapi 0.850
../d/c.jpg: ok strong tries 2 ms 10
  draws Ao: 0.300 -2.000; age 30 31; rung 0 1
  tone 2 ../d/c.jpg: dY 1.0 dC 7.0 contrast 1.2 strong
  face 2 ../d/c.jpg: sims arcface 0.150 faceapi 0.820; worst jitter arcface 0.150 faceapi 0.820
LOG
cat >"$tmp/b.err" <<'LOG'
../d/a.jpg: ok tries 1 ms 10
  draws o: -2.000; age 30; rung 0
  tone 0 ../d/a.jpg: dY 1.0 dC 2.0 contrast 1.0 strong
  face 0 ../d/a.jpg: sims arcface 0.120 faceapi 0.800; worst jitter arcface 0.120 faceapi 0.800
../d/b.jpg: FALLBACK tries 9 ms 10 fallback after 9 draws: arcface similarity 0.300
  draws AAAAAAAAA: 0.300 0.300 0.300 0.300 0.300 0.300 0.300 0.300 0.300; age 30; rung 0
  face 1 ../d/b.jpg: sims arcface 0.200 faceapi 0.850; worst jitter arcface 0.200 faceapi 0.850
../d/c.jpg: ok strong tries 3 ms 10
  draws AAo: 0.300 0.300 -2.000; age 30 31 32; rung 0 1 2
  tone 2 ../d/c.jpg: dY 1.0 dC 3.0 contrast 1.6 strong
  face 2 ../d/c.jpg: sims arcface 0.110 faceapi 0.830; worst jitter arcface 0.110 faceapi 0.830
LOG
run "two runs: exit 0" 0 python3 "$PAIR" "$tmp/a.err" "$tmp/b.err" --changed "$tmp/ch"
# by hand: arcface differences +0.02 (a), 0 (b), -0.04 (c); faceapi 0, 0, +0.01; b is filtered in the second run
expect() { grep -qFx -- "$1" "$tmp/out" && ok "prints: $1" || { ko "prints: $1"; sed 's/^/    out| /' "$tmp/out"; }; }
expect "faces both 3, same draw log 1, changed 2"
expect "same draw log but other similarities 1 (published faces that differ: 2)"
expect "all 3 arcface -0.0067+-0.0176  faceapi +0.0033+-0.0033"
expect "changed 2 arcface -0.0200+-0.0200  faceapi +0.0050+-0.0050"
expect "published synthetic in both 2 (changed 1); peer filtered 0, this filtered 1"
expect "syn-both 2 arcface -0.0100+-0.0300  faceapi +0.0050+-0.0050"
expect "tone peer: faces 3, chroma change > 4: 2, > 6: 1; strong faces 2, contrast > 1.4: 1"
expect "tone this: faces 2, chroma change > 4: 0, > 6: 0; strong faces 2, contrast > 1.4: 1"
[ "$(cat "$tmp/ch" 2>/dev/null)" = "0002" ] && ok "--changed: the redrawn synthetic face" || ko "--changed: the redrawn synthetic face ($(cat "$tmp/ch" 2>/dev/null))"
[ "$(cat "$tmp/ch.filt" 2>/dev/null)" = "0001" ] && ok "--changed: the face that became a filter" || ko "--changed: the face that became a filter"
[ "$(cat "$tmp/ch.moved" 2>/dev/null)" = "0000 0002" ] && ok "--changed: the synthetic faces whose similarities moved, the same draw log or not" || ko "--changed: .moved ($(cat "$tmp/ch.moved" 2>/dev/null))"
# the same run against itself: nothing changed, every difference zero
run "a run against itself: exit 0" 0 python3 "$PAIR" "$tmp/a.err" "$tmp/a.err"
expect "faces both 3, same draw log 3, changed 0"
expect "same draw log but other similarities 0 (published faces that differ: 0)"
expect "all 3 arcface +0.0000+-0.0000  faceapi +0.0000+-0.0000"
finish
