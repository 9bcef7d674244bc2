#!/usr/bin/env bash
# Load test of the org-scoped pages through the full stack, against /healthz
# in the same run: builds scripts/benchapp (the app as cmd/web wires it, with
# a rate limit too high to matter), starts it in emulator mode on a free port
# over a fresh database, waits for the seed's webhooks, mints a session token
# for alice@acme.test (Acme) through the emulator's Backend API, and runs wrk
# with that token on /healthz, /dashboard and /api/org.
#
#   scripts/bench-dashboard.sh            # 16 connections, 10 s per endpoint
#   CONNS=32 DURATION=20s scripts/bench-dashboard.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
CONNS=${CONNS:-16}
THREADS=${THREADS:-2}
DURATION=${DURATION:-10s}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
db="saas_bench_$port"
base="http://127.0.0.1:$port"
bin=$(mktemp -d)/benchapp
go build -o "$bin" ./scripts/benchapp

export APP_ENV=development ADDR="127.0.0.1:$port" BASE_URL="$base" METRICS_ADDR=off \
  DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db?sslmode=disable" \
  SESSION_SECRET="bench-session-secret-0123456789abcdef0123456789"
"$bin" & pid=$!
cleanup() {
  kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

for _ in $(seq 100); do curl -fsS "$base/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
bapi() { curl -fsS -X "$1" -H "Authorization: Bearer sk_test_emulator" -H "Content-Type: application/json" \
  ${3:+-d "$3"} "$base/__clerk/v1$2"; }
user=$(bapi GET "/users?email_address=alice@acme.test" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
sess=$(bapi POST /sessions "{\"user_id\":\"$user\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
# A token that outlives the run (the default lifetime is 60 s).
jwt=$(bapi POST "/sessions/$sess/tokens" '{"expires_in_seconds":3600}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["jwt"])')
auth="Authorization: Bearer $jwt"
for _ in $(seq 150); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' -H "$auth" "$base/api/org")" = 200 ] && break; sleep 0.2
done
curl -fsS -H "$auth" "$base/dashboard" | grep -q 'data-testid="dashboard"' || { echo "dashboard not ready" >&2; exit 1; }
# Warm up the pool and caches.
wrk -t1 -c"$CONNS" -d2s -H "$auth" "$base/dashboard" >/dev/null

declare -A rps p99
for path in /healthz /dashboard /api/org; do
  out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -H "$auth" "$base$path")
  echo "== $path"; echo "$out" | grep -E 'Requests/sec|Latency|99%|Non-2xx|Socket errors' || true
  rps[$path]=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p99[$path]=$(echo "$out" | awk '$1 == "99%" {print $2}')
done
echo
printf '%-12s %12s %10s %10s\n' endpoint req/s p99 "vs healthz"
for path in /healthz /dashboard /api/org; do
  printf '%-12s %12s %10s %9.1f%%\n' "$path" "${rps[$path]}" "${p99[$path]}" \
    "$(python3 -c "print(100*${rps[$path]}/${rps[/healthz]})")"
done
