#!/bin/sh
# test_guile: Debian's Guile 3.0 (libguile-3.0 is linked with libgc.so.1) on
# hgc's libgc.so.1 prints what it prints on the Boehm collector's, and what
# each case expects:
#   smoke      (display (+ 1 2));
#   gc         after-gc-hook runs after (gc); gc-stats' gc-times and
#              heap-size are numbers and gc-times grows with (gc); a
#              long-lived structure (1000 lists of 100 strings and flonums)
#              keeps its checksum across six million short-lived objects;
#              1 GB of large strings and bytevectors, each dropped, leaves a
#              heap under 256 MB;
#   weaks      a weak vector and weak-key, weak-value and doubly-weak hash
#              tables of 10000 entries: entries held from a strong root
#              survive (gc) (gc) intact, most (all but fewer than half) of
#              the others are gone, and the held ones go too once dropped.
#              Guile 3.0 has no weak pairs.  Counts are over many objects
#              (hash-fold, not hash-count), never about one object, as a
#              stale stack word may keep any one of them;
#   guardians  a guarded object that stays reachable is not returned; most
#              of 1000 guarded, dropped objects are returned, distinct and
#              intact, and stay intact through more collections; an object
#              guarded twice comes back twice; dropped guardians holding
#              dropped objects do not crash;
#   threads    four threads building and checking binary trees while the
#              main thread builds trees and calls (gc), joined;
#   compile    Guile's own ice-9/psyntax.scm compiled by compile-file: the
#              .go files written on hgc and on Boehm are byte-identical;
#              then a small module is compiled, loaded and called (under
#              HGC_GC_STRESS, srfi/srfi-26.scm instead of psyntax.scm: a
#              collection every thousand allocations makes psyntax take
#              minutes);
#   suite      Guile's own test-suite/tests gc.test, weaks.test and
#              guardians.test, run by its driver test-suite/guile-test as
#              check-guile runs it: no test that passes on Boehm fails or
#              errs on hgc.  They are in no binary package: they come from
#              the guile-3.0 source package, fetched with apt-get source
#              through a private sources.list (80 s at most), or from
#              the unpacked Guile source tree that HGC_GUILE_SRC names.
#              When neither works the suite is reported not run and the
#              rest of the test still counts.
# Every guile runs with --no-auto-compile, HOME and XDG_CACHE_HOME in the
# temporary directory, so no compiled-file cache is read or written.
# Skipped (exit 77) when guile is not installed.
# usage: test_guile.sh HGC_LIBGC_DIR
set -eu
dir=$1
guile=$(command -v guile || true)
if [ -z "$guile" ]; then
  echo "test_guile: guile is not installed (apt-get install guile-3.0); skipped"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
HOME=$tmp XDG_CACHE_HOME=$tmp/cache
export HOME XDG_CACHE_HOME
fail() { echo "test_guile: $*"; exit 1; }

cat >gc.scm <<'SCM'
(use-modules (srfi srfi-1) (rnrs bytevectors))
(define (check name ok) (format #t "~a: ~a~%" name (if ok "ok" "FAIL")))
;; A (gc) while another Guile thread is being set up (the finalizer thread,
;; started when finalizers are first due) does nothing, on Boehm too: Guile
;; disables collection around a thread's setup, which under HGC_GC_STRESS
;; takes a while.  So (gc) again, 10 ms apart, for up to 20 s, until done?
;; says the collection happened.
(define (gc-until done?)
  (let loop ((i 0))
    (gc)
    (unless (or (done?) (= i 2000))
      (usleep 10000)
      (loop (+ i 1)))))
(define hook-runs 0)
(define (count-hook) (set! hook-runs (+ hook-runs 1)))
(add-hook! after-gc-hook count-hook)
(gc-until (lambda () (> hook-runs 0)))
(remove-hook! after-gc-hook count-hook)
(check "after-gc-hook runs after (gc)" (> hook-runs 0))
(define (stat key) (assq-ref (gc-stats) key))
(define times-before (stat 'gc-times))
(gc-until (lambda () (> (stat 'gc-times) times-before)))
(define times-after (stat 'gc-times))
(check "gc-stats gc-times and heap-size are numbers"
       (and (exact-integer? times-before) (exact-integer? times-after)
            (exact-integer? (stat 'heap-size)) (> (stat 'heap-size) 0)))
(check "gc-times grows with (gc)" (> times-after times-before))
;; A long-lived structure: 1000 lists of 100 (string . flonum) pairs.
(define keep
  (let ((v (make-vector 1000)))
    (do ((i 0 (+ i 1))) ((= i 1000) v)
      (vector-set! v i
        (map (lambda (j) (cons (number->string (+ (* i 100) j)) (exact->inexact j)))
             (iota 100))))))
(define (checksum)
  (let loop ((i 0) (sum 0))
    (if (= i 1000)
        sum
        (loop (+ i 1)
              (fold (lambda (p acc)
                      (+ acc (string->number (car p)) (inexact->exact (cdr p))))
                    sum (vector-ref keep i))))))
(define sum-before (checksum))
;; A million rounds of six short-lived objects each.
(define churn
  (let loop ((i 0) (acc 0))
    (if (= i 1000000)
        acc
        (let ((l (list i (+ i 1) (cons i i) (make-vector 3 i))))
          (loop (+ i 1) (+ acc (vector-ref (cadddr l) 2)))))))
(format #t "churn: ~a~%" churn)
(gc)
(define sum-after (checksum))
(format #t "long-lived checksum: ~a~%" sum-after)
(check "long-lived structure intact" (= sum-before sum-after))
;; 200 rounds of a 4 MB bytevector and a 1 MB string, each dropped.
(define big
  (let loop ((i 0) (acc 0))
    (if (= i 200)
        acc
        (let ((bv (make-bytevector (* 4 1024 1024) (modulo i 256)))
              (s (make-string (* 1024 1024) (integer->char (+ 65 (modulo i 26))))))
          (loop (+ i 1)
                (+ acc (bytevector-u8-ref bv (* 4 1024 1023))
                   (char->integer (string-ref s 1000000))))))))
(format #t "large objects: ~a~%" big)
(gc)
(check "heap smaller than the 1 GB allocated in large objects"
       (< (stat 'heap-size) (* 256 1024 1024)))
SCM
cat >gc.expected <<'EOF'
after-gc-hook runs after (gc): ok
gc-stats gc-times and heap-size are numbers: ok
gc-times grows with (gc): ok
churn: 499999500000
long-lived checksum: 5004900000
long-lived structure intact: ok
large objects: 35328
heap smaller than the 1 GB allocated in large objects: ok
EOF

cat >weaks.scm <<'SCM'
(use-modules (ice-9 weak-vector) (srfi srfi-1))
(define (check name ok) (format #t "~a: ~a~%" name (if ok "ok" "FAIL")))
(define n 10000)
;; Every tenth object is also held in a strong list.
(define strong '())
(define (fresh i)
  (let ((obj (list 'obj i (number->string i))))
    (if (zero? (modulo i 10)) (set! strong (cons obj strong)))
    obj))
(define (intact? obj i)
  (and (pair? obj) (eq? (car obj) 'obj) (eqv? (cadr obj) i)
       (string=? (caddr obj) (number->string i))))
(define (collect) (gc) (gc))
(define (table-count t) (hash-fold (lambda (k v acc) (+ acc 1)) 0 t))

;; Weak vector.
(define wv (make-weak-vector n #f))
(do ((i 0 (+ i 1))) ((= i n)) (weak-vector-set! wv i (fresh i)))
(collect)
(check "weak vector: strongly held elements survive"
       (every (lambda (i) (intact? (weak-vector-ref wv i) i))
              (iota (/ n 10) 0 10)))
(check "weak vector: most unreachable elements cleared"
       (< (count (lambda (i) (weak-vector-ref wv i)) (iota n)) (/ n 2)))
(set! strong '())

;; Weak-key hash table: object -> (i . string).
(define wk (make-weak-key-hash-table))
(do ((i 0 (+ i 1))) ((= i n))
  (hashq-set! wk (fresh i) (cons i (number->string i))))
(collect)
(check "weak-key table: strongly held keys survive"
       (every (lambda (k) (equal? (hashq-ref wk k)
                                  (cons (cadr k) (number->string (cadr k)))))
              strong))
(check "weak-key table: most unreachable entries gone"
       (let ((left (table-count wk))) (and (>= left (/ n 10)) (< left (/ n 2)))))
(set! strong '())

;; Weak-value hash table: i -> object.
(define wval (make-weak-value-hash-table))
(do ((i 0 (+ i 1))) ((= i n)) (hashv-set! wval i (fresh i)))
(collect)
(check "weak-value table: strongly held values survive"
       (every (lambda (v) (eq? (hashv-ref wval (cadr v)) v)) strong))
(check "weak-value table: most unreachable entries gone"
       (let ((left (table-count wval))) (and (>= left (/ n 10)) (< left (/ n 2)))))
(set! strong '())

;; Doubly-weak hash table: object -> (value i); every tenth key and every
;; fifteenth value is held, so every thirtieth entry has both held.
(define dw (make-doubly-weak-hash-table))
(define held-values '())
(do ((i 0 (+ i 1))) ((= i n))
  (let ((v (list 'value i)))
    (if (zero? (modulo i 15)) (set! held-values (cons v held-values)))
    (hashq-set! dw (fresh i) v)))
(collect)
(define both-held
  (filter (lambda (k) (zero? (modulo (cadr k) 15))) strong))
(check "doubly-weak table: entries with both key and value held survive"
       (and (= (length both-held) (ceiling (/ n 30)))
            (every (lambda (k) (equal? (hashq-ref dw k) (list 'value (cadr k))))
                   both-held)))
(check "doubly-weak table: most entries with a dropped key or value gone"
       (let ((left (table-count dw)))
         (and (>= left (length both-held)) (< left (/ n 2)))))
(set! strong '())
(set! held-values '())
(set! both-held '())
(collect)
;; 2334 entries were held; fewer than 1000 may stay.
(check "held table entries go too once dropped"
       (< (+ (table-count wk) (table-count wval) (table-count dw)) (/ n 10)))
SCM
cat >weaks.expected <<'EOF'
weak vector: strongly held elements survive: ok
weak vector: most unreachable elements cleared: ok
weak-key table: strongly held keys survive: ok
weak-key table: most unreachable entries gone: ok
weak-value table: strongly held values survive: ok
weak-value table: most unreachable entries gone: ok
doubly-weak table: entries with both key and value held survive: ok
doubly-weak table: most entries with a dropped key or value gone: ok
held table entries go too once dropped: ok
EOF

cat >guardians.scm <<'SCM'
(use-modules (srfi srfi-1))
(define (check name ok) (format #t "~a: ~a~%" name (if ok "ok" "FAIL")))
(define (collect) (gc) (gc))
(define (drain g)
  (let loop ((acc '()))
    (let ((obj (g)))
      (if obj (loop (cons obj acc)) acc))))
(define (make-obj i) (vector 'guarded i (make-string 16 #\g) (list i (* i i))))
(define (intact? obj)
  (and (vector? obj) (= (vector-length obj) 4) (eq? (vector-ref obj 0) 'guarded)
       (let ((i (vector-ref obj 1)))
         (and (string=? (vector-ref obj 2) (make-string 16 #\g))
              (equal? (vector-ref obj 3) (list i (* i i)))))))

;; A guarded object that stays reachable is not returned.
(define g1 (make-guardian))
(define kept (make-obj 7))
(g1 kept)
(collect)
(check "reachable guarded object not returned" (not (g1)))
(check "reachable guarded object intact" (intact? kept))

;; 1000 guarded objects, dropped.
(define g2 (make-guardian))
(do ((i 0 (+ i 1))) ((= i 1000)) (g2 (make-obj i)))
(collect)
(define returned (drain g2))
(check "most of 1000 dropped objects returned" (> (length returned) 500))
(check "returned objects intact" (every intact? returned))
(check "returned objects distinct"
       (= (length returned)
          (length (delete-duplicates (map (lambda (o) (vector-ref o 1)) returned)))))
(check "guardian empty once drained" (not (g2)))
(set! returned '())

;; 1000 objects each guarded twice by one guardian, dropped.
(define g3 (make-guardian))
(do ((i 0 (+ i 1))) ((= i 1000))
  (let ((obj (make-obj i))) (g3 obj) (g3 obj)))
(collect)
(define twice (drain g3))
(define ids (map (lambda (o) (vector-ref o 1)) twice))
(define distinct (delete-duplicates ids))
(check "most objects guarded twice returned" (> (length distinct) 500))
(check "each returned twice"
       (every (lambda (i) (= 2 (count (lambda (j) (= i j)) ids))) distinct))
(check "returned twice as the same object"
       (every (lambda (i)
                (let ((objs (filter (lambda (o) (= i (vector-ref o 1))) twice)))
                  (eq? (car objs) (cadr objs))))
              distinct))
(set! twice '()) (set! ids '()) (set! distinct '())

;; 100 guardians of 100 objects each, all dropped.
(do ((k 0 (+ k 1))) ((= k 100))
  (let ((g (make-guardian)))
    (do ((i 0 (+ i 1))) ((= i 100)) (g (make-obj i)))))
(collect)
(collect)
(check "dropped guardians" #t)

;; Returned objects stay intact through more collections.
(define g4 (make-guardian))
(do ((i 0 (+ i 1))) ((= i 1000)) (g4 (make-obj i)))
(collect)
(define back (drain g4))
(collect)
(make-list 100000 'x)
(collect)
(check "returned objects intact after more collections"
       (and (> (length back) 500) (every intact? back)))
SCM
cat >guardians.expected <<'EOF'
reachable guarded object not returned: ok
reachable guarded object intact: ok
most of 1000 dropped objects returned: ok
returned objects intact: ok
returned objects distinct: ok
guardian empty once drained: ok
most objects guarded twice returned: ok
each returned twice: ok
returned twice as the same object: ok
dropped guardians: ok
returned objects intact after more collections: ok
EOF

cat >threads.scm <<'SCM'
(use-modules (ice-9 threads))
;; A binary tree of depth d: a leaf is (), a node is #(d left right).
(define (make-tree d)
  (if (= d 0) '() (vector d (make-tree (- d 1)) (make-tree (- d 1)))))
(define (tree-nodes t)
  (if (null? t) 0 (+ 1 (tree-nodes (vector-ref t 1)) (tree-nodes (vector-ref t 2)))))
(define (tree-ok? t d)
  (if (= d 0)
      (null? t)
      (and (vector? t) (eqv? (vector-ref t 0) d)
           (tree-ok? (vector-ref t 1) (- d 1)) (tree-ok? (vector-ref t 2) (- d 1)))))
;; Each thread keeps a depth-12 tree while it builds 200 depth-10 ones.
(define (worker id)
  (let ((long-lived (make-tree 12)))
    (let loop ((round 0) (nodes 0) (ok #t))
      (if (= round 200)
          (list id nodes (and ok (tree-ok? long-lived 12)))
          (let ((t (make-tree 10)))
            (loop (+ round 1) (+ nodes (tree-nodes t)) (and ok (tree-ok? t 10))))))))
(define threads
  (map (lambda (id) (call-with-new-thread (lambda () (worker id)))) (iota 4)))
(define main-result
  (let loop ((i 0) (sum 0))
    (if (= i 50)
        sum
        (let ((t (make-tree 9)))
          (gc)
          (loop (+ i 1) (+ sum (if (tree-ok? t 9) (tree-nodes t) -1000000)))))))
(display (map join-thread threads)) (newline)
(display main-result) (newline)
(gc)
(display (tree-nodes (make-tree 10))) (newline)
SCM
cat >threads.expected <<'EOF'
((0 204600 #t) (1 204600 #t) (2 204600 #t) (3 204600 #t))
25550
1023
EOF

libsrc=ice-9/psyntax.scm
[ -z "${HGC_GC_STRESS:-}" ] || libsrc=srfi/srfi-26.scm
libpath=$("$guile" --no-auto-compile -c "(display (%search-load-path \"$libsrc\"))")
[ -f "$libpath" ] || fail "$libsrc is not in guile's load path"
cp "$libpath" lib.scm
cat >mymod.scm <<'SCM'
(define-module (mymod)
  #:export (fib squares-sum))
(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))
(define (squares-sum n)
  (let loop ((i 0) (acc 0)) (if (= i n) acc (loop (+ i 1) (+ acc (* i i))))))
SCM
# GC_SIDE (boehm or hgc, set by run) names the .go files each side writes.
cat >compile.scm <<'SCM'
(use-modules (system base compile))
(define (out base) (string-append (getcwd) "/" base "-" (getenv "GC_SIDE") ".go"))
(compile-file "lib.scm" #:output-file (out "lib"))
(compile-file "mymod.scm" #:output-file (out "mymod"))
(load-compiled (out "mymod"))
(display (list ((@ (mymod) fib) 25) ((@ (mymod) squares-sum) 1000)))
(newline)
SCM
cat >compile.expected <<'EOF'
(75025 332833500)
EOF

# run NAME ARGS...: the same guile command on Boehm, then on hgc; the
# outputs are the same, and what NAME.expected holds where there is one.
run() {
  name=$1; shift
  env GC_SIDE=boehm timeout 120 "$guile" --no-auto-compile "$@" >"$name.boehm" 2>&1 ||
    { cat "$name.boehm"; fail "$name failed on Boehm"; }
  env GC_SIDE=hgc LD_LIBRARY_PATH="$dir" HGC_STATS=1 timeout 120 "$guile" --no-auto-compile "$@" \
    >"$name.hgc" 2>"$name.err" || { cat "$name.hgc" "$name.err"; fail "$name failed on hgc"; }
  cmp -s "$name.boehm" "$name.hgc" || { diff -u "$name.boehm" "$name.hgc" | head -20; fail "$name differs"; }
  grep -q '^hgc: stats: collections' "$name.err" || { cat "$name.err"; fail "$name: hgc did not run"; }
  if [ -f "$name.expected" ]; then
    cmp -s "$name.expected" "$name.hgc" ||
      { diff -u "$name.expected" "$name.hgc" | head -20; fail "$name: not the expected output"; }
  fi
}
printf '3\n' >smoke.expected
run smoke -c '(display (+ 1 2)) (newline)'
run gc gc.scm
run weaks weaks.scm
run guardians guardians.scm
run threads threads.scm
run compile compile.scm
for go in lib mymod; do
  [ -s "$go-boehm.go" ] && [ -s "$go-hgc.go" ] || fail "compile: $go.go not written"
  cmp "$go-boehm.go" "$go-hgc.go" || fail "compile: $go.go compiled on hgc differs from Boehm's"
done
for name in gc weaks guardians threads compile; do
  grep -q '^hgc: stats: collections [1-9]' "$name.err" || { cat "$name.err"; fail "$name: no collection"; }
done

# Guile's own gc.test, weaks.test and guardians.test.
# fetch_suite: unpacks them under $tmp/src and prints the test-suite
# directory, or prints why not and returns 1.
fetch_suite() {
  if [ -n "${HGC_GUILE_SRC:-}" ]; then
    [ -f "$HGC_GUILE_SRC/test-suite/guile-test" ] ||
      { echo "HGC_GUILE_SRC=$HGC_GUILE_SRC holds no test-suite/guile-test"; return 1; }
    echo "$HGC_GUILE_SRC/test-suite"
    return 0
  fi
  command -v apt-get >/dev/null || { echo "apt-get is not installed"; return 1; }
  mkdir -p "$tmp/apt/lists/partial" "$tmp/apt/cache/archives/partial" "$tmp/src"
  echo 'deb-src http://deb.debian.org/debian bookworm main' >"$tmp/apt/sources.list"
  set -- -o Dir::Etc::SourceList="$tmp/apt/sources.list" -o Dir::Etc::SourceParts=/nonexistent \
    -o Dir::State::Lists="$tmp/apt/lists" -o Dir::Cache="$tmp/apt/cache" -o Debug::NoLocking=1
  timeout 40 apt-get "$@" update >"$tmp/apt/update.log" 2>&1 ||
    { echo "apt-get update failed: $(grep -E '^(E|Err):' "$tmp/apt/update.log" | head -n 1)"; return 1; }
  (cd "$tmp/src" && timeout 40 apt-get "$@" source --download-only guile-3.0) >"$tmp/apt/source.log" 2>&1 ||
    { echo "apt-get source guile-3.0 failed: $(grep '^E:' "$tmp/apt/source.log" | head -n 1)"; return 1; }
  orig=$(ls "$tmp"/src/guile-3.0_*.orig.tar.* 2>/dev/null | head -n 1)
  [ -n "$orig" ] || { echo "apt-get source guile-3.0 fetched no orig tarball"; return 1; }
  (cd "$tmp/src" && tar -xf "$orig" --wildcards '*/test-suite/guile-test' \
    '*/test-suite/test-suite/*' '*/test-suite/tests/gc.test' '*/test-suite/tests/weaks.test' \
    '*/test-suite/tests/guardians.test') >"$tmp/apt/tar.log" 2>&1 ||
    { echo "unpacking $(basename "$orig") failed: $(head -n 1 "$tmp/apt/tar.log")"; return 1; }
  ts=$(dirname "$(ls "$tmp"/src/*/test-suite/guile-test | head -n 1)")
  echo "$ts"
}
# suite SIDE ENV...: runs the three files with the suite's driver as
# check-guile does; the log is suite.SIDE.log.
suite() {
  side=$1; shift
  mkdir -p "suite-$side"
  (cd "suite-$side" && env GUILE_LOAD_PATH="$ts" TEST_SUITE_DIR="$ts" "$@" timeout 120 "$guile" \
    --debug -L "$ts" --no-auto-compile -e main -s "$ts/guile-test" --test-suite "$ts/tests" \
    --log-file "$tmp/suite.$side.log" gc.test weaks.test guardians.test) >"suite.$side.out" 2>&1 || true
  grep -q '^Totals for this test run' "$tmp/suite.$side.log" 2>/dev/null ||
    { cat "suite.$side.out"; fail "suite: guile-test did not finish on $side"; }
}
if ts=$(fetch_suite); then
  suite boehm
  suite hgc LD_LIBRARY_PATH="$dir" HGC_STATS=1
  grep -q '^hgc: stats: collections' suite.hgc.out || { cat suite.hgc.out; fail "suite: hgc did not run"; }
  # names of the tests with outcome $1 (a regular expression) in log $2
  outcome() { sed -n -E "s/^($1): //p" "$2" | sed 's/ - arguments: .*//' | sort -u; }
  outcome PASS suite.boehm.log >suite.boehm.pass
  [ -s suite.boehm.pass ] || { cat suite.boehm.out; fail "suite: no test passed on Boehm"; }
  outcome 'FAIL|ERROR|UPASS' suite.hgc.log >suite.hgc.bad
  comm -12 suite.boehm.pass suite.hgc.bad >suite.regressions
  [ ! -s suite.regressions ] ||
    { grep -E '^(FAIL|ERROR|UPASS): ' suite.hgc.log; fail "suite: tests passing on Boehm fail on hgc"; }
  suite="$(wc -l <suite.boehm.pass) tests passing on Boehm pass on hgc too"
  if ! outcome PASS suite.hgc.log | cmp -s - suite.boehm.pass; then
    echo "test_guile: note: Guile's suite outcomes differ beyond failures (unresolved on one side):"
    diff suite.boehm.log suite.hgc.log | grep '^[<>] [A-Z]*:' || true
  fi
else
  echo "test_guile: Guile's own gc.test, weaks.test and guardians.test not run: $ts"
  suite="Guile's own gc, weaks and guardians tests not run"
fi
echo "test_guile: ok (smoke, gc, weaks, guardians, 4 threads, $libsrc compiled identically; $suite)"
