;;; gcbench.scm -- the classic GCBench workload, in Scheme, for Guile:
;;; as bench/gcbench.c (a stretch tree of depth 18 built and dropped; a
;;; long-lived tree of depth 16 and a 500,000-element flonum vector kept
;;; throughout; for d = 4, 6, ..., 16, 2 * size(18) / size(d) trees of
;;; depth d built top-down and as many bottom-up, each dropped at once).
;;; A node is a mutable record of two children and two integers.  The
;;; first and last tree of every batch are counted; a wrong count is an
;;; error.  Prints the counts, so that every collector's output is the same.
(use-modules (srfi srfi-9))

(define-record-type node
  (make-node left right i j)
  node?
  (left node-left set-node-left!)
  (right node-right set-node-right!)
  (i node-i)
  (j node-j))

(define stretch-depth 18)
(define long-lived-depth 16)
(define array-length 500000)

(define (tree-size depth) (- (ash 1 (+ depth 1)) 1))

(define (leaf) (make-node #f #f 0 0))

;; Top-down: the parent exists first, its children are filled in.
(define (populate! depth n)
  (when (> depth 0)
    (set-node-left! n (leaf))
    (set-node-right! n (leaf))
    (populate! (- depth 1) (node-left n))
    (populate! (- depth 1) (node-right n))))

;; Bottom-up: children first, then the parent.
(define (make-tree depth)
  (if (<= depth 0)
      (leaf)
      (let* ((l (make-tree (- depth 1)))
             (r (make-tree (- depth 1))))
        (make-node l r 0 0))))

(define (count n)
  (if (node-left n)
      (+ 1 (count (node-left n)) (count (node-right n)))
      1))

(define (expect what depth t)
  (unless (= (count t) (tree-size depth))
    (error "gcbench: wrong node count" what depth (count t))))

(define (construction depth)
  (let ((iters (quotient (* 2 (tree-size stretch-depth)) (tree-size depth))))
    (do ((k 0 (+ k 1))) ((= k iters))
      (let ((t (leaf)))
        (populate! depth t)
        (when (or (= k 0) (= k (- iters 1))) (expect "top-down" depth t))))
    (do ((k 0 (+ k 1))) ((= k iters))
      (let ((t (make-tree depth)))
        (when (or (= k 0) (= k (- iters 1))) (expect "bottom-up" depth t))))
    (format #t "depth ~a: ~a trees each way~%" depth iters)))

(define (main)
  (expect "stretch" stretch-depth (make-tree stretch-depth))
  (let ((long-lived (leaf))
        (array (make-vector array-length 0.0)))
    (populate! long-lived-depth long-lived)
    (do ((i 0 (+ i 1))) ((= i array-length))
      (vector-set! array i (/ 1.0 (+ i 1))))
    (do ((d 4 (+ d 2))) ((> d 16))
      (construction d))
    (expect "long-lived" long-lived-depth long-lived)
    (format #t "long-lived tree: ~a nodes; array[1000] = ~a~%"
            (count long-lived) (vector-ref array 1000))))

(main)
