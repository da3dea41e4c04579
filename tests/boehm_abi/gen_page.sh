#!/bin/sh
# gen_page.sh ROWS: a deterministic HTML page for w3m to lay out (test_w3m,
# and the real-program row of make bench): a list, a table of ROWS rows
# with nested tables and colspans, entities and preformatted text.
set -eu
rows=${1:-3000}
echo '<html><head><title>hgc &amp; w3m</title></head><body>'
echo '<h1>Collected &lt;text&gt; &eacute;t&eacute;</h1><ul>'
i=1
while [ $i -le 300 ]; do
  echo "<li><a href=\"#r$i\">item $i</a> with <b>bold</b> and <i>italic</i> words</li>"
  i=$((i + 1))
done
echo '</ul><table border=1><tr><th>n</th><th>square</th><th>nested</th></tr>'
i=1
while [ $i -le "$rows" ]; do
  echo "<tr><td id=r$i>$i</td><td>$((i * i))</td><td><table><tr><td>a$i</td><td colspan=2>b$i c$i</td></tr></table></td></tr>"
  i=$((i + 1))
done
echo '</table><pre>'
i=1
while [ $i -le 200 ]; do
  echo "  preformatted line $i   keeps   its   spaces"
  i=$((i + 1))
done
echo '</pre></body></html>'
