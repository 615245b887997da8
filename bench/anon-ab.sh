#!/usr/bin/env bash
# Two builds of bench_anon against each other in the same run (docs/anonymization.md, "Speed of the checks"): runs
# PEER and THIS alternately ROUNDS times with the same arguments, then prints per build the median over the rounds
# of each figure of bench_anon's JSON line (per face: synthetic_le256_ms, synthetic_cpu_ms, mosaic_cpu_ms; --photos:
# synthetic_ms, synthetic_cpu_ms) and THIS / PEER. On a shared machine both builds see the same load.
# usage: bench/anon-ab.sh PEER_BENCH_ANON THIS_BENCH_ANON ROUNDS BENCH_ANON_ARGS...
#   e.g. bench/anon-ab.sh ../base/build/rel/bench/bench_anon build/rel/bench/bench_anon 3 --runs 3 --threads 2 \
#        $MFMC_MODELS/demo/sample{1,4,5}.jpg
# Each build runs from the folder two levels above its bench/ (its own data/identity model).
# THIS_ARGS (environment): more arguments for THIS only, e.g. THIS_ARGS="--strict 1" with the same build as PEER
# times the strict privacy level against the standard one.
set -uo pipefail
[ $# -ge 4 ] || { sed -n '2,9p' "$0"; exit 2; }
peer=$(realpath "$1") this=$(realpath "$2") rounds=$3
shift 3
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for r in $(seq 1 "$rounds"); do
    for b in peer this; do
        bin=${!b}
        extra=()
        [ "$b" = this ] && [ -n "${THIS_ARGS:-}" ] && read -r -a extra <<<"$THIS_ARGS"
        line=$(cd "$(dirname "$bin")/../../.." && "$bin" "$@" "${extra[@]}" | tail -1) || { echo "$b failed" >&2; exit 1; }
        echo "$b $line" >>"$out"
        echo "round $r $b $line" >&2
    done
done
python3 - "$out" <<'PY'
import json, statistics, sys
rows = {"peer": [], "this": []}
for l in open(sys.argv[1]):
    who, js = l.split(" ", 1)
    rows[who].append(json.loads(js))
keys = [k for k in rows["this"][0] if (k.endswith("_ms") or k == "draws") and k in rows["peer"][0]]
for k in keys:
    p = statistics.median(r[k] for r in rows["peer"]); t = statistics.median(r[k] for r in rows["this"])
    print(f"{k:22s} peer {p:9.1f}  this {t:9.1f}  this/peer {t / p if p else float('nan'):.2f}")
for k in (k for k in rows["this"][0] if k.endswith("_ms") and k not in rows["peer"][0]):
    print(f"{k:22s} peer       n/a  this {statistics.median(r[k] for r in rows['this']):9.1f}  (only this build prints it)")
PY
