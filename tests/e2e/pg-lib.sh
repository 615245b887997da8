# A throw-away PostgreSQL cluster for the server tests (sourced; not executable): initdb in $T/pg, started on a
# private port, on loopback and a socket in its own folder, as the calling user — or as `postgres` when the tests
# run as root (PostgreSQL refuses root) — and stopped on exit. Needs the Debian `postgresql` package
# (tools/apt-packages.txt; `make test` installs it).
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
PGPORT=${PGPORT:-$((30000 + $$ % 20000))}
PGDIR=$T/pg
PGRUN=()

pg_start() {
    [ -x "$PGBIN/initdb" ] || { echo "no PostgreSQL server (apt-get install postgresql)"; return 1; }
    mkdir -p "$PGDIR"
    if [ "$(id -u)" = 0 ]; then
        chmod 711 "$T"
        chown postgres: "$PGDIR"
        PGRUN=(runuser -u postgres --)
    fi
    "${PGRUN[@]}" "$PGBIN/initdb" -D "$PGDIR/data" -A trust -U mfmc --no-sync >"$T/initdb.log" 2>&1 ||
        { cat "$T/initdb.log"; return 1; }
    pg_ctl_start
}
pg_ctl_start() {
    "${PGRUN[@]}" "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w -t 30 \
        -o "-p $PGPORT -k $PGDIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start \
        >/dev/null || { cat "$PGDIR/server.log"; return 1; }
}
pg_stop() {
    [ -f "$PGDIR/data/postmaster.pid" ] && "${PGRUN[@]}" "$PGBIN/pg_ctl" -D "$PGDIR/data" -m fast -w stop >/dev/null 2>&1
    return 0
}
pg_url() { echo "postgres://mfmc@127.0.0.1:$PGPORT/$1"; }
pg_createdb() { "$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U mfmc "$1"; }
CLEANUP_HOOK=pg_stop
