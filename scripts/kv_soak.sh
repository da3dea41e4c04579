#!/usr/bin/env bash
# kv_soak.sh -- examples/kvserver under wrk on loopback (make kv-soak).
# KV_SOAK_SECONDS (default 120) in two halves: one with "Connection: close"
# on every request (a new connection each time), one with keep-alive; GETs
# and PUTs, every answer checked by scripts/kv_check.lua.  Passes when no
# answer was wrong or missing, the server is still up, its RSS stayed under
# KV_RSS_BOUND_MB (default 256) and it stops cleanly on SIGTERM.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
seconds=${KV_SOAK_SECONDS:-120}
bound_mb=${KV_RSS_BOUND_MB:-256}
case "$seconds" in ''|*[!0-9]*|0|1) echo "kv-soak: KV_SOAK_SECONDS must be an integer >= 2" >&2; exit 2 ;; esac
if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" -eq 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null ||
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
  else
    echo "kv-soak: wrk is not installed (apt-get install wrk)" >&2; exit 1
  fi
fi
cmake -S . -B build-test -DHGC_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-test -j"${JOBS:-2}" --target kvserver >/dev/null

log=$(mktemp)
trap 'rm -f "$log"; [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null || true' EXIT
build-test/examples/kvserver -t 4 -k 10000 >"$log" &
pid=$!
for _ in $(seq 50); do grep -q "listening on port" "$log" && break; sleep 0.1; done
port=$(sed -n 's/^kvserver: listening on port \([0-9]*\)$/\1/p' "$log")
[ -n "$port" ] || { echo "kv-soak: the server did not start" >&2; exit 1; }

max_rss=0
sample() { # prints the max VmRSS (kB) seen while its parent runs wrk
  local m=0 r
  while kill -0 "$pid" 2>/dev/null; do
    r=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    [ "${r:-0}" -gt "$m" ] && m=$r
    echo "$m" >"$log.rss"
    sleep 0.5
  done
}
sample & sampler=$!

half=$((seconds / 2))
fail=0
for mode in close keepalive; do
  hdr=()
  [ "$mode" = close ] && hdr=(-H "Connection: close")
  echo "== kv-soak: $half s, $mode"
  out=$(wrk -t2 -c32 -d"${half}s" -s scripts/kv_check.lua "${hdr[@]}" "http://127.0.0.1:$port/")
  echo "$out" | grep -E "Requests/sec|requests in|Socket errors|Non-2xx|kv_check" || true
  echo "$out" | grep -q "kv_check: .* 0 bad" || fail=1
  echo "$out" | grep -q "Non-2xx" && fail=1
  kill -0 "$pid" 2>/dev/null || { echo "kv-soak: the server died" >&2; fail=1; break; }
done
kill "$sampler" 2>/dev/null || true
max_rss=$(cat "$log.rss" 2>/dev/null || echo 0); rm -f "$log.rss"
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET /stats HTTP/1.1\r\nHost: s\r\nConnection: close\r\n\r\n' >&3
echo "server stats: $(tail -n 1 <&3)"
exec 3<&-
kill -TERM "$pid"
status=0; wait "$pid" || status=$?
pid=
cat "$log"
echo "kv-soak: peak RSS $((max_rss / 1024)) MiB (bound $bound_mb MiB), server exit status $status"
[ "$status" -eq 0 ] || fail=1
[ "$max_rss" -lt $((bound_mb * 1024)) ] || fail=1
[ "$fail" -eq 0 ] && echo "kv-soak: ok" || { echo "kv-soak: FAILED" >&2; exit 1; }
