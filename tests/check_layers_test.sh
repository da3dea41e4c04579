#!/bin/sh
# test_check_layers: scripts/check_layers.py fails on an upward include
# and on an upward call, in a copy of the sources and of the build's
# objects, and passes on the copy as it is.
# Usage: check_layers_test.sh SOURCE_DIR BUILD_DIR
set -eu
root=$1 build=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
check() { python3 "$root/scripts/check_layers.py" --src "$tmp/src" --build "$tmp/build" >"$tmp/out" 2>&1; }

cp -r "$root/src" "$tmp/src"
mkdir -p "$tmp/build/CMakeFiles"
cp -r "$build/CMakeFiles/hgc_obj.dir" "$build/CMakeFiles/hgc_gc.dir" "$tmp/build/CMakeFiles/"
# Objects are compared with their sources' times: keep the copies newer.
find "$tmp/build" -name '*.o' -exec touch {} +
check || { echo "test_check_layers: the unchanged tree failed:"; cat "$tmp/out"; exit 1; }

# The heap layer includes a header of the cycle layer.
cp "$tmp/src/heap/marks.h" "$tmp/marks.h"
echo '#include "cycle/collector.h"' >>"$tmp/src/heap/marks.h"
if check || ! grep -qx 'upward include: heap/marks.h -> cycle/collector.h' "$tmp/out"; then
  echo "test_check_layers: an upward include was not reported:"; cat "$tmp/out"; exit 1
fi
cp "$tmp/marks.h" "$tmp/src/heap/marks.h"

# An object of the heap layer calls a function of the cycle layer.
printf 'int collector_collect(int);\nint upward(void) { return collector_collect(0); }\n' \
  >"$tmp/src/heap/upward.c"
cc -c -o "$tmp/build/CMakeFiles/hgc_obj.dir/src/heap/upward.c.o" "$tmp/src/heap/upward.c"
if check || ! grep -q '^upward call: heap/upward.c -> collector_collect (defined in cycle/collector.c)$' "$tmp/out"; then
  echo "test_check_layers: an upward call was not reported:"; cat "$tmp/out"; exit 1
fi
echo "test_check_layers: an upward include and an upward call reported, the tree itself clean"
