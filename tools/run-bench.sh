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
