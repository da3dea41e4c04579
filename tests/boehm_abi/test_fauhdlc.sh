#!/bin/sh
# test_fauhdlc: Debian's fauhdlc, a VHDL compiler in C++ whose operator new
# is Boehm's libgccpp.so.1 (so allocation reaches libgc.so.1 before main
# and before GC_init), compiles a small design on hgc's libgc.so.1 to the
# same intermediate code as on the Boehm collector's, collecting as it
# goes; fauhdli then simulates both alike.  Skipped (exit 77) when fauhdlc
# is not installed.
# usage: test_fauhdlc.sh HGC_LIBGC_DIR
set -eu
dir=$1
if ! command -v fauhdlc >/dev/null || ! command -v fauhdli >/dev/null; then
  echo "test_fauhdlc: fauhdlc is not installed (scripts/deps.sh installs it); skipped"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
fail() { echo "test_fauhdlc: $*"; exit 1; }
cat >counter.vhdl <<'VHDL'
entity counter is
end counter;

architecture behav of counter is
  signal count : integer := 0;
  signal clk : bit := '0';
begin
  clock: process
  begin
    for i in 1 to 40 loop
      clk <= not clk;
      wait for 5;
    end loop;
    wait;
  end process;

  adder: process(clk)
    variable total : integer := 0;
  begin
    if clk = '1' then
      total := total + 3;
      count <= total;
    end if;
  end process;
end behav;
VHDL
timeout 120 fauhdlc -o boehm.int counter.vhdl || fail "fauhdlc failed on Boehm"
env LD_LIBRARY_PATH="$dir" HGC_STATS=1 timeout 120 fauhdlc -o hgc.int counter.vhdl 2>hgc.err ||
  { cat hgc.err; fail "fauhdlc failed on hgc"; }
grep -q '^hgc: stats: collections [1-9]' hgc.err || { cat hgc.err; fail "no collection by hgc"; }
cmp -s boehm.int hgc.int || fail "the intermediate code differs"
timeout 60 fauhdli -s work:counter -o boehm.vcd boehm.int >/dev/null 2>&1 || fail "fauhdli failed"
timeout 60 fauhdli -s work:counter -o hgc.vcd hgc.int >/dev/null 2>&1 || fail "fauhdli failed"
cmp -s boehm.vcd hgc.vcd || fail "the simulations differ"
echo "test_fauhdlc: ok ($(wc -c <hgc.int) bytes of code and the simulation as on Boehm; $(head -n 1 hgc.err))"
