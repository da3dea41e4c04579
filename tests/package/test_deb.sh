#!/bin/sh
# test_deb: the Debian package, built from a copy of the tree by
# dpkg-buildpackage (debian/), passes lintian with no error or warning
# other than debian/libhgc.lintian-overrides explains, installs into a
# scratch root with dpkg with every file README.md and COMPAT.md name, and
# its hgc-run runs w3m on the installed libgc.so.1 from there; removing
# and purging it leaves no file behind.
# Skipped (exit 77) without dpkg-buildpackage and debhelper, and in the
# suite's HGC_VERIFY and HGC_GC_STRESS reruns (the package is the same).
# usage: test_deb.sh SOURCE_DIR
set -eu
src=$1
if [ -n "${HGC_VERIFY:-}${HGC_GC_STRESS:-}" ]; then
  echo "test_deb: built once per suite, in the plain pass; skipped"
  exit 77
fi
for tool in dpkg-buildpackage dh lintian; do
  if ! command -v $tool >/dev/null; then
    echo "test_deb: $tool is not installed (scripts/deps.sh installs it); skipped"
    exit 77
  fi
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "test_deb: $*"; exit 1; }

# dpkg-buildpackage writes into the tree and beside it: build a copy of
# what the repository holds, without build directories.
mkdir "$tmp/hgc"
(cd "$src" && tar cf - --exclude='./build*' --exclude=./.git --exclude='./obj-*' \
   --exclude=./debian/libhgc --exclude=./debian/.debhelper --exclude='./debian/*.substvars' \
   --exclude=./debian/files --exclude='./debian/*.log' .) | (cd "$tmp/hgc" && tar xf -)
(cd "$tmp/hgc" && dpkg-buildpackage -b -us -uc -j2 >"$tmp/build.log" 2>&1) ||
  { tail -40 "$tmp/build.log"; fail "dpkg-buildpackage failed"; }
deb=$(ls "$tmp"/libhgc_*_amd64.deb)
echo "test_deb: built $(basename "$deb")"

lintian --fail-on error,warning --tag-display-limit 0 "$tmp"/*.changes >"$tmp/lintian.log" 2>&1 ||
  { cat "$tmp/lintian.log"; fail "lintian reports errors or warnings"; }
echo "test_deb: lintian: no error or warning"

root=$tmp/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
touch "$root/var/lib/dpkg/status"
# The scratch root has no libc: dependencies are not checked there, and
# maintainer scripts (debhelper writes none) would run without chroot.
dpkg="dpkg --root=$root --force-depends --force-script-chrootless --force-not-root"
$dpkg -i "$deb" >"$tmp/dpkg.log" 2>&1 || { cat "$tmp/dpkg.log"; fail "dpkg -i failed"; }
multi=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
lib=$root/usr/lib/$multi
for f in "$lib/libhgc.so.0" "$lib/libhgc.so" "$lib/libhgc.a" "$lib/pkgconfig/hgc.pc" \
         "$lib/cmake/hgc/hgcConfig.cmake" "$lib/cmake/hgc/hgcConfigVersion.cmake" \
         "$lib/hgc/libgc.so.1" "$lib/hgc/pkgconfig/bdw-gc.pc" \
         "$root/usr/include/hgc.h" "$root/usr/include/hgc/gc.h" "$root/usr/include/hgc/gc/gc.h" \
         "$root/usr/bin/hgc-run" "$root/usr/share/man/man1/hgc-run.1.gz"; do
  [ -e "$f" ] || fail "the package does not install ${f#$root}"
done
grep -q "^libdir=\${prefix}/lib/$multi/hgc$" "$lib/hgc/pkgconfig/bdw-gc.pc" &&
  grep -q '^prefix=/usr$' "$lib/hgc/pkgconfig/bdw-gc.pc" || fail "bdw-gc.pc does not name /usr/lib/$multi/hgc"
echo "test_deb: installed in a scratch root"

if command -v w3m >/dev/null; then
  printf '<html><body><p>from the package</p></body></html>\n' >"$tmp/page.html"
  HGC_STATS=1 "$root/usr/bin/hgc-run" w3m -dump -T text/html <"$tmp/page.html" >"$tmp/out" 2>"$tmp/err" ||
    { cat "$tmp/err"; fail "the installed hgc-run failed"; }
  grep -q "from the package" "$tmp/out" && grep -q "^hgc: stats:" "$tmp/err" ||
    fail "the installed hgc-run did not run w3m on hgc"
  echo "test_deb: the installed hgc-run runs w3m on hgc"
fi

$dpkg --purge libhgc >"$tmp/dpkg.log" 2>&1 || { cat "$tmp/dpkg.log"; fail "dpkg --purge failed"; }
left=$(cd "$root" && find usr -type f -o -type l 2>/dev/null || true)
[ -z "$left" ] || fail "purge left files behind: $left"
echo "test_deb: ok"
