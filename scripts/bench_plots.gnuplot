# bench_plots.gnuplot -- the two SVG plots of scripts/bench.sh.
#
# Variable (gnuplot -e 'dir="..."'): the directory of the input .dat files
# and of the output SVGs.
#
# Inputs, white-space separated; every file must exist (one with the line
# "0 NaN NaN" stands for no data):
#   ratios.dat        "label" ratio        (label quoted, one per workload)
#   pp_<be>_heap.dat  t_s heap_mb rss_mb   (pause probe samples)
#   pp_<be>_gaps.dat  t_s ms               (mutator gaps over 1 ms)
#   pp_hgc_stw.dat    t_s ms               (hgc stop-the-world, from its trace)

set terminal svg size 900,480 dynamic font "sans,11"

# -------------------------------------------------------------- ratios.svg
set output dir."/ratios.svg"
set title "Boehm time / hgc time (above 1: hgc faster)"
set style data histograms
set style fill solid 0.7 border -1
set boxwidth 0.7
set yrange [0:*]
set grid ytics
set xtics rotate by 40 right noenhanced
set bmargin 11
set key off
set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead dashtype 2 lc rgb "#cc0000"
plot dir."/ratios.dat" using 2:xtic(1) lc rgb "#3366aa"
unset arrow 1
set xtics norotate
set bmargin
unset style data

# --------------------------------------------------------- pause_probe.svg
set output dir."/pause_probe.svg"
set terminal svg size 900,640 dynamic font "sans,11"
set multiplot layout 2,1 title "pause probe: heap size and pauses over time"
set key top left
set grid
set xlabel "time since start (s)"
set ylabel "MB"
set title "collector heap (solid) and resident set (dashed)"
set yrange [0:*]
plot \
  dir."/pp_hgc_heap.dat" using 1:2 with lines lw 2 lc rgb "#3366aa" title "hgc heap", \
  dir."/pp_hgc_heap.dat" using 1:3 with lines dt 2 lc rgb "#3366aa" title "hgc RSS", \
  dir."/pp_boehm_heap.dat" using 1:2 with lines lw 2 lc rgb "#cc6600" title "Boehm heap", \
  dir."/pp_boehm_heap.dat" using 1:3 with lines dt 2 lc rgb "#cc6600" title "Boehm RSS"
set title "pauses: gaps the mutator saw over 1 ms, and hgc's stop-the-world pauses (trace)"
set ylabel "ms"
plot \
  dir."/pp_hgc_stw.dat" using 1:2 with impulses lw 2 lc rgb "#99bbdd" title "hgc stop-the-world", \
  dir."/pp_hgc_gaps.dat" using 1:2 with points pt 7 ps 0.8 lc rgb "#000080" title "hgc gaps", \
  dir."/pp_boehm_gaps.dat" using 1:2 with impulses lw 1 lc rgb "#cc6600" title "Boehm gaps"
unset multiplot
