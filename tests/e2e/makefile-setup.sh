#!/usr/bin/env bash
# Issue 8, item 1: on a fresh machine the -dev packages (and so their pkg-config flags) only exist once setup has
# run, yet the first `make demo` must build. Here a fake pkg-config reports the packages missing until a fake
# tools/setup.sh (in a copy of the tree) has run, and a fake compiler records its command lines (and makes empty outputs, so nothing
# is really compiled): every compile and link of `make demo` must carry the flags pkg-config gives after setup.
# Prints cmocka-style closing lines so tools/run-tests.sh can count the checks.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "[       OK ] $1"; }
ko() { fail=$((fail + 1)); echo "[  FAILED  ] $1"; }

mkdir -p "$tmp/bin"
# pkg-config: the packages exist once the fake setup has left its stamp
cat >"$tmp/bin/pkg-config" <<EOS
#!/bin/sh
if [ ! -e "$tmp/setup-done" ]; then
    echo "Package libcjson was not found in the pkg-config search path." >&2
    exit 1
fi
case "\$1" in
--cflags) echo "-I$tmp/fake-include/cjson -DFAKE_PKG_CFLAGS" ;;
--libs) echo "-lfake_pkg_libs" ;;
*) exit 1 ;;
esac
EOS
# setup: installs the "packages"
cat >"$tmp/bin/fake-setup" <<EOS
#!/bin/sh
echo "fake setup: installing packages"
touch "$tmp/setup-done"
EOS
# cc: logs its arguments; for -o OUT writes an executable that succeeds (so `mfmc demo` runs)
cat >"$tmp/bin/fake-cc" <<EOS
#!/bin/sh
[ "\$1" = -dumpmachine ] && { echo x86_64-linux-gnu; exit 0; }
echo "\$*" >>"$tmp/cc.log"
out=
while [ \$# -gt 0 ]; do
    [ "\$1" = -o ] && { out=\$2; shift; }
    shift
done
[ -n "\$out" ] && printf '#!/bin/sh\nexit 0\n' >"\$out" && chmod +x "\$out"
exit 0
EOS
chmod +x "$tmp/bin/"*

# a copy of the tree without build output or models (the files git tracks or would), as after a fresh clone
git -C "$ROOT" ls-files -z --cached --others --exclude-standard | (cd "$ROOT" && tar --null -T - -cf -) | (mkdir -p "$tmp/clone" && tar -xf - -C "$tmp/clone")
cp "$tmp/bin/fake-setup" "$tmp/clone/tools/setup.sh"

run_make() { # target: make in the clone with the fakes; output in $tmp/make.log
    (cd "$tmp/clone" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL PATH="$tmp/bin:$PATH" \
        make "$1" CC="$tmp/bin/fake-cc" MFMC_MODELS="$tmp/models" >"$tmp/make.log" 2>&1)
}

run_make demo
rc=$?
if [ "$rc" -eq 0 ]; then ok "first make demo succeeds"; else ko "first make demo succeeds (exit $rc)"; sed 's/^/    make| /' "$tmp/make.log" | tail -15; fi
[ -e "$tmp/setup-done" ] && ok "make demo ran the setup" || ko "make demo ran the setup"
n_cc=$(grep -c ' -c ' "$tmp/cc.log" 2>/dev/null || echo 0)
n_bad=$(grep ' -c ' "$tmp/cc.log" 2>/dev/null | grep -c -v -- '-DFAKE_PKG_CFLAGS')
if [ "$n_cc" -gt 10 ] && [ "$n_bad" -eq 0 ]; then
    ok "all $n_cc compiles carry pkg-config's flags"
else
    ko "all compiles carry pkg-config's flags ($n_bad of $n_cc without)"
    grep ' -c ' "$tmp/cc.log" 2>/dev/null | grep -v -- '-DFAKE_PKG_CFLAGS' | head -2 | sed 's/^/    cc| /'
fi
if grep -q -- '-o build/rel/mfmc .*-lfake_pkg_libs' "$tmp/cc.log" 2>/dev/null; then
    ok "the link of mfmc carries pkg-config's libraries"
else
    ko "the link of mfmc carries pkg-config's libraries"
fi

# without setup, a plain build stops at once with a message saying what to do (not at a missing header)
rm -f "$tmp/setup-done" "$tmp/cc.log"
rm -rf "$tmp/clone/build"
run_make all
rc=$?
if [ "$rc" -ne 0 ] && grep -q 'make setup' "$tmp/make.log" && [ ! -s "$tmp/cc.log" ]; then
    ok "make without the packages stops, naming make setup"
else
    ko "make without the packages stops, naming make setup (exit $rc)"
    tail -3 "$tmp/make.log" | sed 's/^/    make| /'
fi

echo "[  PASSED  ] $pass test(s)."
[ "$fail" -eq 0 ] || echo "[  FAILED  ] $fail test(s)."
[ "$fail" -eq 0 ]
