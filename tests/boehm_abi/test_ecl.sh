#!/bin/sh
# test_ecl: Debian's ECL (Embeddable Common Lisp, linked with libgc.so.1)
# on hgc's libgc.so.1 prints what it prints on the Boehm collector's:
#   smoke    (print (+ 1 2));
#   threads  four Lisp threads allocating, joined, then (si::gc t): ECL
#            pushes its Lisp stacks from its own GC_push_other_roots
#            procedure and keeps their blocks with GC_set_mark_bit;
#   compile  a file compiled to a .fas (through the C compiler) and loaded.
# Skipped (exit 77) when ecl is not installed.
# usage: test_ecl.sh HGC_LIBGC_DIR
set -eu
dir=$1
ecl=$(command -v ecl || true)
if [ -z "$ecl" ]; then
  echo "test_ecl: ecl is not installed (scripts/deps.sh installs it); skipped"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
fail() { echo "test_ecl: $*"; exit 1; }

cat >threads.lisp <<'LISP'
(defun work (n)
  (let ((l nil))
    (dotimes (i n) (push (make-array 10 :initial-element i) l))
    (reduce #'+ l :key (lambda (a) (aref a 0)))))
(let ((threads (loop for i below 4
                     collect (mp:process-run-function (format nil "w~a" i) #'work 200000))))
  (print (loop for th in threads sum (mp:process-join th))))
(si::gc t)
(print (work 1000))
(terpri)
(ext:quit 0)
LISP
cat >lib.lisp <<'LISP'
(defun fib (n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))
(defun squares (n) (loop for i below n collect (* i i)))
LISP
cat >compile.lisp <<'LISP'
(compile-file "lib.lisp" :output-file "lib.fas" :verbose nil :print nil)
(load "lib.fas")
(print (list (fib 20) (reduce #'+ (squares 1000))))
(terpri)
(ext:quit 0)
LISP

# run NAME ARGS...: the same ECL command on Boehm, then on hgc.
run() {
  name=$1; shift
  rm -f lib.fas
  timeout 120 "$ecl" --norc "$@" >"$name.boehm" 2>&1 || { cat "$name.boehm"; fail "$name failed on Boehm"; }
  rm -f lib.fas
  env LD_LIBRARY_PATH="$dir" HGC_STATS=1 timeout 120 "$ecl" --norc "$@" >"$name.hgc" 2>"$name.err" ||
    { cat "$name.hgc" "$name.err"; fail "$name failed on hgc"; }
  cmp -s "$name.boehm" "$name.hgc" || { diff -u "$name.boehm" "$name.hgc" | head -20; fail "$name differs"; }
  grep -q '^hgc: stats: collections' "$name.err" || { cat "$name.err"; fail "$name: hgc did not run"; }
}
run smoke --eval '(progn (print (+ 1 2)) (ext:quit 0))'
run threads --load threads.lisp
run compile --load compile.lisp
grep -q '^hgc: stats: collections [1-9]' threads.err || { cat threads.err; fail "threads: no collection"; }
echo "test_ecl: ok (smoke, 4 threads and (si::gc t), compile-file and load as on Boehm)"
