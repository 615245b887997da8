#!/usr/bin/env bash
# End-to-end tests of the real `mfmc` binary (ASan/UBSan build): commands, JSON output, exit codes, and bad
# inputs (truncated JPEG, 0x0 PNG, 40000x40000 header, text file named .jpg) refused with exit 2, no crash.
# Prints cmocka-style closing lines so tools/run-tests.sh can count the checks.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
MFMC=${MFMC:-$ROOT/$BUILD/asan/mfmc}
MODELS=${MFMC_MODELS:-$ROOT/models}
export MFMC_MODELS=$MODELS
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

check() { # name, expected exit code, command...
    local name=$1 want=$2
    shift 2
    "$@" >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    if [ "$rc" -eq "$want" ] && ! grep -q -E 'AddressSanitizer|runtime error|LeakSanitizer' "$tmp/err"; then
        pass=$((pass + 1))
        echo "[       OK ] $name"
    else
        fail=$((fail + 1))
        echo "[  FAILED  ] $name (exit $rc, expected $want)"
        sed 's/^/    stderr| /' "$tmp/err" | head -20
    fi
}

[ -x "$MFMC" ] || { echo "missing $MFMC (make $BUILD/asan/mfmc)"; echo "[  FAILED  ] 1 test(s)"; exit 1; }

check "help" 0 "$MFMC" help
check "no arguments is a usage error" 2 "$MFMC"
check "unknown command" 2 "$MFMC" frobnicate
check "detect without image" 2 "$MFMC" detect
check "detect unknown option" 2 "$MFMC" detect --bogus x.jpg
check "missing file" 2 "$MFMC" detect "$tmp/does-not-exist.jpg"

# bad images, made here
printf 'this is not an image\n' >"$tmp/text.jpg"
check "text file named .jpg" 2 "$MFMC" detect "$tmp/text.jpg"
head -c 20000 "$MODELS/demo/sample1.jpg" >"$tmp/truncated.jpg"
check "truncated JPEG" 2 "$MFMC" detect "$tmp/truncated.jpg"
: >"$tmp/empty.png"
check "empty file" 2 "$MFMC" detect "$tmp/empty.png"
png_header() { # width height -> a PNG signature + IHDR chunk (CRC not checked before the size test)
    printf '\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR'
    printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 >> 24 & 255)) $(($1 >> 16 & 255)) $(($1 >> 8 & 255)) $(($1 & 255)))"
    printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($2 >> 24 & 255)) $(($2 >> 16 & 255)) $(($2 >> 8 & 255)) $(($2 & 255)))"
    printf '\x08\x02\x00\x00\x00\x00\x00\x00\x00'
}
png_header 0 0 >"$tmp/zero.png"
check "0x0 PNG" 2 "$MFMC" detect "$tmp/zero.png"
png_header 40000 40000 >"$tmp/huge.png"
check "40000x40000 PNG header" 2 "$MFMC" detect "$tmp/huge.png"
# a JPEG whose SOF0 claims 40000x40000: the demo photo's SOF0 dimensions patched
python3 - "$MODELS/demo/sample1.jpg" "$tmp/huge.jpg" <<'PY' || true
import sys
d = bytearray(open(sys.argv[1], 'rb').read())
i = d.find(b'\xff\xc0')
d[i + 5:i + 9] = (40000).to_bytes(2, 'big') + (40000).to_bytes(2, 'big')
open(sys.argv[2], 'wb').write(d)
PY
check "40000x40000 JPEG header" 2 "$MFMC" detect "$tmp/huge.jpg"

# real photo: faces found, JSON parses, exit 0; a photo without a face: exit 1
check "detect demo photo" 0 "$MFMC" detect "$MODELS/demo/sample1.jpg"
check "detect --json" 0 "$MFMC" detect --json "$MODELS/demo/sample5.jpg"
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); f=d["faces"]; assert len(f)==5; assert len(f[0]["box"])==4; assert len(f[0]["landmarks"])==468 and len(f[0]["landmarks"][0])==3; assert set(f[0]["pose"])=={"yaw","pitch","roll"}; assert 1<f[0]["age"]<100; assert f[0]["gender"]["label"] in ("female","male")' "$tmp/out"; then
    pass=$((pass + 1)); echo "[       OK ] detect --json output"
else
    fail=$((fail + 1)); echo "[  FAILED  ] detect --json output"; head -c 500 "$tmp/out"
fi
check "detect --privacy --json" 0 "$MFMC" detect --privacy --json "$MODELS/demo/sample5.jpg"
if python3 -c 'import json,sys; f=json.load(open(sys.argv[1]))["faces"]; c=[x for x in f if x["confirmed"]]; assert len(c)==5, len(c); assert all(-180<=x["pose"]["roll"]<=180 for x in f)' "$tmp/out"; then
    pass=$((pass + 1)); echo "[       OK ] detect --privacy: the 5 faces confirmed, roll over the full circle"
else
    fail=$((fail + 1)); echo "[  FAILED  ] detect --privacy output"; head -c 500 "$tmp/out"
fi
check "--privacy belongs to detect only" 2 "$MFMC" embed --privacy "$MODELS/demo/sample1.jpg"
python3 - "$tmp/gradient.png" <<'PY'
import struct, sys, zlib
w, h = 320, 240
rows = b"".join(b"\x00" + bytes(v for x in range(w) for v in (x * 255 // w, y * 255 // h, 128)) for y in range(h))
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
open(sys.argv[1], "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                              + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
PY
check "no face in a gradient: detect lists none, exit 0" 0 "$MFMC" detect --json "$tmp/gradient.png"
if python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["faces"] == []' "$tmp/out"; then
    pass=$((pass + 1)); echo "[       OK ] detect --json with no face"
else
    fail=$((fail + 1)); echo "[  FAILED  ] detect --json with no face"
fi
check "embed needs a face: exit 1" 1 "$MFMC" embed "$tmp/gradient.png"
check "verify needs faces: exit 1" 1 "$MFMC" verify "$tmp/gradient.png" "$MODELS/demo/sample1.jpg"
check "embed --json" 0 "$MFMC" embed --json --model arcface "$MODELS/demo/sample2.jpg"
if python3 -c 'import json,sys,math; d=json.load(open(sys.argv[1])); f=d["faces"]; assert d["model"]=="arcface" and d["dim"]==512 and len(f)==1; e=f[0]["embedding"]; assert len(e)==512 and abs(math.sqrt(sum(x*x for x in e))-1)<1e-3' "$tmp/out"; then
    pass=$((pass + 1)); echo "[       OK ] embed --json output (unit norm, dim)"
else
    fail=$((fail + 1)); echo "[  FAILED  ] embed --json output"; head -c 300 "$tmp/out"
fi
check "embed --all" 0 "$MFMC" embed --all --json "$MODELS/demo/sample5.jpg"
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["faces"])==5' "$tmp/out"; then
    pass=$((pass + 1)); echo "[       OK ] embed --all gives every face"
else
    fail=$((fail + 1)); echo "[  FAILED  ] embed --all gives every face"
fi
check "embed unknown model" 2 "$MFMC" embed --model nosuch "$MODELS/demo/sample1.jpg"
check "verify same photo" 0 "$MFMC" verify "$MODELS/demo/sample3.jpg" "$MODELS/demo/sample3.jpg"
if grep -q "similarity 1.0000" "$tmp/out"; then
    pass=$((pass + 1)); echo "[       OK ] verify of a photo with itself gives similarity 1"
else
    fail=$((fail + 1)); echo "[  FAILED  ] verify of a photo with itself"; cat "$tmp/out"
fi
check "models" 0 "$MFMC" models

echo "[  PASSED  ] $pass test(s)."
[ "$fail" -eq 0 ] || echo "[  FAILED  ] $fail test(s)."
[ "$fail" -eq 0 ]
