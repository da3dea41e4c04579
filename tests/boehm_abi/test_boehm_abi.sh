#!/bin/sh
# test_boehm_abi: boehm_program, compiled against the Boehm collector's own
# gc.h and linked with its libgc.so.1, gives the same output when run with
# hgc's libgc.so.1 -- first on LD_LIBRARY_PATH, and through LD_PRELOAD.
# usage: test_boehm_abi.sh PROGRAM HGC_LIBGC_DIR
set -eu
prog=$1 dir=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$prog" >"$tmp/boehm.out"
HGC_EXPECTED=1 LD_LIBRARY_PATH="$dir" "$prog" >"$tmp/hgc.out"
HGC_EXPECTED=1 LD_PRELOAD="$dir/libgc.so.1" "$prog" >"$tmp/preload.out"
cat "$tmp/boehm.out"
diff -u "$tmp/boehm.out" "$tmp/hgc.out"
diff -u "$tmp/boehm.out" "$tmp/preload.out"
grep -q "list still intact: 4999950000" "$tmp/hgc.out"
echo "test_boehm_abi: ok (outputs identical)"
