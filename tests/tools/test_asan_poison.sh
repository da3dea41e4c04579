#!/bin/sh
# test_asan_poison: in an AddressSanitizer build of hgc, free slots are
# poisoned (base/tools.h): tools_buggy's read after hgc_free is reported
# as a use-after-poison, in main.  (Its read past the 10 bytes asked for
# stays within the slot, which ASan builds do not poison.)
# usage: test_asan_poison.sh TOOLS_BUGGY
set -eu
buggy=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "test_asan_poison: $*"; exit 1; }
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}abort_on_error=0:exitcode=42
export ASAN_OPTIONS
set +e
"$buggy" >"$tmp/out" 2>"$tmp/err"
rc=$?
set -e
[ $rc = 42 ] || { cat "$tmp/err"; fail "tools_buggy exited $rc, not ASan's 42"; }
grep -q "ERROR: AddressSanitizer: use-after-poison" "$tmp/err" || { cat "$tmp/err"; fail "no use-after-poison"; }
grep -q "READ of size 1" "$tmp/err" && grep -q "in main .*tools_buggy.c:" "$tmp/err" ||
  { cat "$tmp/err"; fail "the report is not the read after hgc_free"; }
echo "test_asan_poison: the read after hgc_free is reported"
