# Helpers of the server end-to-end tests (sourced by tests/e2e/serve*.sh; not executable itself).
# Nodes are the real mfmc-serve binary; users talk to them with curl (one cookie jar and CSRF token each).
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
SRV=${MFMC_SERVE_BIN:-$ROOT/$BUILD/rel/mfmc-serve} # MFMC_SERVE_BIN: e.g. the ASan build
MFMC=$ROOT/$BUILD/rel/mfmc
IMG=$ROOT/$BUILD/rel/tools/serve-img
export MFMC_MODELS=${MFMC_MODELS:-$ROOT/models}
SYN=${MFMC_SYNTHETIC:-$ROOT/../shared/data/synthetic}
T=$(mktemp -d /tmp/mfmc-serve-e2e-XXXXXX)
NODE_PIDS=()
pass=0 fail=0

cleanup() {
    local p
    for p in "${NODE_PIDS[@]+"${NODE_PIDS[@]}"}"; do kill "$p" 2>/dev/null; done
    for p in "${NODE_PIDS[@]+"${NODE_PIDS[@]}"}"; do wait "$p" 2>/dev/null; done
    ${CLEANUP_HOOK:-true}
    [ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

need() { [ -x "$1" ] || { echo "missing $1 (make $BUILD/rel/${1##*/})"; echo "[  FAILED  ] 1 test(s)"; exit 1; }; }
need "$SRV"; need "$MFMC"; need "$IMG"

# check DESCRIPTION COMMAND...: one test.
check() {
    local d=$1
    shift
    if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $d"; fi
}
finish() {
    # sanitizer builds (MFMC_SERVE_BIN) report into the node logs
    check "no sanitizer report from any node" bash -c "! grep -l 'Sanitizer' '$T'/*.log"
    echo "[==========] $((pass + fail)) test(s) run."
    [ "$pass" -gt 0 ] && echo "[  PASSED  ] $pass test(s)."
    [ "$fail" -gt 0 ] && echo "[  FAILED  ] $fail test(s)."
    [ "$fail" -eq 0 ]
}

# start_node NAME PORT ARGS...: starts mfmc-serve, waits until it answers.
start_node() {
    local name=$1 port=$2
    shift 2
    "$SRV" --listen "127.0.0.1:$port" --insecure-cookies --node "$name" "$@" >>"$T/$name.log" 2>&1 &
    NODE_PIDS+=($!)
    eval "PID_$name=$!"
    for _ in $(seq 1 200); do
        curl -s -o /dev/null "http://127.0.0.1:$port/api/openapi.yaml" && return 0
        sleep 0.1
    done
    echo "node $name did not start:"; cat "$T/$name.log"
    return 1
}
stop_node() { # NAME
    local pid
    eval "pid=\$PID_$1"
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    return 0
}

# api USER METHOD PATH [JSON | @FILE]: body to $T/body, status to $T/status (and stdout). PORT picks the node.
api() {
    local u=$1 m=$2 p=$3 d=${4-} csrf=""
    [ -f "$T/$u.csrf" ] && csrf=$(cat "$T/$u.csrf")
    local args=(-s -o "$T/body" -D "$T/headers" -w '%{http_code}' -b "$T/$u.jar" -c "$T/$u.jar" -X "$m"
                -H "X-CSRF-Token: $csrf")
    if [ -n "$d" ]; then
        if [ "${d:0:1}" = "@" ]; then args+=(--data-binary "$d" -H 'Content-Type: application/octet-stream')
        else args+=(--data-binary "$d" -H 'Content-Type: application/json'); fi
    fi
    : >"$T/body"
    curl "${args[@]}" "http://127.0.0.1:${PORT}$p" >"$T/status"
    cat "$T/status"
}
status_is() { [ "$(cat "$T/status")" = "$1" ]; }
# jget EXPR: evaluates EXPR over the JSON body as `d` (python).
jget() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$T/body" "$1"; }

signup() { # USER
    api "$1" POST /api/signup "{\"name\":\"$1\",\"password\":\"pw-of-$1-123\"}" >/dev/null
    jget 'd["csrf"]' >"$T/$1.csrf"
}
wait_photo() { # USER ID: until ready (or failed); prints the state
    local s=pending
    for _ in $(seq 1 600); do
        api "$1" GET "/api/photos/$2" >/dev/null
        s=$(jget 'd.get("state","?")')
        [ "$s" = pending ] || break
        sleep 0.2
    done
    echo "$s"
}
wait_enrolled() { # USER N
    for _ in $(seq 1 600); do
        api "$1" GET /api/enrol >/dev/null
        [ "$(jget 'd["enrolled"]')" -ge "$2" ] && return 0
        sleep 0.2
    done
    return 1
}
wait_selfie() { # USER: until the last enrolment selfie is processed (GET /api/enrol left in $T/body)
    for _ in $(seq 1 600); do
        api "$1" GET /api/enrol >/dev/null
        [ "$(jget 'd.get("last_selfie", "")')" = pending ] || return 0
        sleep 0.2
    done
    return 1
}
upload() { # USER FILE: prints the photo id
    api "$1" POST /api/photos "@$2" >/dev/null
    jget 'd["id"]'
}
# view USER ID OUT [QUERY]: the image as USER receives it
view() {
    api "$1" GET "/api/photos/$2/image${4-}" >/dev/null
    cp "$T/body" "$3"
    status_is 200
}
# box ID IDX: "x y w h" of face IDX (as ann sees the list; every viewer gets the same boxes)
box() {
    api "${BOXUSER:-ann}" GET "/api/photos/$1/faces" >/dev/null
    jget "' '.join(str(d[$2]['box'][k]) for k in 'xywh')"
}
# face index whose box centre lies in the K-th 400-px column of the group photo
face_in_column() { # ID K
    api "${BOXUSER:-ann}" GET "/api/photos/$1/faces" >/dev/null
    jget "[f['idx'] for f in d if $2*400 <= f['box']['x']+f['box']['w']/2 < ($2+1)*400][0]"
}
region_diff() { # ORIGINAL RECEIVED "x y w h"
    "$IMG" diff "$1" "$2" $3
}
lt() { python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < float(sys.argv[2]) else 1)' "$1" "$2"; }
# shown ORIGINAL RECEIVED "x y w h" real|replaced: real pixels match the original, replaced ones do not. A real
# face differs by the JPEG re-encodings only (mean absolute difference 1-3 at full size); a synthetic face keeps
# the pose, expression and lighting, so it can differ by as little as ~9 on a small face (the demo photo) — that
# it is someone else is what not_similar checks.
shown() {
    local d
    d=$(region_diff "$1" "$2" "$3")
    if [ "$4" = real ]; then lt "$d" 5; else lt 7 "$d"; fi
}
# not_similar ORIGINAL RECEIVED "x y w h": the received face region matches the original under no recognizer of
# the guarantee ensemble (no face found counts as no match)
not_similar() {
    local x y w h m out
    read -r x y w h <<<"$3"
    # the region grown as the replacement grows it, plus context for the detector
    local gx=$((x - w / 2)) gy=$((y - h / 2)) gw=$((w * 2)) gh=$((h * 2))
    "$IMG" crop "$1" $gx $gy $gw $gh "$T/o.png" || return 1
    "$IMG" crop "$2" $gx $gy $gw $gh "$T/r.png" || return 1
    for m in arcface faceapi; do
        out=$("$MFMC" verify "$T/o.png" "$T/r.png" --model $m --json 2>/dev/null)
        case $? in
        1) continue ;; # no face in the received region
        0) python3 -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(1 if d["same_person"] else 0)' "$out" ||
               return 1 ;;
        *) return 1 ;;
        esac
    done
}
