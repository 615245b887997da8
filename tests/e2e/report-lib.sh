# cmocka-style result lines of the stand-alone end-to-end tests (sourced by tests/e2e/anonymize.sh, eval.sh,
# privacy-anon.sh; not executable itself, so tools/run-tests.sh does not run it). The sourcing script sets $tmp (a
# scratch folder) before calling these; ok/ko count, run checks an exit code, finish prints the totals that
# tools/run-tests.sh reads and exits non-zero when anything failed.
pass=0 fail=0 skipped=0

ok() { pass=$((pass + 1)); echo "[       OK ] $1"; }
ko() { fail=$((fail + 1)); echo "[  FAILED  ] $1"; [ -f "$tmp/err" ] && sed 's/^/    stderr| /' "$tmp/err" | head -20; }
run() { # name, expected exit code, command... (a sanitizer report on stderr fails it too)
    local name=$1 want=$2
    shift 2
    "$@" >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    if [ "$rc" -eq "$want" ] && ! grep -q -E 'AddressSanitizer|runtime error|LeakSanitizer' "$tmp/err"; then ok "$name"; else ko "$name (exit $rc, expected $want)"; fi
}
finish() {
    echo "[==========] $((pass + fail + skipped)) test(s) run."
    echo "[  PASSED  ] $pass test(s)."
    [ "$skipped" -gt 0 ] && echo "[  SKIPPED ] $skipped test(s)."
    [ "$fail" -gt 0 ] && echo "[  FAILED  ] $fail test(s)."
    [ "$fail" -eq 0 ]
    exit $?
}
