#!/bin/sh
# test_crystal: Debian's Crystal (its compiler and the programs it builds
# link libgc.so.1) works on hgc's libgc.so.1 as on the Boehm collector's:
#   build    the compiler itself, on hgc, builds a program with its default
#            parallel code generation (it forks workers; each child closes
#            and recreates descriptors that libevent watches), and the
#            program runs;
#   fibers   2000 fibers with GC.collect: the main thread's stack is the
#            running fiber's (GC_stackbottom, rewritten at every switch),
#            the others' stacks are pushed by the runtime's own callback;
#   mt       a -Dpreview_mt program on 2 worker threads that collect: the
#            runtime sets each thread's stack bottom from its callback
#            (GC_set_stackbottom) and then calls the procedure it replaced;
# each printing what it prints on Boehm.  Skipped (exit 77) when crystal is
# not installed.
# usage: test_crystal.sh HGC_LIBGC_DIR
set -eu
dir=$1
crystal=$(command -v crystal || true)
if [ -z "$crystal" ]; then
  echo "test_crystal: crystal is not installed (scripts/deps.sh installs it); skipped"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export HOME="$tmp" CRYSTAL_CACHE_DIR="$tmp/cache"
cd "$tmp"
# Crystal's collection start callback takes a lock that its runtime makes
# only after its first few thousand allocations: a collection as early as
# HGC_GC_STRESS makes (in the first 1000) crashes it, as one would on
# Boehm.  The stress pass is for hgc's own tests; HGC_VERIFY stays.
unset HGC_GC_STRESS
fail() { echo "test_crystal: $*"; exit 1; }
hgc() { env LD_LIBRARY_PATH="$dir" "$@"; }

cat >hello.cr <<'CR'
puts [1, 2, 3].map { |x| x * x }.sum
CR
cat >fibers.cr <<'CR'
ch = Channel(Int32).new
2000.times do |i|
  spawn do
    a = Array(String).new(100) { |j| "s#{i}-#{j}" }
    Fiber.yield
    GC.collect if i % 100 == 0
    ch.send(a.sum(&.size))
  end
end
sum = 0
2000.times { sum += ch.receive }
puts sum
CR
cat >mt.cr <<'CR'
ch = Channel(Int64).new
8.times do |w|
  spawn do
    total = 0_i64
    20000.times do |i|
      a = Array(Int64).new(50) { |j| (i + j).to_i64 }
      total += a.sum
      GC.collect if i % 5000 == 0
    end
    ch.send(total)
  end
end
sum = 0_i64
8.times { sum += ch.receive }
puts sum
CR

# The compiler on hgc, a fresh cache: every module goes through the
# forked code generators.
hgc timeout 300 "$crystal" build hello.cr -o hello_hgc >build.out 2>&1 ||
  { cat build.out; fail "crystal build on hgc failed"; }
[ ! -s build.out ] || { cat build.out; fail "crystal build on hgc printed something"; }
[ "$(./hello_hgc)" = 14 ] || fail "the program built on hgc printed $(./hello_hgc)"

# The programs built by the compiler on Boehm, run on both collectors.
timeout 300 "$crystal" build fibers.cr -o fibers >/dev/null
timeout 300 "$crystal" build -Dpreview_mt mt.cr -o mt >/dev/null
for run in 1 2; do
  [ "$(timeout 60 ./fibers)" = "$(hgc timeout 60 ./fibers)" ] || fail "fibers differ"
  [ "$(CRYSTAL_WORKERS=2 timeout 60 ./mt)" = "$(CRYSTAL_WORKERS=2 hgc timeout 60 ./mt)" ] ||
    fail "mt differs"
done
# hgc really ran them.
hgc env HGC_STATS=1 ./fibers 2>stats.err >/dev/null
grep -q '^hgc: stats: collections [1-9]' stats.err || { cat stats.err; fail "no collection by hgc"; }
echo "test_crystal: ok (build on hgc, 2000 fibers and 2 worker threads as on Boehm)"
