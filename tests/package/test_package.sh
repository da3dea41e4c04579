#!/bin/sh
# test_package: hgc installed into a scratch prefix is used the ways
# README.md's "Use it from your build" lists, by programs outside the tree:
#   cmake      an outside project's find_package(hgc) builds and runs
#              programs on hgc::hgc, hgc::hgc_static and hgc::gc, each
#              loading the installed library; a target linking hgc::gc and
#              hgc::hgc, directly or through a library of the project, is
#              refused at configure time with hgc's message;
#   pkg-config `pkg-config hgc` builds and runs the same program;
#   bdw-gc     a Boehm GC program's make build (boehm.mk: flags from
#              `pkg-config bdw-gc`), with
#              PKG_CONFIG_PATH naming hgc's lib/hgc/pkgconfig, loads hgc's
#              libgc.so.1 from the prefix with no LD_LIBRARY_PATH (ldd, and
#              the program's own check) and prints what the same program
#              built against Boehm's prints;
#   hgc-run    Debian's w3m run by the installed launcher prints what it
#              prints on Boehm, on hgc (--stats, --trace); a program or
#              script that does not load libgc.so.1 gets a clear error.
# usage: test_package.sh CMAKE BUILD_DIR SOURCE_DIR [BOEHM_PROGRAM]
set -eu
cmake=$1 build=$2 src=$3 boehm_program=${4:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "test_package: $*"; exit 1; }
# Another cycle's options would only slow these programs down.
unset HGC_GC_STRESS HGC_VERIFY

prefix=$tmp/prefix
"$cmake" --install "$build" --prefix "$prefix" >"$tmp/install.log" ||
  { cat "$tmp/install.log"; fail "cmake --install failed"; }
libdir=$prefix/lib

# --- cmake
c=$tmp/consumer
"$cmake" -S "$src/tests/package/consumer" -B "$c" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_BUILD_TYPE=Release >"$tmp/c.log" 2>&1 || { cat "$tmp/c.log"; fail "find_package(hgc) project did not configure"; }
"$cmake" --build "$c" >"$tmp/cb.log" 2>&1 || { cat "$tmp/cb.log"; fail "find_package(hgc) project did not build"; }
[ "$("$c/app_shared")" = "app: sum 5000050000, collections yes" ] || fail "app_shared"
[ "$("$c/app_static")" = "app: sum 5000050000, collections yes" ] || fail "app_static"
[ "$("$c/app_gc")" = "app_gc: sum 5000050000, collections yes" ] || fail "app_gc"
ldd "$c/app_shared" | grep -q "libhgc.so.0 => $libdir/libhgc.so.0" || fail "app_shared does not load $libdir/libhgc.so.0"
ldd "$c/app_static" | grep -q "libhgc" && fail "app_static loads a shared libhgc"
ldd "$c/app_gc" | grep -q "libgc.so.1 => $libdir/hgc/libgc.so.1" || fail "app_gc does not load $libdir/hgc/libgc.so.1"
echo "test_package: cmake: hgc::hgc, hgc::hgc_static, hgc::gc ok"

for how in direct through; do
  if "$cmake" -S "$src/tests/package/consumer" -B "$tmp/two-$how" -DCMAKE_PREFIX_PATH="$prefix" \
       -DHGC_CONSUMER_TWO=$how >"$tmp/two.log" 2>&1; then
    fail "a target linking two collectors ($how) was configured"
  fi
  grep -q "hgc: target 'app_two' links hgc::" "$tmp/two.log" ||
    { cat "$tmp/two.log"; fail "no clear message for two collectors ($how)"; }
done
echo "test_package: cmake: two collectors in one target refused"

# --- pkg-config hgc
PKG_CONFIG_PATH=$libdir/pkgconfig
export PKG_CONFIG_PATH
cc -o "$tmp/app_pc" "$src/tests/package/consumer/app.c" $(pkg-config --cflags --libs hgc) \
  -Wl,-rpath,"$(pkg-config --variable=libdir hgc)" || fail "pkg-config hgc build"
[ "$("$tmp/app_pc")" = "app: sum 5000050000, collections yes" ] || fail "app_pc"
ldd "$tmp/app_pc" | grep -q "libhgc.so.0 => $libdir/libhgc.so.0" || fail "app_pc loads another libhgc"
echo "test_package: pkg-config hgc ok"

# --- pkg-config bdw-gc
PKG_CONFIG_PATH=$libdir/hgc/pkgconfig
[ "$(pkg-config --variable=includedir bdw-gc)" = "$prefix/include/hgc" ] || fail "bdw-gc.pc is not hgc's"
make -s -C "$tmp" -f "$src/tests/package/boehm.mk" SRC="$src/tests/boehm_abi" >"$tmp/make.log" 2>&1 ||
  { cat "$tmp/make.log"; fail "the bdw-gc build (make) failed"; }
mv "$tmp/boehm_program" "$tmp/boehm_pc"
unset PKG_CONFIG_PATH
ldd "$tmp/boehm_pc" | grep -q "libgc.so.1 => $libdir/hgc/libgc.so.1" ||
  fail "the bdw-gc build does not load hgc's libgc.so.1: $(ldd "$tmp/boehm_pc" | grep libgc)"
HGC_EXPECTED=1 "$tmp/boehm_pc" >"$tmp/pc.out" || fail "the bdw-gc build failed on hgc"
if [ -n "$boehm_program" ]; then
  "$boehm_program" >"$tmp/boehm.out"
  diff -u "$tmp/boehm.out" "$tmp/pc.out" || fail "the bdw-gc build prints other than on Boehm"
fi
echo "test_package: pkg-config bdw-gc ok (hgc's libgc.so.1 ran)"

# --- hgc-run
run=$prefix/bin/hgc-run
w3m=$(command -v w3m || true)
if [ -n "$w3m" ]; then
  printf '<html><body><h1>hgc-run</h1><ul><li>one</li><li>two</li></ul></body></html>\n' >"$tmp/page.html"
  w3m -dump -T text/html -cols 80 <"$tmp/page.html" >"$tmp/w3m.boehm"
  "$run" --stats --trace "$tmp/trace.json" w3m -dump -T text/html -cols 80 <"$tmp/page.html" \
    >"$tmp/w3m.hgc" 2>"$tmp/w3m.err" || { cat "$tmp/w3m.err"; fail "hgc-run w3m failed"; }
  diff -u "$tmp/w3m.boehm" "$tmp/w3m.hgc" || fail "w3m prints other things through hgc-run"
  grep -q "^hgc: stats: collections" "$tmp/w3m.err" || fail "hgc-run --stats: no statistics from hgc"
  grep -q '"name":"process_name"' "$tmp/trace.json" || grep -q '"process_name"' "$tmp/trace.json" ||
    fail "hgc-run --trace wrote no trace"
  "$run" --check w3m | grep -q "w3m loads libgc.so.1" || fail "hgc-run --check w3m"
  echo "test_package: hgc-run w3m ok"
else
  echo "test_package: w3m is not installed: hgc-run checked on other programs only"
fi
set +e
"$run" true >/dev/null 2>"$tmp/err"; rc=$?
set -e
[ $rc = 3 ] && grep -q "hgc-run: true: it does not load libgc.so.1" "$tmp/err" ||
  { cat "$tmp/err"; fail "hgc-run true: rc $rc"; }
printf '#!/bin/sh\necho hi\n' >"$tmp/script.sh"
chmod +x "$tmp/script.sh"
set +e
"$run" "$tmp/script.sh" >/dev/null 2>"$tmp/err"; rc=$?
"$run" --bogus true >/dev/null 2>"$tmp/err2"; rc2=$?
set -e
[ $rc = 3 ] && grep -q "it does not load libgc.so.1" "$tmp/err" || { cat "$tmp/err"; fail "hgc-run script: rc $rc"; }
[ $rc2 = 2 ] && grep -q "unknown option '--bogus'" "$tmp/err2" || { cat "$tmp/err2"; fail "hgc-run --bogus: rc $rc2"; }
echo "test_package: hgc-run refuses programs without libgc.so.1 ok"
echo "test_package: ok"
