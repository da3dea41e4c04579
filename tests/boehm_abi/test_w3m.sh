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
{
  echo '<html><head><title>hgc &amp; w3m</title></head><body>'
  echo '<h1>Collected &lt;text&gt; &eacute;t&eacute;</h1><ul>'
  i=1
  while [ $i -le 300 ]; do
    echo "<li><a href=\"#r$i\">item $i</a> with <b>bold</b> and <i>italic</i> words</li>"
    i=$((i + 1))
  done
  echo '</ul><table border=1><tr><th>n</th><th>square</th><th>nested</th></tr>'
  i=1
  while [ $i -le 3000 ]; do
    echo "<tr><td id=r$i>$i</td><td>$((i * i))</td><td><table><tr><td>a$i</td><td colspan=2>b$i c$i</td></tr></table></td></tr>"
    i=$((i + 1))
  done
  echo '</table><pre>'
  i=1
  while [ $i -le 200 ]; do
    echo "  preformatted line $i   keeps   its   spaces"
    i=$((i + 1))
  done
  echo '</pre></body></html>'
} >"$page"
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
