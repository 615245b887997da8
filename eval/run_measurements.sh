#!/usr/bin/env bash
# Reproduces the figures of docs/anonymization.md (run from the repository root after
# `make build/rel/eval/eval_anon build/rel/mfmc`; MFMC_MODELS set). Writes into reports/ (git-ignored):
#   reports/ffhq60.txt       the fixed 60-face subset (every 5th FFHQ photo) of the before/after table (SUBSET_ONLY=1: only this)
#   reports/ffhq.txt         300 FFHQ faces (the central face of every photo), original | anonymized crops in reports/ffhq_pairs/
#   reports/lfw.txt          LFW, one image per identity (the first image of the first LFW_N identities by name;
#                            LFW_N=1000 for the full protocol, 200 was what fitted the session)
#   reports/demo.txt         every face of the six demo photos
#   reports/sheet_ffhq.png   contact sheet of 24 FFHQ results (seeded shuffle), reports/sheet_demo.png the demo faces
set -euo pipefail
DATA=${MFMC_DATA:-../shared/data}
LFW_N=${LFW_N:-1000}
B=build/rel/eval/eval_anon
mkdir -p reports
nice $B --every 5 --dump reports/ffhq60_pairs "$DATA/ffhq" >reports/ffhq60.txt 2>reports/ffhq60.log
[ -z "${SUBSET_ONLY:-}" ] || exit 0
[ -n "${SKIP_FFHQ:-}" ] || nice $B --dump reports/ffhq_pairs "$DATA/ffhq" >reports/ffhq.txt 2>reports/ffhq.log
ls -d "$DATA"/lfw/*/ | head -"$LFW_N" | while read -r d; do ls "$d"*.jpg | head -1; done >reports/lfw_list.txt
# shellcheck disable=SC2046
nice $B $(cat reports/lfw_list.txt) >reports/lfw.txt 2>reports/lfw.log
nice $B --all-faces --dump reports/demo_pairs "$MFMC_MODELS"/demo/sample{1,2,3,4,5,6}.jpg >reports/demo.txt 2>reports/demo.log
# contact sheets: 24 FFHQ results picked by a seeded shuffle, and every demo face
[ -x build/sheet ] || cc -std=c11 -O2 -D_DEFAULT_SOURCE -Iinclude tools/identity/sheet.c -o build/sheet build/rel/libmfmc.a \
    $(pkg-config --libs libcjson libjpeg libpng libwebp libsodium) -lm -lpthread
build/sheet reports/sheet_ffhq.png 4 320 $(ls reports/ffhq_pairs/*.png | python3 -c 'import random,sys; l=sys.stdin.read().split(); random.Random(10).shuffle(l); print(" ".join(sorted(l[:24])))')
build/sheet reports/sheet_demo.png 4 320 reports/demo_pairs/*.png
