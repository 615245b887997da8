#!/usr/bin/env bash
# End-to-end tests of `mfmc anonymize` (ASan/UBSan build): every face changed, --keep, --seed reproducibility,
# --pseudonym consistency across photos, --donors, a batch folder mirrored into OUT, the report, no metadata or thumbnail in
# any output format, and bad input (clear error, exit 2, nothing half-written in OUT). Prints cmocka-style lines.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}
MFMC=${MFMC:-$ROOT/$BUILD/asan/mfmc}
MODELS=${MFMC_MODELS:-$ROOT/models}
export MFMC_MODELS=$MODELS
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
DATA=${MFMC_DATA:-$ROOT/../shared/data}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$ROOT/tests/e2e/report-lib.sh"
[ -x "$MFMC" ] || { echo "missing $MFMC (make $BUILD/asan/mfmc)"; echo "[  FAILED  ] 1 test(s)"; exit 1; }
[ -d "$MODELS/human" ] && [ -f data/identity/synthetic-v1.mfid ] || { echo "  skipped: models absent"; skipped=1; finish; }

# inputs: two photos with faces (FFHQ when the shared data is there, else demo photos)
SRC1=$DATA/ffhq/ffhq_0288.jpg SRC2=$DATA/ffhq/ffhq_0192.jpg
[ -f "$SRC1" ] || SRC1=$MODELS/demo/sample2.jpg
[ -f "$SRC2" ] || SRC2=$MODELS/demo/sample3.jpg
mkdir -p "$tmp/in/sub"
cp "$SRC1" "$tmp/in/a.jpg"
cp "$SRC2" "$tmp/in/sub/b.jpg"
# a JPEG with EXIF (GPS tag) and an embedded thumbnail, a PNG with a text chunk, a WebP: made by python, no PIL
python3 - "$tmp/in/a.jpg" "$tmp/in/exif.jpg" <<'PY'
import struct, sys
src = open(sys.argv[1], 'rb').read()
assert src[:2] == b'\xff\xd8'
thumb = src  # the thumbnail is a whole JPEG (the original face): it must not survive
# minimal TIFF: IFD0 with GPS pointer, IFD1 with JPEGInterchangeFormat(Length)
def ifd(entries, next_off):
    b = struct.pack('<H', len(entries))
    for tag, typ, cnt, val in entries: b += struct.pack('<HHII', tag, typ, cnt, val)
    return b + struct.pack('<I', next_off)
ifd0_off = 8; ifd0 = ifd([(0x8825, 4, 1, 0)], 0)  # placeholders patched below
gps_off = ifd0_off + len(ifd0); gps = ifd([(0x0001, 2, 2, ord('N'))], 0)
ifd1_off = gps_off + len(gps); ifd1 = ifd([(0x0201, 4, 1, 0), (0x0202, 4, 1, len(thumb))], 0)
th_off = ifd1_off + len(ifd1)
ifd0 = ifd([(0x8825, 4, 1, gps_off)], ifd1_off)
ifd1 = ifd([(0x0201, 4, 1, th_off), (0x0202, 4, 1, len(thumb))], 0)
tiff = b'II*\x00' + struct.pack('<I', 8) + ifd0 + gps + ifd1 + thumb
app1 = b'Exif\x00\x00' + tiff
if len(app1) + 2 > 65535: app1 = app1[:65000]
seg = b'\xff\xe1' + struct.pack('>H', len(app1) + 2) + app1
com = b'\xff\xfe' + struct.pack('>H', 2 + 12) + b'secret-notes'
icc = b'ICC_PROFILE\x00\x01\x01' + b'mfmc-test-icc-profile' * 8
app2 = b'\xff\xe2' + struct.pack('>H', len(icc) + 2) + icc
open(sys.argv[2], 'wb').write(src[:2] + seg + app2 + com + src[2:])
PY

run "anonymize one photo with a report" 0 "$MFMC" anonymize "$tmp/in/a.jpg" -o "$tmp/out1.jpg" --seed 5 --report "$tmp/r1.json"
python3 - "$tmp/r1.json" <<'PY' && ok "report lists every face replaced or fallen back, with similarities" || ko "report content"
import json, sys
r = json.load(open(sys.argv[1]))
faces = [f for x in r['files'] for f in x['faces']]
assert faces and all(f['decision'] in ('replaced', 'fallback') for f in faces), faces
assert all('arcface' in f['similarity'] and 'faceapi' in f['similarity'] for f in faces)
# a synthetic face says whether it is an anti-face draw (linkable to the person's other anonymized photos)
assert all(isinstance(f['linkable'], bool) for f in faces if f['method'] == 'synthetic'), faces
PY
python3 - "$tmp/in/a.jpg" "$tmp/out1.jpg" <<'PY' && ok "output differs from the input and keeps its size" || ko "output changed"
import sys
a, b = open(sys.argv[1], 'rb').read(), open(sys.argv[2], 'rb').read()
def size(j):
    i = 2
    while i < len(j):
        m, l = j[i + 1], int.from_bytes(j[i + 2:i + 4], 'big')
        if m in (0xc0, 0xc1, 0xc2): return int.from_bytes(j[i + 5:i + 7], 'big'), int.from_bytes(j[i + 7:i + 9], 'big')
        i += 2 + l
assert a != b and size(a) == size(b)
PY
run "same seed twice" 0 "$MFMC" anonymize "$tmp/in/a.jpg" -o "$tmp/out2.jpg" --seed 5
cmp -s "$tmp/out1.jpg" "$tmp/out2.jpg" && ok "--seed reproduces the output bit for bit" || ko "--seed reproducibility"
# --privacy strict (stop 51): the expo MobileFaceNet joins the guarantee at 0.05; every face is replaced or falls
# back, a replaced face reads under 0.05 to it, and the report says the level
run "--privacy strict" 0 "$MFMC" anonymize "$tmp/in/a.jpg" -o "$tmp/strict.jpg" --seed 5 --privacy strict --report "$tmp/rs.json"
python3 - "$tmp/rs.json" <<'PY' && ok "--privacy strict: the third recognizer checked, under 0.05 on replaced faces" || ko "--privacy strict report"
import json, sys
r = json.load(open(sys.argv[1]))
assert r['privacy'] == 'strict', r
faces = [f for x in r['files'] for f in x['faces']]
assert faces and all(f['decision'] in ('replaced', 'fallback') for f in faces), faces
assert all('mobilefacenet-tflite' in f['similarity'] for f in faces), faces
assert all(f['similarity']['mobilefacenet-tflite'] < 0.05 for f in faces if f['decision'] == 'replaced'), faces
PY
python3 -c "import json,sys; assert json.load(open(sys.argv[1]))['privacy']=='standard'" "$tmp/r1.json" &&
    ok "the report says the standard level by default" || ko "default privacy level in the report"
run "--keep 0" 0 "$MFMC" anonymize "$tmp/in/a.jpg" -o "$tmp/keep.jpg" --keep 0 --report "$tmp/rk.json"
python3 -c "import json,sys; r=json.load(open(sys.argv[1])); f=r['files'][0]['faces'][0]; assert f['decision']=='kept'" "$tmp/rk.json" &&
    ok "--keep leaves the chosen face" || ko "--keep"
run "batch folder" 0 "$MFMC" anonymize "$tmp/in" -o "$tmp/outdir" --seed 1 --report "$tmp/rb.json"
[ -f "$tmp/outdir/a.jpg" ] && [ -f "$tmp/outdir/sub/b.jpg" ] && [ -f "$tmp/outdir/exif.jpg" ] && ok "folder mirrored into OUT" || ko "folder mirrored"
ls -a "$tmp/outdir" "$tmp/outdir/sub" | grep -q mfmc-tmp && ko "temporary files left" || ok "no temporary files left"
python3 - "$tmp/in/exif.jpg" "$tmp/outdir/exif.jpg" <<'PY' && ok "no EXIF, GPS, comment or thumbnail in the JPEG output" || ko "metadata left"
import sys
src, out = open(sys.argv[1], 'rb').read(), open(sys.argv[2], 'rb').read()
assert b'Exif' in src and b'secret-notes' in src
assert b'Exif' not in out and b'secret-notes' not in out and b'XMP' not in out
assert out.count(b'\xff\xd8') == 1  # one SOI: no embedded thumbnail
PY
python3 -c "import sys; assert b'mfmc-test-icc-profile' * 8 in open(sys.argv[1], 'rb').read()" "$tmp/outdir/exif.jpg" &&
    ok "the ICC colour profile is kept" || ko "ICC profile kept"
run "--keep-metadata" 0 "$MFMC" anonymize "$tmp/in/exif.jpg" -o "$tmp/keepmeta.jpg" --seed 2 --keep-metadata
python3 - "$tmp/keepmeta.jpg" <<'PY' && ok "--keep-metadata keeps EXIF and ICC, never the thumbnail or the comment" || ko "--keep-metadata"
import sys
out = open(sys.argv[1], 'rb').read()
assert b'Exif' in out and b'mfmc-test-icc-profile' in out and b'secret-notes' not in out
assert out.count(b'\xff\xd8') == 1  # one SOI: the thumbnail (a whole JPEG) is gone
PY
# a PNG (a gradient, no face) with a text chunk: keeps its format, loses the chunk
python3 - "$tmp/png_in.png" <<'PY'
import sys, zlib, struct
w, h = 64, 64
rows = b''.join(b'\x00' + b''.join(bytes(((x * 4) % 256, (y * 4) % 256, 128)) for x in range(w)) for y in range(h))
def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
png = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0)) + chunk(b'tEXt', b'Comment\x00secret-notes') + chunk(b'IDAT', zlib.compress(rows)) + chunk(b'IEND', b'')
open(sys.argv[1], 'wb').write(png)
PY
run "a photo without faces is written through" 0 "$MFMC" anonymize "$tmp/png_in.png" -o "$tmp/png_out.png" --report "$tmp/rp.json"
python3 - "$tmp/png_out.png" "$tmp/rp.json" <<'PY' && ok "PNG output: PNG, no text chunk, note in the report" || ko "PNG output"
import sys, json
p = open(sys.argv[1], 'rb').read()
assert p[:8] == b'\x89PNG\r\n\x1a\n' and b'tEXt' not in p and b'secret-notes' not in p and b'eXIf' not in p
r = json.load(open(sys.argv[2]))
assert 'no face' in r['files'][0]['note']
PY
# --pseudonym: the same photo twice in one batch gets the same identity, a different key another one
mkdir -p "$tmp/album"
cp "$SRC1" "$tmp/album/1.jpg"
cp "$SRC1" "$tmp/album/2.jpg"
run "--pseudonym over an album" 0 "$MFMC" anonymize "$tmp/album" -o "$tmp/albumout" --pseudonym k1
cmp -s "$tmp/albumout/1.jpg" "$tmp/albumout/2.jpg" && ok "--pseudonym: the same person gets the same synthetic identity" || ko "--pseudonym consistency"
run "--pseudonym another key" 0 "$MFMC" anonymize "$tmp/album/1.jpg" -o "$tmp/k2.jpg" --pseudonym k2 --report "$tmp/rk2.json"
# the key chooses the synthetic identities: the check needs at least one face drawn (a second face of this photo,
# found by the privacy detection, may fall back to the filter, which is the same for any key)
if ! grep -q '"method":"synthetic"' "$tmp/rk2.json"; then
    skipped=$((skipped + 1)); echo "[  SKIPPED ] --pseudonym another key: no face got a synthetic identity (the filter is the same for any key)"
else
    cmp -s "$tmp/albumout/1.jpg" "$tmp/k2.jpg" && ko "--pseudonym: another key must give another identity" || ok "--pseudonym: another key, another identity"
fi
# baselines
run "--method pixelate" 0 "$MFMC" anonymize "$tmp/in/a.jpg" -o "$tmp/pix.webp" --method pixelate
head -c 12 "$tmp/pix.webp" | grep -q WEBP && ok "WebP output by extension" || ko "WebP output"
# bad input: clear error, exit 2, nothing half-written in OUT
printf 'not an image' >"$tmp/bad.jpg"
mkdir -p "$tmp/badout"
run "a corrupt input is exit 2" 2 "$MFMC" anonymize "$tmp/bad.jpg" -o "$tmp/badout"
grep -q "bad.jpg" "$tmp/err" && ok "the error names the file" || ko "error message"
[ -z "$(ls -A "$tmp/badout")" ] && ok "nothing written for a bad input" || ko "half-written output"
run "missing input" 2 "$MFMC" anonymize "$tmp/nope.jpg" -o "$tmp/o.jpg"
run "missing -o" 2 "$MFMC" anonymize "$tmp/in/a.jpg"
run "bad --keep" 2 "$MFMC" anonymize "$tmp/in/a.jpg" -o "$tmp/o.jpg" --keep x
run "unknown method" 2 "$MFMC" anonymize "$tmp/in/a.jpg" -o "$tmp/o.jpg" --method swirl
run "unknown privacy level" 2 "$MFMC" anonymize "$tmp/in/a.jpg" -o "$tmp/o.jpg" --privacy max
run "--threads 2x is refused" 2 "$MFMC" anonymize "$tmp/in/a.jpg" -o "$tmp/o.jpg" --threads 2x
run "--help" 0 "$MFMC" anonymize --help
grep -q "^usage: mfmc anonymize" "$tmp/out" && ok "--help prints the usage on stdout" || ko "--help prints the usage on stdout"
# two folders holding the same name would overwrite each other in OUT: refused before anything is written
mkdir -p "$tmp/clash1" "$tmp/clash2"
cp "$SRC1" "$tmp/clash1/x.jpg"
cp "$SRC2" "$tmp/clash2/x.jpg"
run "two inputs mirrored to the same OUT path are refused" 2 "$MFMC" anonymize "$tmp/clash1" "$tmp/clash2" -o "$tmp/clashout"
[ ! -e "$tmp/clashout" ] && ok "nothing written for clashing inputs" || ko "clashing inputs wrote $(ls "$tmp/clashout")"
# a camera JPEG whose ICC profile libpng lists as a known-incorrect sRGB profile (the demo photo's) written as PNG:
# the profile is dropped with a warning, the photo is still written (it was exit 2, nothing written)
run "JPEG with a profile libpng rejects, written as PNG" 0 "$MFMC" anonymize "$MODELS/demo/sample1.jpg" \
    -o "$tmp/sample1.png" --method blur
[ -s "$tmp/sample1.png" ] && ok "the PNG is written" || ko "the PNG is written"

# --donors (the paper's approach): each face takes a donor photo from the folder, named in the report. 16 donors
# (synth_0000-0015, all on the clean list): with 8, ffhq_0288 failed its 9 draws after mouth30 (arcface 0.241 at the
# last), with 16 its 7th draw is published (arcface 0.175)
if [ -f "$DATA/synthetic/synth_0000.jpg" ]; then
    mkdir -p "$tmp/donors"
    for k in $(seq -w 0 15); do cp "$DATA/synthetic/synth_00$k.jpg" "$tmp/donors/"; done
    run "--donors" 0 "$MFMC" anonymize "$tmp/in/a.jpg" -o "$tmp/donor.jpg" --donors "$tmp/donors" --seed 5 --report "$tmp/rd.json"
    python3 - "$tmp/rd.json" "$tmp/donors" <<'PY' && ok "--donors: every replaced face names a donor photo of the folder" || ko "--donors report"
import json, os, sys
r = json.load(open(sys.argv[1]))
faces = [f for x in r['files'] for f in x['faces']]
assert r['method'] == 'donor' and faces, r
for f in faces:
    assert f['method'] != 'donor' or os.path.dirname(f['donor']) == sys.argv[2], f
assert any(f['method'] == 'donor' for f in faces), faces
PY
    mkdir -p "$tmp/nodonors" && echo "not a photo" >"$tmp/nodonors/x.jpg"
    run "--donors: a folder without a usable face is refused" 2 "$MFMC" anonymize "$tmp/in/a.jpg" -o "$tmp/donor2.jpg" --donors "$tmp/nodonors"
    grep -q "no usable donor face" "$tmp/err" && [ ! -e "$tmp/donor2.jpg" ] && ok "--donors: the error says why, nothing written" || ko "--donors refusal message"
fi

# privacy-grade detection is the default: the demo group photo turned by 90 degrees still has its 3 faces replaced,
# each upright in its own frame (issue 11); --normal-detection is the plain detector
IMG=$ROOT/$BUILD/rel/tools/serve-img
if [ -x "$IMG" ] && "$IMG" turn "$MODELS/demo/sample1.jpg" 1 "$tmp/turned.jpg" 2>"$tmp/err"; then
    run "turned group photo" 0 "$MFMC" anonymize "$tmp/turned.jpg" -o "$tmp/turned-anon.jpg" --seed 5 --summary
    # exactly its 3 faces, each replaced by a synthetic face: nothing else is a candidate (small15 added a 16 px patch
    # of lace on the dress, a zoomed detection of a larger weak box, 0.70, which the mesh rejects: since small16 such
    # a detection needs the mesh's acceptance, docs/detection.md "Branch small16")
    n_syn=$(grep -c ": replaced (synthetic" "$tmp/out")
    if [ "$n_syn" = 3 ] && grep -q "^$tmp/turned.jpg: 3 faces\$" "$tmp/out" && grep -q "^3 faces anonymized, 0 by the fallback filter" "$tmp/out"; then ok "turned group photo: exactly 3 faces, replaced by synthetic faces"; else ko "turned group photo: exactly 3 faces, replaced by synthetic faces ($n_syn synthetic; $(head -1 "$tmp/out"); $(tail -1 "$tmp/out"))"; fi
else
    ko "serve-img turn (build $BUILD/rel/tools/serve-img)"
fi

# (fall30) a clear frontal face whose privacy detection came the wrong way round (its five points turned by about
# 180 degrees, "the mesh is 0.57 face sizes off the detection's points": a mosaic on main a3807b3) is refitted from
# the plain analyser's face and replaced by a synthetic face (read from the shared data at run time, never copied)
LARA=$DATA/lfw/Brian_Lara/Brian_Lara_0001.jpg
if [ -f "$LARA" ]; then
    run "clear face, detection the wrong way round" 0 "$MFMC" anonymize "$LARA" -o "$tmp/lara.jpg" --seed 1 --report "$tmp/rl.json"
    python3 - "$tmp/rl.json" <<'PY' && ok "clear face whose detection came the wrong way round: refitted and replaced" || ko "clear face refitted and replaced"
import json, sys
faces = json.load(open(sys.argv[1]))['files'][0]['faces']
assert len(faces) == 1 and faces[0]['decision'] == 'replaced' and faces[0].get('refit') is True, faces
PY
fi
# (prod31) a second detection of a replaced face (Abdulaziz_Kamilov_0001 face 1: its five points face 0's, its box
# and mesh up and left, "not renderable"): checked against the original on the output, with its similarities in the
# report. Since stop 40 (sym40: symmetric shape deltas, the outline replaced) no seed of 1-40 leaves it covered: at
# its alignments the output reads arcface 0.22-0.52 or faceapi over 0.907 (seed 5: 0.517 / 0.969), so it is filled,
# failing closed. The covered path itself is tested in test_anon (test_duplicate_over_replaced_face_covered); stop
# 38's seed 5 was the one seed of 1-6 it covered then. Since stop 53 (cc53, the colour held near the photo's skin)
# seed 5 covers it again, rightly (arcface 0.184, faceapi 0.853 at its worst alignment: under both thresholds), and
# seeds 1, 2, 6, 7 and 8 fill it (seed 1: 0.292 / 0.912); this test takes seed 1.
KAMILOV=$DATA/lfw/Abdulaziz_Kamilov/Abdulaziz_Kamilov_0001.jpg
if [ -f "$KAMILOV" ]; then
    run "duplicate detection over a replaced face" 0 "$MFMC" anonymize "$KAMILOV" -o "$tmp/kamilov.jpg" --seed 1 --report "$tmp/rk.json"
    python3 - "$tmp/rk.json" <<'PY' && ok "duplicate over a replaced face: checked on the output, filled while the original still reads there" || ko "duplicate over a replaced face checked and filled"
import json, sys
rep = json.load(open(sys.argv[1]))
faces = rep['files'][0]['faces']
assert faces[0]['decision'] == 'replaced', faces[0]
d = faces[1]
cc = d.get('cover_check')
assert cc is not None and cc['covered'] is False and cc['by'] in (0, 3), d
assert faces[cc['by']]['decision'] == 'replaced', d
sim = cc['similarity']
# rightly not covered: some ensemble similarity at or over its dissimilarity threshold
assert sim['arcface'] >= 0.2286 or sim['faceapi'] >= 0.9073, d
assert d['decision'] == 'fallback' and d['method'] in ('solid', 'pixelate'), d
assert rep['covered'] == 0, rep['covered']
PY
fi
finish
