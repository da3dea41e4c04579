;;; trees.lisp -- an ECL workload: binary trees (benchmarks-game style) of
;;; conses, built and checked by ECL's bytecode interpreter, next to a
;;; long-lived tree and a hash table of strings kept throughout.  Prints
;;; the checks, so that every collector's output is the same.
(defun make-tree (depth)
  (if (zerop depth)
      (cons nil nil)
      (cons (make-tree (1- depth)) (make-tree (1- depth)))))

(defun check (tree)
  (if (car tree)
      (+ 1 (check (car tree)) (check (cdr tree)))
      1))

(defun run (max-depth)
  (let ((long-lived (make-tree max-depth))
        (table (make-hash-table :test #'equal)))
    (dotimes (i 20000)
      (setf (gethash (format nil "key-~d" i) table) (list i (* i i))))
    (loop for depth from 4 to max-depth by 2
          for iterations = (ash 1 (+ (- max-depth depth) 4))
          do (let ((sum 0))
               (dotimes (i iterations)
                 (incf sum (check (make-tree depth))))
               (format t "~d trees of depth ~d, check ~d~%" iterations depth sum)))
    (format t "long-lived tree of depth ~d, check ~d; table ~d, ~s~%"
            max-depth (check long-lived) (hash-table-count table)
            (gethash "key-777" table))))

(run 16)
(ext:quit 0)
