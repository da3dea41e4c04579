#!/usr/bin/env bash
# bench.sh -- build the benchmark programs and compare hgc with the Boehm GC
# and with glibc malloc, mimalloc and jemalloc where explicit frees apply.
#
# usage: scripts/bench.sh            (from anywhere; works in the repo root)
#
# environment:
#   QUICK=1          small sizes, one run each (under 2 minutes on 2 cores)
#   REPS=N           runs per measurement, median reported (default 3, QUICK 1)
#   REPS_LONG=N      runs of the binary-trees --free rows, the slowest ones
#                    (default 1)
#   REPS_SHORT=N     runs of GCBench, churn and nested churn, a tenth of a
#                    second to a few seconds each, where one disturbed run
#                    in three moves a median (default 7, QUICK 1)
#   BT_DEPTH=D       binary-trees depth (default 21, QUICK 18)
#   CHURN_N=N        churn allocations per thread (default 20M, QUICK 10M)
#   NESTED_N=N       nested_churn records (10 allocations each) per thread
#                    (default 5M, QUICK 1M)
#   LIVE_SLOTS=N LIVE_STEPS=N   live_set objects and replacements per thread
#                    (default 400k and 10M, QUICK 400k and 2M)
#   PP_NODES=N PP_ALLOCS=N      pause_probe live tree nodes and short-lived
#                    allocations (default 8M and 100M, QUICK 4M and 20M)
#   MIXED_STEPS=N    mixed_sizes steps per thread (default 10M, QUICK 2M)
#   STRINGS_DOCS=N   strings documents (default 20000, QUICK 5000)
#   W3M_ROWS=N       rows of the page w3m lays out in the real-program row
#                    (default 20000, QUICK 5000)
#   BUILD_DIR=dir    CMake build directory (default build)
#   BENCH_TIMEOUT=S  per-run limit in seconds (default 900)
#   HGC_GOGC         passed on to hgc; also sets the live-set RSS target
#
# Steps: (a) install missing Debian packages when root (a warning and
# fewer back ends otherwise), (b) build, (c) run every workload, back ends
# alternating within each repetition (and the 1- and 2-thread runs of a
# scaling pair within each back end's turn), (d) print one markdown table with
# the target lines, and write bench/results/: latest.md (the table and the
# raw lines), latest-raw.txt, results.json (every run and the medians),
# ratios.svg and pause_probe.svg (gnuplot), the pause probe's samples
# (pause_probe_<backend>.csv) and hgc's trace of it (pause_probe_trace.json).
# Build logs and progress go to stderr.  Exit status 1 when a build or a
# run failed (its cell reads FAIL); the others still run.
#
# Runs are strictly sequential (the machine may have two cores only).
set -u
export LC_ALL=C

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1

QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
    REPS=${REPS:-1}
    BT_DEPTH=${BT_DEPTH:-18}
    CHURN_N=${CHURN_N:-10000000}
    NESTED_N=${NESTED_N:-1000000}
    LIVE_STEPS=${LIVE_STEPS:-2000000}
    PP_NODES=${PP_NODES:-4000000}
    PP_ALLOCS=${PP_ALLOCS:-20000000}
    MIXED_STEPS=${MIXED_STEPS:-2000000}
    STRINGS_DOCS=${STRINGS_DOCS:-5000}
    W3M_ROWS=${W3M_ROWS:-5000}
else
    REPS=${REPS:-3}
    BT_DEPTH=${BT_DEPTH:-21}
    CHURN_N=${CHURN_N:-20000000}
    NESTED_N=${NESTED_N:-5000000}
    LIVE_STEPS=${LIVE_STEPS:-10000000}
    PP_NODES=${PP_NODES:-8000000}
    PP_ALLOCS=${PP_ALLOCS:-100000000}
    MIXED_STEPS=${MIXED_STEPS:-10000000}
    STRINGS_DOCS=${STRINGS_DOCS:-20000}
    W3M_ROWS=${W3M_ROWS:-20000}
fi
REPS_LONG=${REPS_LONG:-1}
if [ "$QUICK" = 1 ]; then REPS_SHORT=${REPS_SHORT:-$REPS}; else REPS_SHORT=${REPS_SHORT:-7}; fi
LIVE_SLOTS=${LIVE_SLOTS:-400000}
MIXED_SLOTS=50000
GOGC=${HGC_GOGC:-100}
BUILD_DIR=${BUILD_DIR:-build}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-900}
BIN="$BUILD_DIR/bench"
RESULTS_DIR="$ROOT/bench/results"
ALL="hgc boehm compat malloc mimalloc jemalloc"

for v in REPS REPS_LONG REPS_SHORT; do
    case "${!v}" in ''|*[!0-9]*|0) echo "bench: $v must be a positive integer" >&2; exit 2 ;; esac
done
case "$GOGC" in ''|*[!0-9]*) echo "bench: HGC_GOGC=$GOGC: the RSS target needs a number" >&2; GOGC=100 ;; esac

log() { echo "bench: $*" >&2; }
START=$(date +%s)

# ---------------------------------------------------------------- (a) packages
# Debian package -> what shows that it is there.
need=()
for pkg in libgc-dev:/usr/include/gc.h libmimalloc-dev:/usr/include/mimalloc.h \
           libjemalloc-dev:/usr/include/jemalloc/jemalloc.h \
           gnuplot-nox:gnuplot cmake:cmake gcc:gcc make:make w3m:w3m guile-3.0:guile \
           crystal:crystal ecl:ecl; do
    name=${pkg%%:*} probe=${pkg#*:}
    case "$probe" in
        /*) [ -e "$probe" ] || need+=("$name") ;;
        *) command -v "$probe" >/dev/null 2>&1 || need+=("$name") ;;
    esac
done
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        log "installing ${need[*]}"
        export DEBIAN_FRONTEND=noninteractive
        if ! { apt-get update -qq >/dev/null &&
               apt-get install -y -qq "${need[@]}" >/dev/null; }; then
            log "warning: apt-get failed; some back ends or the plots may be missing"
        fi
    else
        log "warning: missing ${need[*]} and cannot install (not root, or no apt-get);" \
            "those back ends (or the plots) will be missing"
    fi
fi

# ------------------------------------------------------------------- (b) build
log "configuring and building in $BUILD_DIR"
if ! { cmake -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DHGC_BUILD_BENCH=ON >/dev/null &&
       cmake --build "$BUILD_DIR" -j2; } >&2; then
    log "build failed"
    exit 1
fi
BUILT=$(date +%s)

# --------------------------------------------------------------------- (c) run
TMP=$(mktemp -d "${TMPDIR:-/tmp}/hgc-bench.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
RUNS="$TMP/runs.txt"     # bench_id=ID rep=N <RESULT fields>
FAILS="$TMP/fails.txt"   # ID BACKEND: command (exit status)
: >"$RUNS"
: >"$FAILS"
STATUS=0
mkdir -p "$RESULTS_DIR"

if command -v timeout >/dev/null 2>&1; then
    TIMEOUT_CMD=(timeout "$BENCH_TIMEOUT")
else
    TIMEOUT_CMD=()
fi

# run_one ID REP BACKEND PROGRAM ARGS... : one run, its RESULT line kept.
# The malloc back ends get $MALLOC_ARGS in front of ARGS (for --free).
# The first pause-probe run of each back end writes its samples (CSV),
# and hgc's its collector trace, for the plot.
run_one() {
    local id=$1 rep=$2 be=$3 prog=$4
    shift 4
    local exe="$BIN/${prog}_$be" out rc line
    local env=()
    # conc: hgc's program with mostly-concurrent marking (HGC_CONCURRENT=1).
    [ "$be" = conc ] && exe="$BIN/${prog}_hgc" && env+=("HGC_CONCURRENT=1")
    [ -x "$exe" ] || return 0
    grep -q "^$id $be:" "$FAILS" && return 0
    case "$be" in malloc|mimalloc|jemalloc) set -- ${MALLOC_ARGS:-} "$@" ;; esac
    # hgc's libgc.so.1 paces like Boehm unless HGC_GOGC is set (COMPAT.md):
    # the compat column measures what the interface costs, so it paces as
    # the native programs do.  The real-program rows keep Boehm's pacing.
    [ "$be" = compat ] && env+=("HGC_GOGC=$GOGC")
    if [ "$prog" = pause_probe ] && [ "$rep" = 1 ]; then
        env+=("BENCH_CSV=$RESULTS_DIR/pause_probe_$be.csv")
        [ "$be" = hgc ] && env+=("HGC_TRACE=$RESULTS_DIR/pause_probe_trace.json")
    fi
    out=$(env ${env[@]+"${env[@]}"} ${TIMEOUT_CMD[@]+"${TIMEOUT_CMD[@]}"} "$exe" "$@" \
          2>"$TMP/stderr")
    rc=$?
    line=$(printf '%s\n' "$out" | grep '^RESULT ' | tail -n 1)
    if [ "$rc" -ne 0 ] || [ -z "$line" ]; then
        log "FAILED: $exe $* (exit $rc)"
        tail -n 5 "$TMP/stderr" | sed 's/^/    /' >&2
        echo "$id $be: $exe $* (exit $rc)" >>"$FAILS"
        STATUS=1
        return 0
    fi
    [ "$be" = conc ] && line=${line/backend=hgc/backend=conc}
    echo "bench_id=$id rep=$rep ${line#RESULT }" >>"$RUNS"
    log "  $id $be: ${line#RESULT name=}"
}

# run_workload ID REPS "BACKENDS" PROGRAM ARGS...
WORKLOAD_TIMES=""
run_workload() {
    local id=$1 reps=$2 backends=$3 prog=$4 rep be t0
    shift 4
    t0=$(date +%s)
    log "workload $id: $prog $* ($reps reps; $backends)"
    for ((rep = 1; rep <= reps; rep++)); do
        for be in $backends; do
            run_one "$id" "$rep" "$be" "$prog" "$@"
        done
    done
    WORKLOAD_TIMES="$WORKLOAD_TIMES $id:$(($(date +%s) - t0))s"
}

# run_scaling ID1 ID2 REPS "BACKENDS" PROGRAM "ARGS1" "ARGS2": a workload
# at 1 thread (ID1, ARGS1) and at 2 (ID2, ARGS2), each back end's two runs
# back to back within each repetition.  The scaling ratio then compares
# runs seconds apart: this machine's speed drifts over minutes (a CPU may
# run a third slower for a while), and runs of all 1-thread repetitions
# before all 2-thread ones would carry that drift into the ratio.
run_scaling() {
    local id1=$1 id2=$2 reps=$3 backends=$4 prog=$5 args1=$6 args2=$7 rep be t0
    t0=$(date +%s)
    log "workloads $id1 and $id2: $prog $args1 / $args2 ($reps reps; $backends)"
    for ((rep = 1; rep <= reps; rep++)); do
        for be in $backends; do
            # shellcheck disable=SC2086 # word lists of plain arguments
            run_one "$id1" "$rep" "$be" "$prog" $args1
            # shellcheck disable=SC2086
            run_one "$id2" "$rep" "$be" "$prog" $args2
        done
    done
    WORKLOAD_TIMES="$WORKLOAD_TIMES $id1+$id2:$(($(date +%s) - t0))s"
}

MALLOC_ARGS=--free run_workload gcbench "$REPS_SHORT" "$ALL" gcbench
run_scaling bt1 bt2 "$REPS" "hgc boehm compat" binary_trees "$BT_DEPTH 1" "$BT_DEPTH 2"
run_scaling btfree1 btfree2 "$REPS_LONG" "$ALL" binary_trees "--free $BT_DEPTH 1" "--free $BT_DEPTH 2"
run_scaling churn1 churn2 "$REPS_SHORT" "$ALL" churn "1 $CHURN_N" "2 $CHURN_N"
run_scaling nested1 nested2 "$REPS_SHORT" "$ALL" nested_churn "1 $NESTED_N" "2 $NESTED_N"
run_workload live2 "$REPS" "$ALL" live_set 2 "$LIVE_SLOTS" "$LIVE_STEPS"
rm -f "$RESULTS_DIR"/pause_probe_*.csv "$RESULTS_DIR/pause_probe_trace.json"
run_workload pause "$REPS" "$ALL conc" pause_probe "$PP_NODES" "$PP_ALLOCS"
run_workload mixed2 "$REPS" "$ALL" mixed_sizes 2 "$MIXED_SLOTS" "$MIXED_STEPS"
run_workload strings "$REPS" "$ALL" strings "$STRINGS_DOCS"

# Real programs, Debian's, linked with libgc.so.1: each runs with the
# Boehm collector's library and with hgc's (LD_LIBRARY_PATH), back ends
# alternating, and its output must be the same.
#   w3m       lays out a big page;
#   guile     Guile 3.0 runs GCBench in Scheme (bench/real/gcbench.scm,
#             compiled once beforehand, on Boehm);
#   crystal   Crystal's compiler builds bench/real/app.cr (JSON, YAML, an
#             HTTP server: much of the standard library), its code
#             generators forked as usual, from an empty cache, then runs it;
#   ecl       ECL's bytecode interpreter runs bench/real/trees.lisp.
# run_real ID NEEDS INPUT COMMAND...: NEEDS must be installed; the command
# runs in $TMP/run with INPUT on its standard input.
run_real() {
    local id=$1 need=$2 input=$3 rep be line libs t0 runner
    shift 3
    runner=$(cd "$BIN" && pwd)/run_program
    if ! command -v "$need" >/dev/null 2>&1 || [ ! -x "$BIN/run_program" ]; then
        log "$need (or run_program) missing: no $id row"
        return 0
    fi
    t0=$(date +%s)
    log "workload $id: $* ($REPS reps; boehm hgc)"
    for ((rep = 1; rep <= REPS; rep++)); do
        for be in hgc boehm; do
            libs=""
            [ "$be" = hgc ] && libs="LD_LIBRARY_PATH=$ROOT/$BUILD_DIR/compat"
            rm -rf "$TMP/cache"
            mkdir -p "$TMP/cache" "$TMP/home" "$TMP/run"
            if ! line=$(cd "$TMP/run" && env -i PATH=/usr/bin:/bin HOME="$TMP/home" \
                        XDG_CACHE_HOME="$TMP/cache" CRYSTAL_CACHE_DIR="$TMP/cache" $libs \
                        "$runner" "$id" "$be" "$input" "$@" 2>"$TMP/stderr"); then
                log "FAILED: $id on $be: $(tail -n 3 "$TMP/stderr" | tr '\n' ' ')"
                echo "$id $be: $* (exit status)" >>"$FAILS"
                STATUS=1
                continue
            fi
            [ "$be" = conc ] && line=${line/backend=hgc/backend=conc}
    echo "bench_id=$id rep=$rep ${line#RESULT }" >>"$RUNS"
            log "  $id $be: ${line#RESULT name=}"
        done
    done
    WORKLOAD_TIMES="$WORKLOAD_TIMES $id:$(($(date +%s) - t0))s"
}
mkdir -p "$TMP/run"
sh "$ROOT/tests/boehm_abi/gen_page.sh" "$W3M_ROWS" >"$TMP/page.html"
run_real w3m w3m "$TMP/page.html" w3m -dump -T text/html -cols 80 -O UTF-8
if command -v guile >/dev/null 2>&1; then
    cp "$ROOT/bench/real/gcbench.scm" "$TMP/run/"
    (cd "$TMP/run" && HOME="$TMP/home" guile --no-auto-compile -c \
        '(use-modules (system base compile)) (compile-file "gcbench.scm" #:output-file "gcbench.go")' \
        >/dev/null 2>&1) || log "FAILED: compiling gcbench.scm with guile"
    run_real guile guile /dev/null guile --no-auto-compile -c '(load-compiled "gcbench.go")'
fi
cp "$ROOT/bench/real/app.cr" "$ROOT/bench/real/trees.lisp" "$TMP/run/"
run_real crystal crystal /dev/null sh -c 'crystal build --no-debug app.cr -o app && ./app'
run_real ecl ecl /dev/null ecl --norc --load trees.lisp

# The strings checksum and the real programs' output do not depend on the
# back end.
for id in strings w3m guile crystal ecl; do
    nsums=$(awk "/^bench_id=$id /" "$RUNS" | tr ' ' '\n' | grep '^checksum=' | sort -u | wc -l)
    if [ "$nsums" -gt 1 ]; then
        log "FAILED: the $id checksums differ between back ends"
        echo "$id all: checksums differ between back ends" >>"$FAILS"
        STATUS=1
    fi
done

# ------------------------------------------------------------------ (d) report
STATS="$TMP/stats.txt"
awk -f "$ROOT/scripts/bench_stats.awk" "$RUNS" >"$STATS"

# st ID BACKEND FIELD [med|max]  ->  the number, FAIL or NA
st() {
    if grep -q "^$1 $2:" "$FAILS" || grep -q "^$1 all:" "$FAILS"; then echo FAIL; return; fi
    awk -v id="$1" -v be="$2" -v k="$3" -v c="${4:-med}" \
        '$1 == id && $2 == be && $3 == k { print (c == "max" ? $5 : $4); f = 1; exit }
         END { if (!f) print "NA" }' "$STATS"
}

isnum() { case "$1" in ''|NA|FAIL|-1) return 1 ;; *) return 0 ;; esac; }

# fmt VALUE PRINTF-FORMAT [DIVISOR]
fmt() {
    if [ "$1" = FAIL ]; then echo FAIL
    elif ! isnum "$1"; then echo "—"
    else awk -v v="$1" -v f="$2" -v d="${3:-1}" 'BEGIN { printf f, v / d }'
    fi
}

# ratio A B [FACTOR]  ->  FACTOR * A / B as "1.23x"
ratio() {
    if isnum "$1" && isnum "$2"; then
        awk -v a="$1" -v b="$2" -v f="${3:-1}" \
            'BEGIN { if (b > 0) printf "%.2fx", f * a / b; else printf "—" }'
    else
        echo "—"
    fi
}

# row ID LABEL [ONE_THREAD_ID WORK_FACTOR]: one table line.  With a
# one-thread partner, scaling = WORK_FACTOR * time(partner) / time(ID):
# the throughput ratio (factor 2 when each thread does the same work, 1
# when the threads split a fixed amount).
RATIOS="$TMP/ratios.dat"
: >"$RATIOS"
COMPAT="$TMP/compat.dat" # compat time, hgc time per workload
: >"$COMPAT"
# HB=conc row ...: the hgc columns from the HGC_CONCURRENT=1 runs.
row() {
    local id=$1 label=$2 pair=${3:-} factor=${4:-1} h b sc="" hb=${HB:-hgc}
    h=$(st "$id" "$hb" time_s); b=$(st "$id" boehm time_s)
    if [ -n "$pair" ]; then
        sc="$(ratio "$(st "$pair" "$hb" time_s)" "$h" "$factor") ($(ratio "$(st "$pair" boehm time_s)" "$b" "$factor"))"
    fi
    isnum "$h" && isnum "$b" && printf '"%s" %s\n' "$label" "$(awk -v a="$b" -v c="$h" 'BEGIN { print a / c }')" >>"$RATIOS"
    c=$(st "$id" compat time_s)
    [ "$hb" = hgc ] || c="" # the compat column compares with hgc's default runs
    isnum "$h" && isnum "$c" && echo "$c $h" >>"$COMPAT"
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
        "$label" "$(fmt "$h" "%.2f")" "$(fmt "$b" "%.2f")" "$(ratio "$b" "$h")" "$(ratio "$c" "$h")" \
        "$(fmt "$(st "$id" malloc time_s)" "%.2f")" \
        "$(fmt "$(st "$id" mimalloc time_s)" "%.2f")" \
        "$(fmt "$(st "$id" jemalloc time_s)" "%.2f")" \
        "$(fmt "$(st "$id" "$hb" peak_rss_kb)" "%.0f" 1024)" \
        "$(fmt "$(st "$id" boehm peak_rss_kb)" "%.0f" 1024)" \
        "$(ratio "$(st "$id" "$hb" peak_rss_kb)" "$(st "$id" boehm peak_rss_kb)")" \
        "$(fmt "$(st "$id" "$hb" max_pause_ms max)" "%.1f")" \
        "$(fmt "$(st "$id" boehm max_pause_ms max)" "%.1f")" \
        "$sc"
}

# Target lines: "TARGET<tab>met|NOT met|n/a<tab>text", kept for the JSON.
TARGETS="$TMP/targets.txt"
: >"$TARGETS"
# target NAME TEXT AWK-CONDITION VALUES... : the condition over v1, v2...
target() {
    local name=$1 text=$2 cond=$3 verdict
    shift 3
    local args=() i=1 v
    for v in "$@"; do
        if ! isnum "$v"; then verdict="n/a"; break; fi
        args+=(-v "v$i=$v")
        i=$((i + 1))
    done
    if [ -z "${verdict:-}" ]; then
        verdict=$(awk "${args[@]}" "BEGIN { print (($cond) ? \"met\" : \"NOT met\") }")
    fi
    printf '%s\t%s\t%s\n' "$name" "$verdict" "$text" >>"$TARGETS"
}

NOTE_SIZE=""
[ "$BT_DEPTH" != 21 ] && NOTE_SIZE=" (measured at depth $BT_DEPTH; the target is for depth 21)"
g_h=$(st gcbench hgc time_s); g_b=$(st gcbench boehm time_s)
g_rh=$(st gcbench hgc peak_rss_kb); g_rb=$(st gcbench boehm peak_rss_kb)
target gcbench "GCBench: hgc $(ratio "$g_b" "$g_h") faster than Boehm (target >= 2x), peak RSS $(ratio "$g_rh" "$g_rb") of Boehm's (target <= 1x)" \
    "v1 / v2 >= 2 && v3 <= v4" "$g_b" "$g_h" "$g_rh" "$g_rb"
b_h=$(st bt1 hgc time_s); b_b=$(st bt1 boehm time_s)
b_rh=$(st bt1 hgc peak_rss_kb); b_rb=$(st bt1 boehm peak_rss_kb)
target binary_trees "binary-trees, 1 thread: hgc $(ratio "$b_b" "$b_h") faster than Boehm (target >= 4x), peak RSS $(ratio "$b_rh" "$b_rb") of Boehm's (target <= 1x)$NOTE_SIZE" \
    "v1 / v2 >= 4 && v3 <= v4" "$b_b" "$b_h" "$b_rh" "$b_rb"
c1=$(st churn1 hgc time_s); c2=$(st churn2 hgc time_s); cb2=$(st churn2 boehm time_s)
# Each worker's CPU time (medians of the least and the most): equal work,
# so a wide gap means one CPU ran slower than the other, and set the time.
c2_lo=$(st churn2 hgc cpu_min_s); c2_hi=$(st churn2 hgc cpu_max_s)
target churn "churn: hgc 2 threads $(ratio "$c1" "$c2" 2) the throughput of 1 (target >= 1.8x), $(ratio "$cb2" "$c2") Boehm's at 2 threads (target >= 5x); worker CPU time $(fmt "$c2_lo" "%.3f") s and $(fmt "$c2_hi" "%.3f") s at 2 threads, $(fmt "$(st churn1 hgc cpu_min_s)" "%.3f") s at 1" \
    "2 * v1 / v2 >= 1.8 && v3 / v2 >= 5" "$c1" "$c2" "$cb2"
p_h=$(st pause hgc max_pause_ms max); p_b=$(st pause boehm max_pause_ms max)
target pause_probe "pause probe: hgc's longest stop-the-world pause $(fmt "$p_h" "%.1f") ms, Boehm's $(fmt "$p_b" "%.1f") ms (target: at most half)" \
    "v1 <= v2 / 2" "$p_h" "$p_b"
pc_g=$(st pause conc max_gap_ms max); pc_s=$(st pause hgc max_gap_ms max)
pc_r=$(st pause conc peak_rss_kb); pc_rs=$(st pause hgc peak_rss_kb)
target pause_concurrent "pause probe with HGC_CONCURRENT=1: longest gap the program saw $(fmt "$pc_g" "%.1f") ms over $REPS runs (target <= 5 ms; marking that stops the world: $(fmt "$pc_s" "%.1f") ms), peak RSS $(ratio "$pc_r" "$pc_rs") of the stopped runs' (target <= 1.2x)" \
    "v1 <= 5 && v2 <= 1.2 * v3" "$pc_g" "$pc_r" "$pc_rs"
l_r=$(st live2 hgc peak_rss_kb); l_l=$(st live2 hgc live_kb)
l_bound=$(isnum "$l_l" && awk -v l="$l_l" -v g="$GOGC" 'BEGIN { printf "%.0f", 1.2 * l * (1 + g / 100) }')
target live_set "bounded live set: hgc peak RSS $(fmt "$l_r" "%.0f" 1024) MB for $(fmt "$l_l" "%.0f" 1024) MB live (target <= 1.2 x live x (1 + GOGC/100) = $(fmt "$l_bound" "%.0f" 1024) MB, GOGC=$GOGC)" \
    "v1 <= v2" "$l_r" "$l_bound"
m_h=$(st mixed2 hgc time_s); m_m=$(st mixed2 mimalloc time_s)
target mixed_sizes "mixed sizes: hgc time $(ratio "$m_h" "$m_m") of mimalloc's (target <= 1.3x)" \
    "v1 <= 1.3 * v2" "$m_h" "$m_m"

# The Boehm interface (the Boehm programs, compiled against hgc's gc.h and
# linked with its libgc.so.1) against hgc native, over every workload that
# ran both: geometric mean and worst of compat time / hgc time.
compat_target() {
    local gm worst
    gm=$(awk '$2 > 0 { s += log($1 / $2); n++ } END { if (n) printf "%.3f", exp(s / n); else print "NA" }' "$COMPAT")
    worst=$(awk '$2 > 0 && (w == "" || $1 / $2 > w) { w = $1 / $2 } END { if (w != "") printf "%.3f", w; else print "NA" }' "$COMPAT")
    target compat "Boehm interface: compat time / hgc time $(fmt "$gm" "%.3f")x geometric mean over $(wc -l <"$COMPAT") workloads, worst $(fmt "$worst" "%.2f")x (target: within 5%)" \
        "v1 <= 1.05" "$gm"
}

BT_LABEL="binary-trees $BT_DEPTH"
CN_M=$(awk -v n="$CHURN_N" 'BEGIN { printf "%g", n / 1e6 }')
report() {
    echo "| workload | hgc s | Boehm s | Boehm/hgc | compat/hgc | glibc s | mimalloc s | jemalloc s | hgc RSS MB | Boehm RSS MB | RSS hgc/Boehm | hgc max pause ms | Boehm max pause ms | 2T/1T hgc (Boehm) |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    row gcbench "GCBench"
    row bt1 "$BT_LABEL, 1T"
    row bt2 "$BT_LABEL, 2T" bt1 1
    row btfree1 "$BT_LABEL, 1T, --free"
    row btfree2 "$BT_LABEL, 2T, --free" btfree1 1
    row churn1 "churn ${CN_M}M x 32 B, 1T"
    row churn2 "churn ${CN_M}M x 32 B per thread, 2T" churn1 2
    row nested1 "nested churn $((NESTED_N / 1000))k records, 1T"
    row nested2 "nested churn, 2T" nested1 2
    row live2 "live set $((LIVE_SLOTS / 1000))k x 2T, $((LIVE_STEPS / 1000000))M steps"
    row pause "pause probe $((PP_NODES / 1000000))M nodes, $((PP_ALLOCS / 1000000))M allocs"
    HB=conc row pause "pause probe, HGC_CONCURRENT=1"
    row mixed2 "mixed sizes 2T, $((MIXED_STEPS / 1000000))M steps, GC_FREE"
    row strings "strings $STRINGS_DOCS docs"
    row w3m "w3m -dump, $W3M_ROWS-row page (Debian's w3m; hgc: its libgc.so.1)"
    row guile "Guile 3.0: GCBench in Scheme (hgc: its libgc.so.1)"
    row crystal "Crystal: compile and run bench/real/app.cr (hgc: its libgc.so.1)"
    row ecl "ECL: binary trees of depth 16, bytecode (hgc: its libgc.so.1)"
    compat_target
    echo
    echo "Targets:"
    awk -F '\t' '{ printf "- %s: **%s**\n", $3, $2 }' "$TARGETS"
    echo
    echo "Pause probe, longest gap the mutator saw / p99.99 gap / gaps over 1 ms:" \
         "hgc $(fmt "$(st pause hgc max_gap_ms max)" "%.1f") ms / $(fmt "$(st pause hgc p9999_gap_ms)" "%.3f") ms / $(fmt "$(st pause hgc gaps_over_1ms)" "%.0f")," \
         "Boehm $(fmt "$(st pause boehm max_gap_ms max)" "%.1f") ms / $(fmt "$(st pause boehm p9999_gap_ms)" "%.3f") ms / $(fmt "$(st pause boehm gaps_over_1ms)" "%.0f")," \
         "mimalloc $(fmt "$(st pause mimalloc max_gap_ms max)" "%.1f") ms / $(fmt "$(st pause mimalloc p9999_gap_ms)" "%.3f") ms / $(fmt "$(st pause mimalloc gaps_over_1ms)" "%.0f")."
    echo
    echo "Times: median of $REPS run(s) ($REPS_SHORT for GCBench, churn and nested churn;" \
         "$REPS_LONG for the --free binary-trees rows);" \
         "peak RSS: median; max pause: worst run (hgc: its statistics; Boehm: collection events)." \
         "hgc and Boehm never free except in the --free rows and mixed sizes;" \
         "the malloc columns always free (GCBench and binary-trees with --free)." \
         "2T/1T: throughput with 2 threads over 1 (each repetition runs the two back to back)." \
         "—: not built or not applicable." \
         "Settings: QUICK=$QUICK, binary-trees depth $BT_DEPTH, churn ${CN_M}M, nested $NESTED_N," \
         "live set $LIVE_SLOTS x $LIVE_STEPS, pause probe $PP_NODES / $PP_ALLOCS," \
         "mixed $MIXED_SLOTS x $MIXED_STEPS, strings $STRINGS_DOCS, w3m page $W3M_ROWS rows; GOGC=$GOGC."
    if [ -s "$FAILS" ]; then
        echo
        echo "FAILED runs:"
        sed 's/^/- /' "$FAILS"
    fi
}

REPORT=$(report)
printf '%s\n' "$REPORT"
END=$(date +%s)

# ------------------------------------------------------------------- files
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none)
DATE=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
MACHINE="$(uname -srm), $(nproc 2>/dev/null || echo '?') CPU(s), $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)"
pkgver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo unknown; }

sed 's/^bench_id=[^ ]* rep=[^ ]* /RESULT /' "$RUNS" >"$RESULTS_DIR/latest-raw.txt"
{
    echo "# hgc benchmarks"
    echo
    echo "- date: $DATE"
    echo "- commit: $COMMIT"
    echo "- machine: $MACHINE"
    echo "- compiler: $(cc --version 2>/dev/null | head -n 1)"
    echo "- Boehm GC $(pkgver libgc-dev), mimalloc $(pkgver libmimalloc-dev), jemalloc $(pkgver libjemalloc-dev), glibc $(ldd --version 2>/dev/null | head -n 1 | awk '{ print $NF }')"
    echo "- wall time: $((END - START)) s (build $((BUILT - START)) s; per workload:$WORKLOAD_TIMES)"
    echo
    printf '%s\n' "$REPORT"
    echo
    echo "Plots: [ratios.svg](ratios.svg), [pause_probe.svg](pause_probe.svg); every run and the medians: results.json."
    echo
    echo "## Raw results"
    echo
    echo '```'
    cat "$RESULTS_DIR/latest-raw.txt"
    echo '```'
} >"$RESULTS_DIR/latest.md"

json_str() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }
{
    echo "{"
    echo "  \"meta\": {\"date\": $(json_str "$DATE"), \"commit\": $(json_str "$COMMIT"), \"machine\": $(json_str "$MACHINE"),"
    echo "    \"quick\": $QUICK, \"reps\": $REPS, \"reps_long\": $REPS_LONG, \"reps_short\": $REPS_SHORT, \"gogc\": $GOGC, \"wall_s\": $((END - START)),"
    echo "    \"bt_depth\": $BT_DEPTH, \"churn_n\": $CHURN_N, \"nested_n\": $NESTED_N, \"live_slots\": $LIVE_SLOTS,"
    echo "    \"live_steps\": $LIVE_STEPS, \"pp_nodes\": $PP_NODES, \"pp_allocs\": $PP_ALLOCS,"
    echo "    \"mixed_slots\": $MIXED_SLOTS, \"mixed_steps\": $MIXED_STEPS, \"strings_docs\": $STRINGS_DOCS, \"w3m_rows\": $W3M_ROWS},"
    echo "  \"runs\": ["
    awk -v mode=json -f "$ROOT/scripts/bench_stats.awk" "$RUNS"
    echo "  ],"
    echo "  \"summary\": ["
    awk '{ printf "%s    {\"id\": \"%s\", \"backend\": \"%s\", \"field\": \"%s\", \"median\": %s, \"max\": %s, \"runs\": %s}",
           (NR > 1 ? ",\n" : ""), $1, $2, $3, $4, $5, $6 } END { if (NR) printf "\n" }' "$STATS"
    echo "  ],"
    echo "  \"targets\": ["
    n=0
    while IFS="$(printf '\t')" read -r name verdict text; do
        [ $n -gt 0 ] && echo ","
        printf '    {"name": %s, "verdict": %s, "text": %s}' "$(json_str "$name")" \
            "$(json_str "$verdict")" "$(json_str "$text")"
        n=$((n + 1))
    done <"$TARGETS"
    [ $n -gt 0 ] && echo
    echo "  ],"
    echo "  \"failures\": ["
    n=0
    while IFS= read -r f; do
        [ $n -gt 0 ] && echo ","
        printf '    %s' "$(json_str "$f")"
        n=$((n + 1))
    done <"$FAILS"
    [ $n -gt 0 ] && echo
    echo "  ]"
    echo "}"
} >"$RESULTS_DIR/results.json"

# Plots: gnuplot reads .dat files made here from the pause probe's CSVs
# and hgc's trace (its "stop the world" complete events: ts and dur in us).
if command -v gnuplot >/dev/null 2>&1; then
    P="$TMP/plot"
    mkdir -p "$P"
    cp "$RATIOS" "$P/ratios.dat"
    [ -s "$P/ratios.dat" ] || echo '"none" 0' >"$P/ratios.dat"
    for be in hgc boehm; do
        csv="$RESULTS_DIR/pause_probe_$be.csv"
        awk -F, '$1 == "heap" { printf "%s %s %s\n", $2, ($3 < 0 ? "NaN" : $3 / 1048576), $4 / 1024 }' \
            "$csv" 2>/dev/null >"$P/pp_${be}_heap.dat"
        awk -F, '$1 == "gap" { print $2, $3 }' "$csv" 2>/dev/null >"$P/pp_${be}_gaps.dat"
    done
    awk '/"name":"stop the world"/ {
            ts = $0; sub(/.*"ts":/, "", ts); sub(/,.*/, "", ts)
            d = $0; sub(/.*"dur":/, "", d); sub(/,.*/, "", d)
            print ts / 1e6, d / 1000 }' "$RESULTS_DIR/pause_probe_trace.json" 2>/dev/null \
        >"$P/pp_hgc_stw.dat"
    for f in "$P"/pp_*.dat; do [ -s "$f" ] || echo "0 NaN NaN" >"$f"; done
    if gnuplot -e "dir='$P'" "$ROOT/scripts/bench_plots.gnuplot" 2>"$TMP/gnuplot.err"; then
        cp "$P/ratios.svg" "$P/pause_probe.svg" "$RESULTS_DIR/"
    else
        log "warning: gnuplot failed:"
        sed 's/^/    /' "$TMP/gnuplot.err" >&2
    fi
else
    log "warning: gnuplot not found; no plots"
fi
log "results written to bench/results/ (latest.md, results.json, plots) in $((END - START)) s"

exit "$STATUS"
