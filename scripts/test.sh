#!/usr/bin/env bash
# The whole test suite: a Release build, run three times -- as is, with
# HGC_VERIFY=1 (every collection's marks checked by an independent
# re-trace) and with HGC_GC_STRESS=1000 (a collection at every 1000th
# allocation of each thread, fast path included; tests scale their sizes
# down as under TSan, since the work is quadratic in the live set) -- then
# the same suite on a Debug build (free slots poisoned and checked), under
# AddressSanitizer + UndefinedBehaviorSanitizer and under ThreadSanitizer
# (clang).  After the first build, scripts/check_layers.py checks that
# every include and call goes down the layers (docs/ARCHITECTURE.md).
# Each pass must report zero failures and zero sanitizer reports.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
jobs=${JOBS:-2}

run_pass() { # name, build dir, extra cmake args...
  local name=$1 dir=$2; shift 2
  echo "== $name"
  cmake -S . -B "$dir" -DHGC_BUILD_BENCH=OFF "$@" >/dev/null
  cmake --build "$dir" -j"$jobs" >/dev/null
  ctest --test-dir "$dir" -j"$jobs" --output-on-failure --timeout 300
}

run_pass release build-test -DCMAKE_BUILD_TYPE=Release
echo "== layers"
python3 scripts/check_layers.py --build build-test --check-svg docs/layers.svg
echo "== release, HGC_VERIFY=1"
HGC_VERIFY=1 ctest --test-dir build-test -j"$jobs" --output-on-failure --timeout 300
echo "== release, HGC_GC_STRESS=1000"
HGC_TEST_SLOW=stress HGC_GC_STRESS=1000 \
  ctest --test-dir build-test -j"$jobs" --output-on-failure --timeout 300
run_pass debug build-debug -DCMAKE_BUILD_TYPE=Debug
# Sanitizer reports abort the test that caused them, so a green pass means
# zero reports.  detect_stack_use_after_return would move locals off the
# real stack where the conservative scan cannot see them: keep it off.
export ASAN_OPTIONS=detect_stack_use_after_return=0:detect_leaks=0:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
run_pass asan+ubsan build-asan -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DHGC_SANITIZE=address,undefined
run_pass tsan build-tsan -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DHGC_SANITIZE=thread
echo "hgc: all test passes succeeded"
