#!/usr/bin/env bash
# CPU per request, split between a server process and PostgreSQL, under wrk:
#
#   bash scripts/cpu-per-request.sh PID URL [HEADER]     (env: D=8s C=16)
#
# PID is the server's process id (the app, or ../shared/perf/ref's server for
# comparison); HEADER is passed to wrk (e.g. "Authorization: Bearer <jwt>").
# It reads the CPU time of PID and of every PostgreSQL backend from /proc
# before and after one wrk run and divides by the requests served: a figure
# that moves less with the machine's other load than req/s does.
set -euo pipefail
pid=$1 url=$2 header=${3:-"X-Load: 1"}
tick=$(getconf CLK_TCK)
proc_cpu() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
pg_cpu() {
  local sum=0 p
  for p in $(pgrep -u postgres || true); do sum=$((sum + $(proc_cpu "$p"))); done
  echo "$sum"
}
all_cpu() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat; }
a0=$(proc_cpu "$pid") p0=$(pg_cpu) t0=$(all_cpu)
out=$(wrk -t2 -c"${C:-16}" -d"${D:-8s}" -H "$header" "$url")
a1=$(proc_cpu "$pid") p1=$(pg_cpu) t1=$(all_cpu)
n=$(awk '/requests in/ {print $1}' <<<"$out")
rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
python3 - "$n" "$tick" "$rps" "$a0" "$a1" "$p0" "$p1" "$t0" "$t1" <<'PY'
import sys
n, tick, rps = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
a0, a1, p0, p1, t0, t1 = map(int, sys.argv[4:])
us = lambda d: d / tick * 1e6 / n
print(f"{rps} req/s; CPU per request: server {us(a1 - a0):.0f} µs, PostgreSQL {us(p1 - p0):.0f} µs, whole machine {us(t1 - t0):.0f} µs")
PY
