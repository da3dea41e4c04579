#!/usr/bin/env bash
# soak.sh -- the long randomized stress run (make soak): test_graph_stress
# for SOAK_SECONDS (default 600) with every collection verified
# (HGC_VERIFY=1), on a Release build.  Prints the run's summary line: the
# operations, threads and collections covered, with zero loss.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
seconds=${SOAK_SECONDS:-600}
case "$seconds" in ''|*[!0-9]*|0) echo "soak: SOAK_SECONDS must be a positive integer" >&2; exit 2 ;; esac
cmake -S . -B build-test -DHGC_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-test -j"${JOBS:-2}" --target test_graph_stress >/dev/null
echo "== soak: test_graph_stress for $seconds s, HGC_VERIFY=1"
HGC_VERIFY=1 build-test/tests/test_graph_stress "$seconds"
