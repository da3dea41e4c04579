#!/bin/sh
# test_w3m: w3m, the Debian text browser (linked with libgc.so.1), renders a
# page with hgc's libgc.so.1 exactly as with the Boehm collector's.  The
# page is big enough (thousands of table rows, nested tables, lists,
# entities, preformatted text) that both collect many times while it is
# laid out.  Skipped (exit 77) when w3m is not installed.
# usage: test_w3m.sh HGC_LIBGC_DIR
set -eu
dir=$1
w3m=$(command -v w3m || true)
if [ -z "$w3m" ]; then
  echo "test_w3m: w3m is not installed (scripts/deps.sh installs it); skipped"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
page=$tmp/page.html
sh "$(dirname "$0")/gen_page.sh" 3000 >"$page"
mkdir "$tmp/home"
render() { # extra environment assignments...
  env -i PATH=/usr/bin:/bin HOME="$tmp/home" "$@" \
    "$w3m" -dump -T text/html -cols 80 -O UTF-8 <"$page"
}
render >"$tmp/boehm.out"
render LD_LIBRARY_PATH="$dir" HGC_STATS=1 >"$tmp/hgc.out" 2>"$tmp/hgc.err"
# hgc really ran, and collected while rendering.
grep -q '^hgc: stats: collections [1-9]' "$tmp/hgc.err" || {
  echo "test_w3m: no collection by hgc:"; cat "$tmp/hgc.err"; exit 1; }
cmp "$tmp/boehm.out" "$tmp/hgc.out" || {
  diff -u "$tmp/boehm.out" "$tmp/hgc.out" | head -40; exit 1; }
echo "test_w3m: ok ($(wc -l <"$tmp/hgc.out") lines identical; $(head -n 1 "$tmp/hgc.err"))"
