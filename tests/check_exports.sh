#!/bin/sh
# test_exports: every global symbol that libhgc.a defines starts with hgc_,
# and every one that libgc.so.1 and libhgc.so export with hgc_ or GC_ (the
# Boehm interface), so that no name of hgc's can clash with a program's.
# Usage: check_exports.sh LIBHGC_A LIBHGC_SO LIBGC_SO
set -eu
bad=$(nm -g --defined-only "$1" | awk 'NF == 3 && $3 !~ /^hgc_/ { print "libhgc.a: " $3 }')
bad="$bad$(nm -D --defined-only "$2" | awk 'NF == 3 && $3 !~ /^hgc_/ { print "libhgc.so: " $3 }')"
bad="$bad$(nm -D --defined-only "$3" | awk 'NF == 3 && $3 !~ /^(hgc_|GC_)/ { print "libgc.so.1: " $3 }')"
if [ -n "$bad" ]; then
  echo "test_exports: global symbols without the library's prefix:"
  echo "$bad"
  exit 1
fi
n=$(nm -g --defined-only "$1" | awk 'NF == 3' | wc -l)
echo "test_exports: libhgc.a defines $n global symbols, all hgc_; the shared libraries export only hgc_ and GC_"
