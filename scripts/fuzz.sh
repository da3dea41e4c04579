#!/usr/bin/env bash
# fuzz.sh -- the long libFuzzer run (make fuzz): tests/fuzz_api.c, built with
# clang, AddressSanitizer + UBSan and coverage of the library, for
# FUZZ_SECONDS (default 600).  The corpus grows in build-asan/fuzz-corpus
# and is reused by the next run; a crash leaves its input in build-asan/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
seconds=${FUZZ_SECONDS:-600}
case "$seconds" in ''|*[!0-9]*|0) echo "fuzz: FUZZ_SECONDS must be a positive integer" >&2; exit 2 ;; esac
cmake -S . -B build-asan -DHGC_BUILD_BENCH=OFF -DCMAKE_C_COMPILER=clang \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHGC_SANITIZE=address,undefined >/dev/null
cmake --build build-asan -j"${JOBS:-2}" --target fuzz_api >/dev/null
mkdir -p build-asan/fuzz-corpus
export ASAN_OPTIONS=detect_stack_use_after_return=0:detect_leaks=0:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
echo "== fuzz: fuzz_api for $seconds s"
cd build-asan
tests/fuzz_api -max_total_time="$seconds" -detect_leaks=0 -max_len=1024 -len_control=0 \
  -print_final_stats=1 fuzz-corpus
