#!/usr/bin/env bash
# Memory of `mfmc serve` per worker count: starts mfmc-serve (or $MFMC_SERVE_BIN, e.g. an older build to compare)
# on a fresh SQLite file with N workers, has one user enrol and post the three-face group photo of the e2e tests
# once per worker (so every worker has run an analysis and holds its buffers), then prints VmRSS and VmHWM.
# usage: bench/serve-rss.sh [WORKERS...]   (default: 1 2)
# Needs ../shared/data/synthetic (MFMC_SYNTHETIC) and the models (MFMC_MODELS). Prints one line per worker count.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SRV=${MFMC_SERVE_BIN:-$ROOT/build/rel/mfmc-serve}
IMG=$ROOT/build/rel/tools/serve-img
SYN=${MFMC_SYNTHETIC:-$ROOT/../shared/data/synthetic}
export MFMC_MODELS=${MFMC_MODELS:-$ROOT/models}
T=$(mktemp -d /tmp/mfmc-serve-rss-XXXXXX)
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$T"' EXIT
"$IMG" row 400 "$T/group.jpg" "$SYN/synth_0000.jpg" "$SYN/synth_0001.jpg" "$SYN/synth_0002.jpg" || exit 1
"$IMG" mirror "$SYN/synth_0000.jpg" "$T/selfie.jpg" || exit 1
PORT=$((21000 + $$ % 10000))
j() { python3 -c 'import json,sys; print(eval(sys.argv[1], {"d": json.load(sys.stdin)}))' "$1"; }
for n in "${@:-1 2}"; do
    rm -f "$T"/db* "$T/jar"
    "$SRV" --db "$T/db" --listen "127.0.0.1:$PORT" --insecure-cookies --workers "$n" >"$T/log" 2>&1 &
    PID=$!
    for _ in $(seq 1 300); do curl -s -o /dev/null "http://127.0.0.1:$PORT/api/openapi.yaml" && break; sleep 0.1; done
    csrf=$(curl -s -c "$T/jar" -d '{"name":"ann","password":"pw-of-ann-123"}' "http://127.0.0.1:$PORT/api/signup" | j 'd["csrf"]')
    c=(-s -b "$T/jar" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/octet-stream')
    curl "${c[@]}" --data-binary "@$T/selfie.jpg" "http://127.0.0.1:$PORT/api/enrol" >/dev/null
    ids=()
    for _ in $(seq 1 "$n"); do
        ids+=("$(curl "${c[@]}" --data-binary "@$T/group.jpg" "http://127.0.0.1:$PORT/api/photos" | j 'd["id"]')")
    done
    for id in "${ids[@]}"; do
        for _ in $(seq 1 1500); do
            [ "$(curl -s -b "$T/jar" "http://127.0.0.1:$PORT/api/photos/$id" | j 'd["state"]')" = pending ] || break
            sleep 0.2
        done
    done
    echo "workers=$n $(grep -h VmRSS /proc/$PID/status | tr -s ' \t' ' ') $(grep -h VmHWM /proc/$PID/status | tr -s ' \t' ' ')"
    kill "$PID"
    wait "$PID" 2>/dev/null
    PID=
done
