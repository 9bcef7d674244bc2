#!/usr/bin/env bash
# Load test (`go tool -modfile=tools/go.mod task load`): builds the app, runs it in emulator mode on
# a free loopback port over a database of its own (created, then dropped),
# waits until it is ready and the seed has synced, mints a session token
# through the emulator's Backend API, then measures in one run:
#   /healthz            liveness, the floor: the pipeline with no identity
#   /dashboard          a server-rendered page for a signed-in org member
#   /api/org            a JSON API call (token verification, rate limiter, a query)
#   webhook ingest      Svix-signed events from 16 senders (scripts/ingest)
# and prints req/s, p50 and p99, and each throughput as a ratio of /healthz.
# Everything stays on loopback and stops by itself.
#
# Environment: DURATION (per endpoint, default 10s), CONNECTIONS (default 16),
# THREADS (wrk threads, default 2), PGURL (server, default
# postgres://postgres@127.0.0.1:5432), KEEP_LOG=1 keeps the app log,
# PROFILE=DIR builds with -tags pprof and writes a CPU profile of the server
# under each endpoint's load to DIR/<endpoint>.pprof (go tool pprof -top …).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-16}
THREADS=${THREADS:-2}
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
SENDERS=16

if ! command -v wrk >/dev/null 2>&1; then
  echo "wrk not found; installing Debian's package" >&2
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq wrk >/dev/null
fi

work=$(mktemp -d)
db="saas_load_$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')"
app_pid=""
cleanup() {
  if [ -n "$app_pid" ] && kill -0 "$app_pid" 2>/dev/null; then
    kill -TERM "$app_pid"
    wait "$app_pid" 2>/dev/null || true
  fi
  psql "$PGURL/postgres?sslmode=disable" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  if [ "${KEEP_LOG:-}" = 1 ]; then echo "app log: $work/app.log"; else rm -rf "$work"; fi
}
trap cleanup EXIT

echo "== building"
tags=""
[ -n "${PROFILE:-}" ] && tags="-tags pprof" && mkdir -p "$PROFILE"
CGO_ENABLED=0 go build $tags -trimpath -o "$work/web" ./cmd/web
go build -o "$work/ingest" ./scripts/ingest

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)
pprof_addr="127.0.0.1:$(free_port)"
base="http://127.0.0.1:$port"
dburl="$PGURL/$db?sslmode=disable"
echo "== starting the app on $base (database $db)"
# The rate limit is raised so /api/org measures the API, not 429s; every
# request is still counted by the limiter.
PPROF_ADDR="$pprof_addr" APP_ENV=development ADDR="127.0.0.1:$port" BASE_URL="$base" DATABASE_URL="$dburl" METRICS_ADDR=off API_RATE_LIMIT=100000000 \
  SESSION_SECRET="load-test-session-secret-0123456789abcdef" "$work/web" >"$work/app.log" 2>&1 &
app_pid=$!

wait_for() { # wait_for <what> <seconds> <command…>: poll every 0.2 s, fail after the deadline
  local what=$1 limit=$2; shift 2
  local deadline=$(( $(date +%s) + limit ))
  until "$@" >/dev/null 2>&1; do
    if [ "$(date +%s)" -ge "$deadline" ] || ! kill -0 "$app_pid" 2>/dev/null; then
      echo "timed out waiting for $what; app log:" >&2; tail -n 30 "$work/app.log" >&2; exit 1
    fi
    sleep 0.2
  done
}
seed_synced() { # every webhook the emulator queued has been delivered
  psql "$dburl" -tAc "SELECT count(*) > 0 AND bool_and(delivered_at IS NOT NULL) FROM clerkemu.outbox" | grep -qx t
}
wait_for "/readyz" 60 curl -fsS "$base/readyz"
wait_for "the seed's webhooks" 60 seed_synced

bapi() { # bapi <path> [json body]: the emulator's Backend API
  curl -fsS -H "Authorization: Bearer sk_test_emulator" -H 'Content-Type: application/json' \
    ${2:+-d "$2"} "$base/__clerk/v1$1"
}
field() { python3 -c "import json,sys; d=json.load(sys.stdin); d=d[0] if isinstance(d, list) else d; print(d['$1'])"; }
user_id=$(bapi "/users?email_address=alice@acme.test" | field id)
session_id=$(bapi /sessions "{\"user_id\":\"$user_id\"}" | field id)
jwt=$(bapi "/sessions/$session_id/tokens" '{"expires_in_seconds":3600}' | field jwt)
secret=$(psql "$dburl" -tAc "SELECT webhook_secret FROM clerkemu.instance")

# to_ms <wrk latency, e.g. 812.00us, 1.20ms, 2.01s>
to_ms() { awk -v v="$1" 'BEGIN{ n=v+0; if (v ~ /us$/) n/=1000; else if (v ~ /ms$/) n+=0; else if (v ~ /s$/) n*=1000; printf "%.2f", n }'; }

results=()
healthz_rps=""
report() { # report <name> <rps> <p50 ms> <p99 ms> <non-2xx> <requests>
  local ratio="1.00"
  if [ -n "$healthz_rps" ] && [ "$1" != "/healthz" ]; then ratio=$(awk -v a="$2" -v b="$healthz_rps" 'BEGIN{printf "%.2f", a/b}'); fi
  [ "$1" = "/healthz" ] && healthz_rps=$2
  results+=("$(printf '%-16s %10s %9s %9s %8s %9s %10s' "$1" "$2" "$3" "$4" "$ratio" "$5" "$6")")
}

# measure <name> <path> [header]: wrk for DURATION, unless the route answers 404 (not built yet).
measure() {
  local name=$1 path=$2 header=${3:-}
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' ${header:+-H "$header"} "$base$path")
  if [ "$code" = 404 ]; then
    results+=("$(printf '%-16s %s' "$name" "not available (404)")"); return
  fi
  echo "== $name ($DURATION, $CONNECTIONS connections; first answer $code)"
  local out prof=""
  if [ -n "${PROFILE:-}" ]; then # a profile of the middle of the run
    local secs=$(( ${DURATION%s} > 4 ? ${DURATION%s} - 2 : 2 ))
    (sleep 1; curl -fsS -o "$PROFILE/$(tr -c 'a-z0-9\n' _ <<<"${name#/}").pprof" "http://$pprof_addr/debug/pprof/profile?seconds=$secs") &
    prof=$!
  fi
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency ${header:+-H "$header"} "$base$path")
  [ -n "$prof" ] && wait "$prof"
  local rps p50 p99 non2xx total
  rps=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' <<<"$out")
  p50=$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<<"$out"); non2xx=${non2xx:-0}
  total=$(awk '/requests in/ {print $1}' <<<"$out")
  report "$name" "$rps" "$p50" "$p99" "$non2xx" "$total"
}

measure /healthz /healthz
measure /dashboard /dashboard "Authorization: Bearer $jwt"
measure /api/org /api/org "Authorization: Bearer $jwt"

echo "== webhook ingest ($DURATION, $SENDERS senders)"
# The events carry the app's instance id, so each is applied (not ignored),
# and -db checks afterwards that each was applied exactly once.
instance=$(psql "$dburl" -tAc "SELECT instance_id FROM clerkemu.instance")
line=$("$work/ingest" -url "$base/api/webhooks/clerk" -secret "$secret" -instance "$instance" -db "$dburl" -duration "$DURATION" -senders "$SENDERS")
kv() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$line"; }
report "webhook ingest" "$(printf '%.0f' "$(kv rps)")" "$(kv p50_ms)" "$(kv p99_ms)" "$(kv non2xx)" "$(kv requests)"

echo
echo "machine: $(nproc) CPUs, $(free -g | awk '/^Mem:/ {print $2}') GiB RAM, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
printf '%-16s %10s %9s %9s %8s %9s %10s\n' endpoint "req/s" "p50 ms" "p99 ms" "/healthz" non-2xx requests
printf '%s\n' "${results[@]}"
