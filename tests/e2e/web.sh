#!/usr/bin/env bash
# The web app (issue 13) end to end in real headless Chromium: starts a real mfmc serve (open access model, a
# temporary SQLite file, one worker) serving web/, builds the group photo and selfies from the shared synthetic
# faces, and runs tests/web/story.mjs (playwright-core from the cache, /usr/bin/chromium). Screenshots of every
# page at 375 and 1280 px go to out/web-shots/ (git-ignored; WEB_SHOTS overrides). Skips without the data.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/serve-lib.sh"

if [ ! -r "$SYN/synth_0002.jpg" ]; then
    echo "no synthetic faces at $SYN (set MFMC_SYNTHETIC): skipped"
    echo "[  SKIPPED ] 1 test(s)."
    exit 0
fi
if [ ! -x /usr/bin/chromium ]; then
    echo "no /usr/bin/chromium: run tools/setup.sh (tools/apt-packages.txt lists chromium)"
    echo "[  FAILED  ] 1 test(s)."
    exit 1
fi
NM=$("$ROOT/tools/web/node-deps.sh") || { echo "playwright-core not installed (tools/web/node-deps.sh)"; echo "[  FAILED  ] 1 test(s)."; exit 1; }

# people: ann = synth_0000, bob = synth_0001, a stranger nobody enrolled = synth_0002; selfies are mirrored pictures
"$IMG" row 400 "$T/group.jpg" "$SYN/synth_0000.jpg" "$SYN/synth_0001.jpg" "$SYN/synth_0002.jpg" || exit 1
"$IMG" mirror "$SYN/synth_0000.jpg" "$T/ann.jpg" || exit 1
"$IMG" mirror "$SYN/synth_0001.jpg" "$T/bob.jpg" || exit 1

PORT=$((20000 + $$ % 12000 + 7)) # below the ephemeral ports (32768-)
start_node web $PORT --db "$T/web.db" --access-model open --workers 1 --web "$ROOT/web" || { echo "[  FAILED  ] 1 test(s)."; exit 1; }
check "/ serves the app with CSP default-src 'self'" \
    bash -c "curl -sD - -o /dev/null http://127.0.0.1:$PORT/ | grep -qi \"content-security-policy: default-src 'self'\""
check "modules are served as JavaScript" \
    bash -c "curl -sD - -o /dev/null http://127.0.0.1:$PORT/js/app.mjs | grep -qi 'content-type: text/javascript'"
check "no path escapes web/" bash -c "[ \"\$(curl -s --path-as-is -o /dev/null -w '%{http_code}' http://127.0.0.1:$PORT/../README.md)\" = 404 ]"
check "no external script, font or stylesheet in web/" bash -c "! grep -rEn '(src|href)=\"https?:|url\\(https?:|@import' '$ROOT/web'"

SHOTS=${WEB_SHOTS:-$ROOT/out/web-shots}
mkdir -p "$SHOTS"
BASE=http://127.0.0.1:$PORT T=$T SHOTS=$SHOTS IMG=$IMG MFMC=$MFMC NODE_MODULES=$NM \
    node "$ROOT/tests/web/story.mjs" | tee "$T/story.log"
rc=${PIPESTATUS[0]}
sp=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$T/story.log")
sf=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$T/story.log")
pass=$((pass + ${sp:-0})) fail=$((fail + ${sf:-0}))
[ "$rc" -eq 0 ] || [ "${sf:-0}" -gt 0 ] || fail=$((fail + 1))
echo "screenshots: $SHOTS"
finish
