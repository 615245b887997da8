#!/usr/bin/env bash
# Runs every test binary (ASan/UBSan build) and the end-to-end tests, then prints one summary line
# "N passed, N failed, N skipped" counted over all cmocka tests. Exit status 0 only when nothing failed.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export MFMC_GOLDEN=${MFMC_GOLDEN:-$ROOT/$BUILD/golden}

passed=0 failed=0 skipped=0 broken=()
log=$(mktemp)
trap 'rm -f "$log"' EXIT

for t in "$BUILD"/asan/tests/test_* tests/e2e/*.sh; do
    [ -x "$t" ] || continue
    name=${t#"$BUILD"/}
    start=$(date +%s)
    if [[ "$t" == *.sh ]]; then
        BUILD=$BUILD "$t" >"$log" 2>&1
    else
        "$t" >"$log" 2>&1
    fi
    rc=$?
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
    s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
    p=${p:-0} f=${f:-0} s=${s:-0}
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi # crash, sanitizer report or script failure
    passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
    printf '%-44s %4d passed %3d failed %3d skipped  (%ds)\n' "$name" "$p" "$f" "$s" $(($(date +%s) - start))
    if [ "$f" -ne 0 ]; then
        broken+=("$name")
        sed 's/^/    | /' "$log" | tail -60
    fi
done
[ "${#broken[@]}" -eq 0 ] || printf 'failing: %s\n' "${broken[*]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
