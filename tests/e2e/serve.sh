#!/usr/bin/env bash
# mfmc serve end to end, on the real binary and a real SQLite file, once per access model (open, sealed, strict):
# sign-up, friends, enrolment, a group photo of three faces (two enrolled people and a stranger; synthetic faces
# of nobody stand in for people), decisions and standing rules, what each viewer receives checked pixel by
# pixel, and every leak route of issue 12 item 8 that the server has: other ids, thumbnails and sizes,
# downloads, range requests, cached renders for the wrong viewer, EXIF, error bodies, API JSON. Plus CSRF,
# login rate limiting, malformed and abandoned uploads, export, enrolment and account deletion, and a second
# node on the same database file. The scenario is tests/e2e/serve-scenario.sh.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/serve-lib.sh"

if [ ! -r "$SYN/synth_0002.jpg" ]; then
    echo "no synthetic faces at $SYN (set MFMC_SYNTHETIC): skipped"
    echo "[  SKIPPED ] 1 test(s)."
    exit 0
fi
BASEPORT=$((20000 + $$ % 12000)) # below the ephemeral ports (32768-): a client socket there made bind fail
db_for() { echo "$T/$1.db"; }
dbq() { python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$1" "$2"; }
dbx() { python3 -c 'import sqlite3,sys; c = sqlite3.connect(sys.argv[1], timeout=30); c.executescript(sys.argv[2]); c.commit()' "$1" "$2"; }
db_files() { echo "$1"*; }
base_head() { dbq "$1" "select lower(hex(substr(base, 1, 3))) from photos where id = $2"; } # DB ID
. "$(dirname "${BASH_SOURCE[0]}")/serve-scenario.sh"

# `mfmc serve` runs the server binary; without --db it makes ./mfmc.db (SQLite, WAL)
check "mfmc serve --help" bash -c "'$MFMC' serve --help | grep -q 'access-model'"
check "mfmc serve --bogus is a usage error" bash -c "'$MFMC' serve --bogus 2>/dev/null; [ \$? = 2 ]"
mkdir -p "$T/cwd"
(cd "$T/cwd" && exec "$MFMC" serve --listen "127.0.0.1:$((BASEPORT + 99))" --workers 0 >"$T/default.log" 2>&1) &
NODE_PIDS+=($!)
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$((BASEPORT + 99))/api/openapi.yaml" && break; sleep 0.1; done
check "mfmc serve answers and serves its OpenAPI document" bash -c "curl -s http://127.0.0.1:$((BASEPORT + 99))/api/openapi.yaml | grep -q '^openapi: 3'"
check "mfmc serve defaults to ./mfmc.db in WAL mode" test -f "$T/cwd/mfmc.db-wal"
# the web app (web/ found next to the binary's source tree): its files with their own headers, nothing outside
U=http://127.0.0.1:$((BASEPORT + 99))
check "/ is the web app's page (text/html)" bash -c "curl -sD - -o /dev/null $U/ | grep -qi '^content-type: text/html'"
check "... with CSP default-src 'self' and revalidated caching" bash -c "curl -sD - -o /dev/null $U/ | grep -qi \"^content-security-policy: default-src 'self'\" && curl -sD - -o /dev/null $U/ | grep -qi '^cache-control: no-cache'"
check "... 304 for a matching ETag" bash -c "e=\$(curl -sD - -o /dev/null $U/css/app.css | sed -n 's/^[Ee][Tt][Aa][Gg]: //p' | tr -d '\r'); [ \"\$(curl -s -o /dev/null -w '%{http_code}' -H \"If-None-Match: \$e\" $U/css/app.css)\" = 304 ]"
for bad in /../README.md /.git/config /js/../../Makefile /%2e%2e/README.md /web/index.html /index.html/ /README.md /x.exe; do
    check "web path $bad is 404" bash -c "[ \"\$(curl -s --path-as-is -o /dev/null -w '%{http_code}' '$U$bad')\" = 404 ]"
done
# selfies waiting for analysis count against the enrolment cap (a node without workers: they stay queued)
curl -s -c "$T/q.jar" -H 'Content-Type: application/json' -d '{"name":"quinn","password":"pw-of-quinn-1"}' "$U/api/signup" >"$T/body"
QCSRF=$(jget 'd["csrf"]')
for i in 1 2 3 4 5 6; do
    curl -s -o /dev/null -w '%{http_code}\n' -b "$T/q.jar" -H "X-CSRF-Token: $QCSRF" --data-binary "@$SYN/synth_0000.jpg" "$U/api/enrol"
done >"$T/enrol-codes"
check "5 queued selfies accepted, the 6th refused (enrolment_full)" test "$(tr '\n' ' ' <"$T/enrol-codes")" = "202 202 202 202 202 409 "
curl -s -b "$T/q.jar" "$U/api/enrol" >"$T/body"
check "... and reported as pending" test "$(jget 'd["pending"]')/$(jget 'd["enrolled"]')" = 5/0

for m in ${SERVE_MODELS:-open sealed strict}; do scenario "$m"; done
. "$(dirname "${BASH_SOURCE[0]}")/serve-gallery.sh"
gallery_scenario
finish
