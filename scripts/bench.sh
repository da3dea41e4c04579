#!/usr/bin/env bash
# bench.sh -- build the benchmark programs and compare hgc with the Boehm GC
# (and the system malloc where it applies).
#
# usage: scripts/bench.sh            (from anywhere; works in the repo root)
#
# environment:
#   REPS=N           runs per measurement, median reported (default 3)
#   QUICK=1          REPS=1, binary-trees depth 18, churn N=5000000
#   BT_DEPTH=D       binary-trees depth (default 21, QUICK 18)
#   CHURN_N=N        churn allocations per thread (default 20000000, QUICK 5000000)
#   BUILD_DIR=dir    CMake build directory (default build)
#   BENCH_TIMEOUT=S  per-run limit in seconds (default 900)
#
# Output: a markdown table on stdout, also written with the raw RESULT lines
# to bench/results/latest.md (raw lines alone: bench/results/latest-raw.txt).
# Build logs and progress go to stderr.  Exit status 1 when a build or a
# benchmark run failed (its cell reads FAIL); the others still run.
#
# Runs are strictly sequential (the CI machine has two cores), and the back
# ends alternate within each repetition so that drift hits them alike.
set -u
export LC_ALL=C

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1

QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
    REPS=1
    BT_DEPTH=${BT_DEPTH:-18}
    CHURN_N=${CHURN_N:-5000000}
else
    REPS=${REPS:-3}
    BT_DEPTH=${BT_DEPTH:-21}
    CHURN_N=${CHURN_N:-20000000}
fi
BUILD_DIR=${BUILD_DIR:-build}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-900}
BIN="$BUILD_DIR/bench"
RESULTS_DIR="$ROOT/bench/results"

case "$REPS" in ''|*[!0-9]*|0) echo "bench: REPS must be a positive integer" >&2; exit 2 ;; esac

log() { echo "bench: $*" >&2; }

# ---------------------------------------------------------------- (a) packages
if command -v dpkg >/dev/null 2>&1 && ! dpkg -s libgc-dev >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        log "installing libgc-dev cmake gcc make"
        export DEBIAN_FRONTEND=noninteractive
        if ! { apt-get update -qq >/dev/null &&
               apt-get install -y -qq libgc-dev cmake gcc make >/dev/null; }; then
            log "warning: apt-get failed; the Boehm benchmarks may be missing"
        fi
    else
        log "warning: libgc-dev is not installed and we are not root;" \
            "the Boehm benchmarks will be missing"
    fi
fi

# ------------------------------------------------------------------- (b) build
log "configuring and building in $BUILD_DIR"
if ! { cmake -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DHGC_BUILD_BENCH=ON >/dev/null &&
       cmake --build "$BUILD_DIR" -j2; } >&2; then
    log "build failed"
    exit 1
fi

# --------------------------------------------------------------------- (c) run
TMP=$(mktemp -d "${TMPDIR:-/tmp}/hgc-bench.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
RAW="$TMP/raw.txt"
: >"$RAW"
STATUS=0

if command -v timeout >/dev/null 2>&1; then
    TIMEOUT_CMD=(timeout "$BENCH_TIMEOUT")
else
    TIMEOUT_CMD=()
fi

# field NAME < "RESULT k=v k=v ..."  ->  the value of NAME
field() {
    awk -v k="$1" '{ for (i = 1; i <= NF; i++) { n = index($i, "=");
        if (n > 0 && substr($i, 1, n - 1) == k) { print substr($i, n + 1); exit } } }'
}

# Values of one statistic, one per line, are kept in $TMP/<id>.<backend>.<stat>.
# A run that failed leaves $TMP/<id>.<backend>.fail.

# run_one ID BACKEND PROGRAM ARGS... : one run, statistics appended
run_one() {
    local id=$1 be=$2 prog=$3
    shift 3
    local exe="$BIN/${prog}_$be" key="$TMP/$id.$be" out rc line
    [ -x "$exe" ] || return 0
    [ -e "$key.fail" ] && return 0
    out=$(${TIMEOUT_CMD[@]+"${TIMEOUT_CMD[@]}"} "$exe" "$@" 2>"$key.stderr")
    rc=$?
    line=$(printf '%s\n' "$out" | grep '^RESULT ' | tail -n 1)
    if [ "$rc" -ne 0 ] || [ -z "$line" ]; then
        log "FAILED: $exe $* (exit $rc)"
        tail -n 5 "$key.stderr" | sed 's/^/    /' >&2
        echo "FAILED $id $be exit=$rc: $exe $*" >>"$RAW"
        : >"$key.fail"
        STATUS=1
        return 0
    fi
    echo "$line" >>"$RAW"
    local s
    for s in time_s mops peak_rss_kb max_pause_ms collections; do
        printf '%s\n' "$line" | field "$s" >>"$key.$s"
    done
    log "  $id $be: $(printf '%s\n' "$line" | cut -d' ' -f2-)"
}

# run_workload ID "BACKENDS" PROGRAM ARGS...
run_workload() {
    local id=$1 backends=$2 prog=$3 rep be
    shift 3
    log "workload $id: $prog $* ($REPS reps; $backends)"
    for ((rep = 1; rep <= REPS; rep++)); do
        for be in $backends; do
            run_one "$id" "$be" "$prog" "$@"
        done
    done
}

run_workload bt1    "hgc boehm"        binary_trees "$BT_DEPTH" 1
run_workload bt2    "hgc boehm"        binary_trees "$BT_DEPTH" 2
run_workload btfree "hgc boehm malloc" binary_trees --free "$BT_DEPTH" 1
run_workload churn1 "hgc boehm malloc" churn 1 "$CHURN_N"
run_workload churn2 "hgc boehm malloc" churn 2 "$CHURN_N"

# ------------------------------------------------------------------ (d) report
# getstat ID BACKEND STAT median|max  ->  number, FAIL (run failed) or NA (none)
getstat() {
    local f="$TMP/$1.$2.$3"
    if [ -e "$TMP/$1.$2.fail" ]; then echo FAIL; return; fi
    if [ ! -s "$f" ]; then echo NA; return; fi
    if [ "$4" = max ]; then
        sort -g "$f" | tail -n 1
    else
        sort -g "$f" | awk '{ v[NR] = $1 } END {
            if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
    fi
}

isnum() { case "$1" in ''|NA|FAIL|-1|-1.0*) return 1 ;; *) return 0 ;; esac; }

# fmt VALUE PRINTF-FORMAT [SCALE-DIVISOR]
fmt() {
    if [ "$1" = FAIL ]; then echo FAIL
    elif ! isnum "$1"; then echo "—"
    else awk -v v="$1" -v f="$2" -v d="${3:-1}" 'BEGIN { printf f, v / d }'
    fi
}

# ratio A B  ->  A / B as "1.23x"
ratio() {
    if isnum "$1" && isnum "$2"; then
        awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else printf "—" }'
    else
        echo "—"
    fi
}

# row ID LABEL time|mops
row() {
    local id=$1 label=$2 kind=$3 h b m unit r
    if [ "$kind" = time ]; then
        h=$(getstat "$id" hgc time_s median); b=$(getstat "$id" boehm time_s median)
        m=$(getstat "$id" malloc time_s median); unit="%.2f s"
        r=$(ratio "$b" "$h")                  # Boehm time / hgc time
    else
        h=$(getstat "$id" hgc mops median); b=$(getstat "$id" boehm mops median)
        m=$(getstat "$id" malloc mops median); unit="%.1f Mops/s"
        r=$(ratio "$h" "$b")                  # = Boehm time / hgc time
    fi
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
        "$label" "$(fmt "$h" "$unit")" "$(fmt "$b" "$unit")" "$r" "$(fmt "$m" "$unit")" \
        "$(fmt "$(getstat "$id" hgc peak_rss_kb median)" "%.1f" 1024)" \
        "$(fmt "$(getstat "$id" boehm peak_rss_kb median)" "%.1f" 1024)" \
        "$(fmt "$(getstat "$id" malloc peak_rss_kb median)" "%.1f" 1024)" \
        "$(fmt "$(getstat "$id" hgc max_pause_ms max)" "%.2f")" \
        "$(fmt "$(getstat "$id" boehm max_pause_ms max)" "%.2f")"
}

CN_M=$(awk -v n="$CHURN_N" 'BEGIN { printf "%g", n / 1e6 }')
report() {
    echo "| workload | hgc | Boehm | Boehm/hgc time (>1: hgc faster) | malloc | hgc peak RSS MB | Boehm peak RSS MB | malloc peak RSS MB | hgc max pause ms | Boehm max pause ms |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    row bt1    "binary-trees depth $BT_DEPTH, 1 thread" time
    row bt2    "binary-trees depth $BT_DEPTH, 2 threads" time
    row btfree "binary-trees depth $BT_DEPTH, 1 thread, --free" time
    row churn1 "churn ${CN_M}M x 32 B, 1 thread" mops
    row churn2 "churn ${CN_M}M x 32 B per thread, 2 threads" mops
    echo
    echo "hgc churn scaling, 2 threads / 1 thread: $(ratio "$(getstat churn2 hgc mops median)" "$(getstat churn1 hgc mops median)");" \
         "hgc/Boehm churn throughput at 2 threads: $(ratio "$(getstat churn2 hgc mops median)" "$(getstat churn2 boehm mops median)")"
    echo
    echo "Times and Mops/s: median of $REPS run(s); peak RSS: median; max pause: worst run." \
         "Pauses are stop-the-world times (hgc: its statistics; Boehm: collection events)."
}

REPORT=$(report)
printf '%s\n' "$REPORT"

mkdir -p "$RESULTS_DIR"
cp "$RAW" "$RESULTS_DIR/latest-raw.txt"
{
    echo "# hgc benchmarks"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "- commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none)"
    echo "- machine: $(uname -srm), $(nproc 2>/dev/null || echo '?') CPU(s)," \
         "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)"
    echo "- compiler: $(cc --version 2>/dev/null | head -n 1)"
    echo "- Boehm GC: $(dpkg-query -W -f='${Version}' libgc-dev 2>/dev/null || echo unknown)"
    echo "- settings: REPS=$REPS QUICK=$QUICK BT_DEPTH=$BT_DEPTH CHURN_N=$CHURN_N"
    echo
    printf '%s\n' "$REPORT"
    echo
    echo "## Raw results"
    echo
    echo '```'
    cat "$RAW"
    echo '```'
} >"$RESULTS_DIR/latest.md"
log "results written to bench/results/latest.md"

exit "$STATUS"
