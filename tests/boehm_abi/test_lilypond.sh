#!/bin/sh
# test_lilypond: Debian's LilyPond 2.24 (on Guile 2.2; libguile-2.2 is
# linked with libgc.so.1) engraves a one-line score to SVG with hgc's
# libgc.so.1 exactly as with the Boehm collector's:
#   svg  the SVG written on hgc is non-empty, holds an <svg element, and is
#        byte-identical to the one written on Boehm; hgc really ran and
#        collected while engraving.
# The SVG holds nothing run-dependent (no date, no path; the tagline names
# only LilyPond's version), so it is compared as written, nothing stripped.
# Skipped (exit 77) when lilypond is not installed.
# usage: test_lilypond.sh HGC_LIBGC_DIR
set -eu
dir=$1
lilypond=$(command -v lilypond || true)
if [ -z "$lilypond" ]; then
  echo "test_lilypond: lilypond is not installed (apt-get install lilypond); skipped"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
HOME=$tmp XDG_CACHE_HOME=$tmp/cache
export HOME XDG_CACHE_HOME
fail() { echo "test_lilypond: $*"; exit 1; }

cat >score.ly <<'LY'
\version "2.24.0"
{ c'4 d' e' f' g'1 }
LY

# engrave SIDE ENV...: score.ly to SIDE/out.svg; lilypond's log in SIDE.log.
engrave() {
  side=$1; shift
  mkdir "$side"
  env "$@" timeout 120 "$lilypond" -dbackend=svg -dno-point-and-click -o "$side/out" score.ly \
    >"$side.log" 2>&1 || { cat "$side.log"; fail "lilypond failed on $side"; }
  [ -s "$side/out.svg" ] || { cat "$side.log"; fail "no SVG written on $side"; }
  grep -q '<svg' "$side/out.svg" || fail "$side/out.svg holds no <svg element"
}
engrave boehm
engrave hgc LD_LIBRARY_PATH="$dir" HGC_STATS=1
grep -q '^hgc: stats: collections' hgc.log || { cat hgc.log; fail "hgc did not run"; }
grep -q '^hgc: stats: collections [1-9]' hgc.log || { cat hgc.log; fail "no collection by hgc"; }
cmp boehm/out.svg hgc/out.svg || { diff -u boehm/out.svg hgc/out.svg | head -40; fail "the SVGs differ"; }
echo "test_lilypond: ok (SVG of $(wc -c <hgc/out.svg) bytes identical; $(grep '^hgc: stats: collections' hgc.log))"
