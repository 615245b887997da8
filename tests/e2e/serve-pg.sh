#!/usr/bin/env bash
# mfmc serve on PostgreSQL: a private cluster (tests/e2e/pg-lib.sh), the store unit tests on it, the whole
# scenario of serve.sh per access model with a second node on the same database, a job posted on one node and
# analysed by the other, a PostgreSQL restart survived with reconnects, and kill -9 of a node during uploads
# (no committed photo lost, none half-written, its job taken again).
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/serve-lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/pg-lib.sh"

if [ ! -r "$SYN/synth_0002.jpg" ]; then
    echo "no synthetic faces at $SYN (set MFMC_SYNTHETIC): skipped"
    echo "[  SKIPPED ] 1 test(s)."
    exit 0
fi
check "PostgreSQL cluster starts" pg_start || { finish; exit 1; }
BASEPORT=$((20000 + ($$ + 7) % 12000)) # below the ephemeral ports (32768-): a client socket there made bind fail
db_for() { pg_createdb "mfmc_$1" && pg_url "mfmc_$1"; }
dbq() { "$PGBIN/psql" -At "$1" -c "$2"; }
dbx() { "$PGBIN/psql" -qAt "$1" -c "$2" >/dev/null; }
db_files() { echo "$PGDIR/data/base $PGDIR/data/pg_wal"; }
base_head() { dbq "$1" "select encode(substring(base from 1 for 3), 'hex') from photos where id = $2"; } # DB ID

# store unit tests on PostgreSQL
STORE_TEST=$ROOT/$BUILD/asan/tests/test_store
[ -x "$STORE_TEST" ] || STORE_TEST=$ROOT/$BUILD/rel/tests/test_store
if [ -x "$STORE_TEST" ]; then
    pg_createdb mfmc_unit
    check "store unit tests on PostgreSQL" env MFMC_TEST_PG="$(pg_url mfmc_unit)" "$STORE_TEST"
fi

. "$(dirname "${BASH_SOURCE[0]}")/serve-scenario.sh"
for m in ${SERVE_MODELS:-open sealed strict}; do scenario "$m"; done
. "$(dirname "${BASH_SOURCE[0]}")/serve-gallery.sh"
gallery_scenario

# two nodes: post on n1 (no workers), analysed by n2, viewed on n1
db=$(db_for nodes)
PORT=$((BASEPORT + 50))
start_node n1 $PORT --db "$db" --workers 0 --job-lease 3
start_node n2 $((PORT + 1)) --db "$db" --workers 1 --job-lease 3
rm -f "$T"/*.jar "$T"/*.csrf
signup ann
id=$(upload ann "$O")
check "nodes: upload on n1 returns 202" status_is 202
check "nodes: n2 analysed it" test "$(wait_photo ann "$id")" = ready
check "nodes: n2 took the job" grep -q "^n2$" <(dbq "$db" "select node from jobs where photo_id = $id")
check "nodes: n1 serves the render" view ann "$id" "$T/n1.jpg"

# PostgreSQL restart: both nodes reconnect
pg_stop
pg_ctl_start
api ann GET /api/me >/dev/null
api ann GET /api/me >/dev/null
check "restart: n1 answers after PostgreSQL restarted" status_is 200
id2=$(PORT=$((PORT + 1)) upload ann "$O")
check "restart: n2 takes uploads after PostgreSQL restarted" test "$(wait_photo ann "$id2")" = ready

# kill -9 of the analysing node during uploads: every photo that got its 202 survives and is analysed, by the
# other node once the lease expires; no half-written photo
stop_node n1
start_node n1 $PORT --db "$db" --workers 1 --job-lease 3
stop_node n2
start_node n2 $((PORT + 1)) --db "$db" --workers 0 --job-lease 3
: >"$T/ids"
for i in 1 2 3 4 5 6; do # posted on n2, analysed by n1 until it is killed
    PORT=$((PORT + 1)) api ann POST /api/photos "@$O" >/dev/null && status_is 202 && jget 'd["id"]' >>"$T/ids"
    [ $i = 2 ] && sleep 1 && kill -9 "$PID_n1"
done
check "kill: n2 accepted every upload" test "$(wc -l <"$T/ids")" = 6
start_node n1b $((PORT + 2)) --db "$db" --workers 1 --job-lease 3
PORT=$((PORT + 2))
allready=1
while read -r pid; do [ "$(wait_photo ann "$pid")" = ready ] || allready=0; done <"$T/ids"
check "kill: every accepted photo analysed after the kill" test $allready = 1
check "kill: no half-written photo (ready ones have size and faces)" \
    test "$(dbq "$db" "select count(*) from photos where state = 1 and (w = 0 or n_faces <> (select count(*) from faces f where f.photo_id = photos.id))")" = 0
check "kill: no photo without its job or sealed upload" \
    test "$(dbq "$db" "select count(*) from photos p where state = 0 and (original is null or not exists (select 1 from jobs j where j.photo_id = p.id))")" = 0
finish
