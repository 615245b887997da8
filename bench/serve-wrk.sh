#!/usr/bin/env bash
# Server figures for docs/server.md and docs/access-models.md, on loopback with the real binary:
#  1. per access model (SQLite): analysis time of an upload, first (uncached) and cached render, stored bytes;
#  2. wrk, 100 connections: feed, photo view, upload — on SQLite (one node) and PostgreSQL (two nodes, 50
#     connections each, figures summed / worst p99).
# Needs wrk, a PostgreSQL server package and the synthetic faces (tests/e2e/serve-lib.sh). DUR: seconds per wrk run
# (default 10). Output: markdown on stdout and in $BUILD/bench/serve.md.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../tests/e2e/serve-lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/../tests/e2e/pg-lib.sh"
DUR=${DUR:-10}
OUT=$ROOT/$BUILD/bench/serve.md
mkdir -p "$(dirname "$OUT")"
"$IMG" row 400 "$T/group.jpg" "$SYN/synth_0000.jpg" "$SYN/synth_0001.jpg" "$SYN/synth_0002.jpg"
"$IMG" mirror "$SYN/synth_0000.jpg" "$T/ann-selfie.jpg"
"$IMG" mirror "$SYN/synth_0001.jpg" "$T/bob-selfie.jpg"
O=$T/group.jpg
ms() { python3 -c 'import sys; print("%.1f" % (float(sys.argv[1]) * 1000))' "$1"; }
timed_get() { # USER PATH: seconds (a non-200 answer stops the benchmark)
    local r
    r=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -b "$T/$1.jar" "http://127.0.0.1:$PORT$2")
    [ "${r% *}" = 200 ] || { echo "bench: GET $2 answered ${r% *}" >&2; exit 1; }
    echo "${r#* }"
}
{
echo "## Access models (SQLite, one node, one worker; group photo 1200x400 with 3 faces)"
echo
echo "| model | analysis (upload to ready) | first render of a viewer class, ms | cached render, ms | stored bytes per photo |"
echo "|---|---|---|---|---|"
} | tee "$OUT"
BASEPORT=$((21000 + $$ % 10000))
for model in open sealed strict; do
    PORT=$((BASEPORT + ${#model}))
    rm -f "$T"/*.jar "$T"/*.csrf
    db=$T/$model.db
    start_node n1 $PORT --db "$db" --access-model $model --workers 1
    for u in ann bob cyd; do signup $u; done
    api ann POST /api/friends '{"name":"bob"}' >/dev/null; api bob POST /api/friends '{"name":"ann"}' >/dev/null
    api ann POST /api/friends '{"name":"cyd"}' >/dev/null; api cyd POST /api/friends '{"name":"ann"}' >/dev/null
    api ann POST /api/enrol "@$T/ann-selfie.jpg" >/dev/null; api bob POST /api/enrol "@$T/bob-selfie.jpg" >/dev/null
    wait_enrolled ann 1; wait_enrolled bob 1
    tot=0 first=0 cached=0
    for i in 1 2 3; do
        t0=$(date +%s.%N)
        id=$(upload ann "$O")
        wait_photo ann "$id" >/dev/null
        t1=$(date +%s.%N)
        tot=$(python3 -c "print($tot + $t1 - $t0)")
        api bob POST "/api/photos/$id/faces/1/decision" '{"action":"approve","audience":"friends"}' >/dev/null
        first=$(python3 -c "print($first + $(timed_get cyd "/api/photos/$id/image"))")
        cached=$(python3 -c "print($cached + $(timed_get cyd "/api/photos/$id/image"))")
    done
    bytes=$(python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(int(c.execute("select (coalesce(sum(length(original)),0)+coalesce(sum(length(base)),0))/count(*) from photos").fetchone()[0] + c.execute("select coalesce(sum(length(patch)),0) from faces").fetchone()[0] / 3))' "$db")
    echo "| $model | $(ms "$(python3 -c "print($tot / 3)")") ms | $(ms "$(python3 -c "print($first / 3)")") | $(ms "$(python3 -c "print($cached / 3)")") | $bytes |" | tee -a "$OUT"
    stop_node n1
done

# wrk scripts: an upload (the group photo as body) and plain GETs with the session and CSRF headers
cat >"$T/upload.lua" <<LUA
local f = io.open("$O", "rb"); wrk.body = f:read("*a"); f:close()
wrk.method = "POST"
LUA
# run_wrk NAME PATH SCRIPT PORT... : connections split over the ports; prints "rps p99ms"
run_wrk() {
    local name=$1 path=$2 script=$3
    shift 3
    local n=$# c=$((100 / $#)) i=0 p
    for p in "$@"; do
        wrk -t 2 -c $c -d "${DUR}s" --latency ${script:+-s "$script"} -H "Cookie: mfmc_session=$SESS" \
            -H "X-CSRF-Token: $CSRF" "http://127.0.0.1:$p$path" >"$T/wrk.$i" 2>&1 &
        i=$((i + 1))
    done
    wait $(jobs -p | tail -n $n) 2>/dev/null
    python3 - "$T" $n <<'PY'
import re, sys
t, n = sys.argv[1], int(sys.argv[2])
rps = 0.0; p99 = 0.0; errs = 0
for i in range(n):
    s = open(f"{t}/wrk.{i}").read()
    rps += float(re.search(r"Requests/sec:\s+([\d.]+)", s).group(1))
    m = re.search(r"99%\s+([\d.]+)(us|ms|s)", s)
    v = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
    p99 = max(p99, v)
    e = re.search(r"Non-2xx or 3xx responses: (\d+)", s)
    errs += int(e.group(1)) if e else 0
print(f"{rps:.0f} {p99:.1f} {errs}")
PY
}
bench_store() { # LABEL DB PORT...
    local label=$1 db=$2
    shift 2
    local ports=("$@") k=0 p
    for p in "${ports[@]}"; do start_node "w$k" "$p" --db "$db" --workers 0; k=$((k + 1)); done
    PORT=${ports[0]}
    rm -f "$T"/*.jar "$T"/*.csrf
    signup ann
    SESS=$(awk '$6 == "mfmc_session" {print $7}' "$T/ann.jar") CSRF=$(cat "$T/ann.csrf")
    # a ready photo to view: analysed by a node with a worker
    start_node an $((PORT + 9)) --db "$db" --workers 1
    id=$(upload ann "$O"); wait_photo ann "$id" >/dev/null
    for i in $(seq 1 20); do upload ann "$O" >/dev/null; done
    stop_node an
    read -r f1 f2 f3 <<<"$(run_wrk feed /api/photos "" "${ports[@]}")"
    read -r v1 v2 v3 <<<"$(run_wrk view "/api/photos/$id/image" "" "${ports[@]}")"
    read -r u1 u2 u3 <<<"$(run_wrk upload /api/photos "$T/upload.lua" "${ports[@]}")"
    echo "| $label | $f1 / $f2 ms | $v1 / $v2 ms | $u1 / $u2 ms | $((f3 + v3 + u3)) |" | tee -a "$OUT"
    k=0
    for p in "${ports[@]}"; do stop_node "w$k"; k=$((k + 1)); done
}
{
echo
echo "## wrk, 100 connections, ${DUR} s per route, loopback (requests/s / p99 latency)"
echo
echo "| store | feed | photo view (cached render) | upload (returns at once, 0 workers) | non-2xx |"
echo "|---|---|---|---|---|"
} | tee -a "$OUT"
bench_store "SQLite, 1 node" "$T/wrk.db" $((BASEPORT + 20))
if pg_start; then
    pg_createdb mfmc_wrk
    bench_store "PostgreSQL, 2 nodes" "$(pg_url mfmc_wrk)" $((BASEPORT + 30)) $((BASEPORT + 31))
fi
echo
echo "CPU: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), shared with other work; wrk on the same machine."
