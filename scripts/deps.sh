#!/usr/bin/env bash
# Install the Debian packages hgc's build, tests and benchmarks need, when
# they are missing.  Safe to run repeatedly; does nothing when all are there.
set -euo pipefail
need=()
# w3m: a real program linked with libgc.so.1, run with hgc's in test_w3m.
# python3: scripts/check_layers.py; binutils: nm, ld -r, objcopy; crystal,
# ecl, fauhdlc, guile-3.0, lilypond: programs on libgc.so.1, run with hgc's
# in test_crystal, test_ecl, test_fauhdlc, test_guile and test_lilypond.
# pkg-config: test_package; dpkg-dev, debhelper, fakeroot, lintian: test_deb
# builds and checks the Debian package; valgrind: test_valgrind, and its
# headers make hgc tell memcheck about its heap (base/tools.h).
for pkg in cmake make gcc clang libclang-rt-14-dev libgc-dev w3m python3 binutils crystal \
           ecl fauhdlc guile-3.0 lilypond pkg-config dpkg-dev debhelper fakeroot lintian valgrind; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "hgc: missing packages: ${need[*]} (run as root or install them)" >&2
  exit 1
fi
echo "hgc: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${need[@]}" >/dev/null
