#!/usr/bin/env bash
# scaling.sh -- how one benchmark program's throughput grows with threads,
# for several back ends, on a machine with more cores than make bench uses.
#
# usage: scripts/scaling.sh PROGRAM 'ARGS'
#   e.g. scripts/scaling.sh churn '{T} 20000000'
#        scripts/scaling.sh binary_trees '21 {T}'
#
# {T} in ARGS stands for the thread count.  Runs the already built
# $BIN_DIR/PROGRAM_<backend> binaries (make bench or the Release build
# makes them), each back end's thread counts back to back within each
# repetition, so that a ratio compares runs seconds apart.
#
# environment:
#   BIN_DIR=dir      where the binaries are (default build/bench)
#   THREADS="1 2 4"  thread counts (default: 1, then doubling up to nproc)
#   BACKENDS="..."   back ends (default "hgc boehm"); a missing binary is
#                    skipped with a warning
#   REPS=N           repetitions, the median reported (default 5)
#   WORK=thread      the program's work is fixed per thread, as churn's and
#                    nested_churn's are: speed-up = T * time(1) / time(T)
#   WORK=total       the work is fixed in total and split across threads,
#                    as binary_trees's is: speed-up = time(1) / time(T)
#                    (default: thread)
#   RAW=file         also keep every RESULT line there
#
# Output: one markdown table on stdout (progress on stderr), a row per
# thread count: each back end's median time, its speed-up over its own run
# at the first thread count (time(1) above), and each back end's time as a
# ratio to the first back end's.
set -u
export LC_ALL=C

ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -ne 2 ]; then
    echo "usage: scripts/scaling.sh PROGRAM 'ARGS with {T}'" >&2
    exit 2
fi
PROG=$1 ARGS_TEMPLATE=$2
case "$ARGS_TEMPLATE" in *'{T}'*) ;; *) echo "scaling: ARGS must contain {T}" >&2; exit 2 ;; esac
BIN_DIR=${BIN_DIR:-build/bench}
BACKENDS=${BACKENDS:-hgc boehm}
REPS=${REPS:-5}
WORK=${WORK:-thread}
case "$WORK" in thread|total) ;; *) echo "scaling: WORK must be 'thread' or 'total'" >&2; exit 2 ;; esac
case "$REPS" in ''|*[!0-9]*|0) echo "scaling: REPS must be a positive integer" >&2; exit 2 ;; esac
if [ -z "${THREADS:-}" ]; then
    n=$(nproc) THREADS=""
    for ((t = 1; t <= n; t *= 2)); do THREADS="$THREADS $t"; done
fi
for t in $THREADS; do
    case "$t" in ''|*[!0-9]*|0) echo "scaling: THREADS holds '$t', not a positive integer" >&2; exit 2 ;; esac
done

present=""
for be in $BACKENDS; do
    if [ -x "$BIN_DIR/${PROG}_$be" ]; then present="$present $be"
    else echo "scaling: no $BIN_DIR/${PROG}_$be; skipping $be" >&2; fi
done
[ -n "$present" ] || { echo "scaling: no binaries to run" >&2; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/hgc-scaling.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
RUNS=$TMP/runs.txt
: >"$RUNS"
STATUS=0
for ((rep = 1; rep <= REPS; rep++)); do
    for be in $present; do
        for t in $THREADS; do
            args=${ARGS_TEMPLATE//\{T\}/$t}
            # shellcheck disable=SC2086 # a word list of plain arguments
            line=$("$BIN_DIR/${PROG}_$be" $args 2>"$TMP/stderr" | grep '^RESULT ' | tail -n 1)
            if [ -z "$line" ]; then
                echo "scaling: FAILED: ${PROG}_$be $args" >&2
                tail -n 3 "$TMP/stderr" | sed 's/^/    /' >&2
                STATUS=1
                continue
            fi
            echo "bench_id=t$t rep=$rep ${line#RESULT }" >>"$RUNS"
            echo "scaling: rep $rep $be T=$t: ${line#RESULT name=}" >&2
        done
    done
done
[ -n "${RAW:-}" ] && cp "$RUNS" "$RAW"

# ID BACKEND FIELD MEDIAN MAX RUNS -> median time_s per (threads, back end)
awk -f "$ROOT/scripts/bench_stats.awk" "$RUNS" | awk '$3 == "time_s" { print $1, $2, $4 }' >"$TMP/med"
first=${present# }; first=${first%% *}
one=${THREADS# }; one=${one%% *}
awk -v backends="$present" -v first="$first" -v one="$one" -v threads="$THREADS" \
    -v prog="$PROG" -v args="$ARGS_TEMPLATE" -v reps="$REPS" -v work="$WORK" '
    { tm[$1, $2] = $3 }
    END {
        nb = split(backends, be, " "); nt = split(threads, th, " ")
        printf "%s %s, median of %d runs; work fixed %s, speed-up = %stime(%s) / time(T)\n\n",
            prog, args, reps, (work == "thread" ? "per thread" : "in total"), (work == "thread" ? "T/" one " x " : ""), one
        hdr = "| threads |"; sep = "|---:|"
        for (i = 1; i <= nb; i++) { hdr = hdr " " be[i] " s | speed-up |"; sep = sep "---:|---:|" }
        for (i = 1; i <= nb; i++) if (be[i] != first) { hdr = hdr " " be[i] " / " first " |"; sep = sep "---:|" }
        print hdr; print sep
        for (j = 1; j <= nt; j++) {
            t = th[j]; row = "| " t " |"
            for (i = 1; i <= nb; i++) {
                v = tm["t" t, be[i]]; b = tm["t" one, be[i]]
                if (v == "") { row = row " - | - |"; continue }
                row = row sprintf(" %.3f |", v)
                k = (work == "thread") ? t / one : 1
                row = row (b == "" ? " - |" : sprintf(" %.2fx |", k * b / v))
            }
            for (i = 1; i <= nb; i++) if (be[i] != first) {
                v = tm["t" t, be[i]]; f = tm["t" t, first]
                row = row ((v == "" || f == "") ? " - |" : sprintf(" %.2fx |", v / f))
            }
            print row
        }
    }' "$TMP/med"
exit $STATUS
