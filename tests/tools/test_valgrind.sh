#!/bin/sh
# test_valgrind: under Valgrind's memcheck, hgc's objects are blocks of
# the size asked for (base/tools.h): tools_buggy's read past the end of an
# object and its read after hgc_free are reported as such, and
# tools_clean -- threads, collections, frees, realloc, typed, large and
# finalized objects, a weak link -- runs with no error at all.  Another
# Valgrind tool (none, as callgrind) leaves hgc as it runs natively
# (hgc_size is then the slot's).  Given boehm_program (built against
# Boehm's gc.h) and hgc's libgc.so.1, it runs under memcheck on hgc with
# no error and prints what it prints on Boehm.
# Skipped (exit 77) without valgrind, and in the suite's HGC_VERIFY and
# HGC_GC_STRESS reruns (memcheck makes them take minutes).
# usage: test_valgrind.sh TOOLS_BUGGY TOOLS_CLEAN [BOEHM_PROGRAM HGC_LIBGC_DIR]
set -eu
buggy=$1 clean=$2 boehm_program=${3:-} libgc_dir=${4:-}
if [ -n "${HGC_VERIFY:-}${HGC_GC_STRESS:-}" ]; then
  echo "test_valgrind: run in the plain pass only; skipped"
  exit 77
fi
if ! command -v valgrind >/dev/null; then
  echo "test_valgrind: valgrind is not installed; skipped"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "test_valgrind: $*"; exit 1; }

valgrind --error-exitcode=99 "$buggy" >"$tmp/out" 2>"$tmp/err" && fail "tools_buggy: no error reported"
grep -q "Invalid read of size 1" "$tmp/err" || { cat "$tmp/err"; fail "tools_buggy: no invalid read"; }
grep -q "is 0 bytes after a block of size 10 alloc'd" "$tmp/err" ||
  { cat "$tmp/err"; fail "tools_buggy: the read past the end is not reported"; }
grep -q "is 3 bytes inside a block of size 40 free'd" "$tmp/err" ||
  { cat "$tmp/err"; fail "tools_buggy: the read after hgc_free is not reported"; }
grep -q "ERROR SUMMARY: 2 errors" "$tmp/err" || { cat "$tmp/err"; fail "tools_buggy: not exactly 2 errors"; }
grep -q "tools_buggy: hgc_size 10$" "$tmp/out" || { cat "$tmp/out"; fail "tools_buggy: hgc_size under memcheck"; }
echo "test_valgrind: both bugs reported"
valgrind --tool=none "$buggy" >"$tmp/out" 2>"$tmp/err" || { cat "$tmp/err"; fail "tools_buggy under --tool=none"; }
grep -q "tools_buggy: hgc_size 16$" "$tmp/out" || { cat "$tmp/out"; fail "tool mode under --tool=none"; }

valgrind --error-exitcode=99 "$clean" >"$tmp/out" 2>"$tmp/err" ||
  { cat "$tmp/err"; fail "tools_clean: memcheck reports errors"; }
grep -q "ERROR SUMMARY: 0 errors" "$tmp/err" || { cat "$tmp/err"; fail "tools_clean: errors"; }
grep -q "WARNING" "$tmp/err" && { cat "$tmp/err"; fail "tools_clean: valgrind warns"; }
cat "$tmp/out"
if [ -n "$boehm_program" ]; then
  "$boehm_program" >"$tmp/boehm.out"
  HGC_EXPECTED=1 LD_LIBRARY_PATH="$libgc_dir" valgrind --error-exitcode=99 "$boehm_program" \
    >"$tmp/out" 2>"$tmp/err" || { cat "$tmp/err"; fail "boehm_program on hgc: memcheck reports errors"; }
  grep -q "ERROR SUMMARY: 0 errors" "$tmp/err" || { cat "$tmp/err"; fail "boehm_program: errors"; }
  diff -u "$tmp/boehm.out" "$tmp/out" || fail "boehm_program under memcheck prints other than on Boehm"
  echo "test_valgrind: boehm_program on hgc's libgc.so.1: no error, output as on Boehm"
fi
echo "test_valgrind: ok"
