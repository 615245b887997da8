#!/usr/bin/env bash
# `make fuzz`: builds every fuzz/fuzz_*.c with libFuzzer + ASan + UBSan (clang) and runs each for SECONDS
# (first argument or FUZZ_SECONDS, default 60) on its seed corpus: fuzz/corpus/<name>/ plus seeds made from
# the installed models. Findings (crash-*, leak-*, timeout-*) land in $BUILD/fuzz/<name>/; exit 1 if any.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}
SECONDS_EACH=${1:-${FUZZ_SECONDS:-60}}
ONLY=${FUZZ_ONLY:-}
MODELS=${MFMC_MODELS:-$ROOT/models}
command -v clang >/dev/null || { echo "fuzz: clang not found (tools/setup.sh installs it)" >&2; exit 1; }
CFLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -mavx2 -mfma -mf16c -D_DEFAULT_SOURCE -Iinclude -Isrc $(pkg-config --cflags libcjson libpng)"
LIBS="$(pkg-config --libs libcjson libjpeg libpng libwebp) -lm -lpthread"
SRC=$(ls src/core/*.c src/image/*.c src/nn/*.c)
found=0
for target in fuzz/fuzz_*.c; do
    name=$(basename "$target" .c)
    name=${name#fuzz_}
    [ -z "$ONLY" ] || [[ ",$ONLY," == *",$name,"* ]] || continue
    out=$BUILD/fuzz/$name
    mkdir -p "$out/corpus"
    echo "fuzz: building $name" >&2
    # shellcheck disable=SC2086
    clang $CFLAGS "$target" $SRC -o "$out/fuzz_$name" $LIBS
    [ -d "fuzz/corpus/$name" ] && cp -n fuzz/corpus/"$name"/* "$out/corpus/" 2>/dev/null || true
    if [ "$name" = tfjs ]; then # seeds: the small human models as [len][json][weights]
        for m in antispoof emotion gender age blazeface-front facemesh-detection-short; do
            j=$MODELS/human/$m.json b=$MODELS/human/$m.bin
            [ -f "$j" ] && [ -f "$b" ] || continue
            python3 -c 'import sys,struct; j=open(sys.argv[1],"rb").read(); sys.stdout.buffer.write(struct.pack("<I",len(j))+j+open(sys.argv[2],"rb").read())' "$j" "$b" >"$out/corpus/seed-$m"
        done
    fi
    if [ "$name" = faceapi ]; then # seed: the real manifest and weights
        j=$MODELS/faceapi/face_recognition_model-weights_manifest.json b=$MODELS/faceapi/face_recognition_model.bin
        [ -f "$j" ] && [ -f "$b" ] &&
            python3 -c 'import sys,struct; j=open(sys.argv[1],"rb").read(); sys.stdout.buffer.write(struct.pack("<I",len(j))+j+open(sys.argv[2],"rb").read())' "$j" "$b" >"$out/corpus/seed-faceapi"
    fi
    if [ "$name" = onnx ] && [ -f "$MODELS/faceplugin/fr_feature.onnx" ]; then cp -n "$MODELS/faceplugin/fr_feature.onnx" "$out/corpus/seed-fr_feature"; fi
    if [ "$name" = tflite ] && [ -f "$MODELS/expo/MobileFaceNet.tflite" ]; then cp -n "$MODELS/expo/MobileFaceNet.tflite" "$out/corpus/seed-mobilefacenet"; fi
    echo "fuzz: running $name for ${SECONDS_EACH}s" >&2
    log=$out/log.txt
    set +e
    (cd "$out" && ./"fuzz_$name" -max_total_time="$SECONDS_EACH" -max_len=$((12 << 20)) -rss_limit_mb=4096 \
        -timeout=30 -print_final_stats=1 corpus >"log.txt" 2>&1)
    rc=$?
    set -e
    tail -n 12 "$log" | grep -E 'stat::number_of_executed_units|stat::peak_rss|Done|ERROR|SUMMARY' >&2 || true
    if [ "$rc" -ne 0 ] || ls "$out"/crash-* "$out"/leak-* "$out"/timeout-* >/dev/null 2>&1; then
        echo "fuzz: $name FOUND A PROBLEM (see $log)" >&2
        found=1
    else
        echo "fuzz: $name ran ${SECONDS_EACH}s without findings" >&2
    fi
done
exit $found
