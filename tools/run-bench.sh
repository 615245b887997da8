#!/usr/bin/env bash
# `make bench`: every model on mfmc (1 and 2 threads) and on its peer in the same run (TF.js-wasm for the
# TF.js graphs and face-api, onnxruntime-node for fr_feature), then one table with medians, ratios and the share
# of this CPU's fp32 peak. The table goes to stdout and to $BUILD/bench/report.md.
# Environment: RUNS (default 30), MODELS (comma list, default all), BUILD.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}
RUNS=${RUNS:-30}
ALL=blazeface,blazeface-front,facemesh-detection-short,facemesh-detection-full,facemesh,iris,faceres,faceres-deep,mobileface,mobilefacenet,gear,age,gender,gender-ssrnet-imdb,emotion,antispoof,selfie,faceapi-recognition
MODELS=${MODELS:-$ALL,fr_feature}
out=$BUILD/bench
mkdir -p "$out"
raw=$out/raw.jsonl
: >"$raw"

tfjs_models=$(tr ',' '\n' <<<"$MODELS" | grep -v '^fr_feature$' | paste -sd, || true)
echo "bench: mfmc, $RUNS runs per model and thread count" >&2
"$BUILD/rel/bench/bench_models" --runs "$RUNS" --models "$MODELS" >>"$raw"
for t in 1 2; do
    if [ -n "$tfjs_models" ]; then
        echo "bench: TF.js-wasm, $t thread(s)" >&2
        node tools/bench/tfjs-bench.js --models "$tfjs_models" --runs "$RUNS" --threads "$t" |
            sed "s/^{/{\"requested_threads\":$t,/" >>"$raw"
    fi
    if grep -q fr_feature <<<"$MODELS"; then
        echo "bench: onnxruntime-node, $t thread(s)" >&2
        node tools/bench/ort-bench.js --ftz --runs "$RUNS" --threads "$t" | sed "s/^{/{\"requested_threads\":$t,/" >>"$raw"
    fi
done
node tools/bench/report.js "$raw" | tee "$out/report.md"

# Full analysis of each demo photo (detect + mesh + attributes + one embedding per face): mfmc's pipeline, then
# the same network evaluations replayed on TF.js-wasm (ready-made input tensors: no decoding or cropping).
if [ "${PIPELINE:-1}" = 1 ]; then
    praw=$out/pipeline.jsonl
    : >"$praw"
    echo "bench: analysis pipeline on the demo photos" >&2
    "$BUILD/rel/bench/bench_pipeline" --runs "${PIPELINE_RUNS:-5}" >>"$praw"
    while read -r line; do
        photo=$(sed 's/.*"model":"\([^"]*\)".*/\1/' <<<"$line")
        t=$(sed 's/.*"threads":\([0-9]*\).*/\1/' <<<"$line")
        work=$(sed 's/.*"work":"\([^"]*\)".*/\1/' <<<"$line")
        node tools/bench/tfjs-bench.js --work "$work" --label "$photo" --runs "${PIPELINE_RUNS:-5}" --warmup 1 \
            --threads "$t" | sed "s/^{/{\"requested_threads\":$t,/" >>"$praw"
    done < <(grep '"runtime":"mfmc"' "$praw")
    echo
    echo "Full analysis per demo photo (median ms; the peer runs the same network evaluations):"
    node tools/bench/report.js "$praw" | tee "$out/pipeline.md"
fi
