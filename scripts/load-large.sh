#!/usr/bin/env bash
# Large-data measurement (issue 16, docs/PERFORMANCE.md "Scale"): does the
# cost of a request stay flat as an organisation grows? Builds the app and
# runs three instances side by side on loopback, each over a database of its
# own (created, then dropped):
#   demo   the development seed as it is (Acme has 3 members, no projects)
#   small  the same seed plus `web seed-large` at a small size (20 members,
#          30 projects, 30 audit entries): the dashboard's previews are as
#          full as on large, the tables tiny
#   large  the same seed plus `web seed-large`: Acme with 10,000 members,
#          100,000 projects, 1,000,000 audit entries and 200,000 webhook
#          deliveries, and 5,000 other organisations
# then measures with wrk (CONNECTIONS connections):
#   /dashboard on demo, small and large, in turn, ROUNDS times: large ÷ demo
#     is the issue's figure (target ≥ 0.8), which also counts the larger
#     page (8 members, 10 entries and 5 projects shown instead of 3, 4
#     and 0); large ÷ small is the cost of the tables' size alone;
#   on large: /admin/members (first page and a search), /admin/webhooks,
#     /admin/audit, the /ops directory and /ops/webhooks (target p99 < 50 ms).
# Everything stays on loopback and stops by itself.
#
# Environment: DURATION (per run, default 10s), CONNECTIONS (default 16),
# THREADS (wrk threads, default 2), ROUNDS (dashboard rounds, default 3),
# PGURL (server, default postgres://postgres@127.0.0.1:5432), SEED_FLAGS
# (flags for `web seed-large`, default: the full size), KEEP_DB=1 keeps the
# databases (their names are printed).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-16}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-3}
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
SEED_FLAGS=${SEED_FLAGS:-}

command -v wrk >/dev/null 2>&1 || { echo "wrk not found (apt-get install wrk)" >&2; exit 1; }

work=$(mktemp -d)
suffix=$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
pids=()
dbs=()
cleanup() {
  for p in "${pids[@]}"; do
    if kill -0 "$p" 2>/dev/null; then kill -TERM "$p"; wait "$p" 2>/dev/null || true; fi
  done
  if [ "${KEEP_DB:-}" = 1 ]; then
    echo "databases kept: ${dbs[*]}"
  else
    for d in "${dbs[@]}"; do
      psql "$PGURL/postgres?sslmode=disable" -qc "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null 2>&1 || true
    done
  fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "== building"
CGO_ENABLED=0 go build -trimpath -o "$work/web" ./cmd/web

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

declare -A base dburl
start_app() { # start_app <name>
  local name=$1 port db
  port=$(free_port)
  db="saas_${name}_$suffix"
  dbs+=("$db")
  base[$name]="http://127.0.0.1:$port"
  dburl[$name]="$PGURL/$db?sslmode=disable"
  APP_ENV=development ADDR="127.0.0.1:$port" BASE_URL="${base[$name]}" DATABASE_URL="${dburl[$name]}" METRICS_ADDR=off \
    API_RATE_LIMIT=100000000 SESSION_SECRET="load-test-session-secret-0123456789abcdef" \
    "$work/web" >"$work/$name.log" 2>&1 &
  pids+=($!)
}
wait_for() { # wait_for <what> <seconds> <command…>: poll every 0.2 s
  local what=$1 limit=$2; shift 2
  local deadline=$(( $(date +%s) + limit ))
  until "$@" >/dev/null 2>&1; do
    if [ "$(date +%s)" -ge "$deadline" ]; then echo "timed out waiting for $what" >&2; tail -n 20 "$work"/*.log >&2; exit 1; fi
    sleep 0.2
  done
}
seed_synced() { psql "${dburl[$1]}" -tAc "SELECT count(*) > 0 AND bool_and(delivered_at IS NOT NULL) FROM clerkemu.outbox" | grep -qx t; }

echo "== starting demo and large instances"
start_app demo
start_app small
start_app large
for n in demo small large; do
  wait_for "$n /readyz" 90 curl -fsS "${base[$n]}/readyz"
  wait_for "$n seed" 90 seed_synced "$n"
done

echo "== seeding small and large"
APP_ENV=development DATABASE_URL="${dburl[small]}" SESSION_SECRET="load-test-session-secret-0123456789abcdef" \
  "$work/web" seed-large -members 20 -projects 30 -audit 30 -deliveries 30 -orgs 0 2>&1 | tail -n 1
# shellcheck disable=SC2086 # SEED_FLAGS is a list of flags
APP_ENV=development DATABASE_URL="${dburl[large]}" SESSION_SECRET="load-test-session-secret-0123456789abcdef" \
  "$work/web" seed-large $SEED_FLAGS 2>&1 | tail -n 1

bapi() { # bapi <instance> <path> [json body]: that instance's emulator Backend API
  curl -fsS -H "Authorization: Bearer sk_test_emulator" -H 'Content-Type: application/json' \
    ${3:+-d "$3"} "${base[$1]}/__clerk/v1$2"
}
field() { python3 -c "import json,sys; d=json.load(sys.stdin); d=d[0] if isinstance(d, list) else d; print(d['$1'])"; }
token() { # token <instance> <email> [org slug]
  local user sess org="" body='{"expires_in_seconds":3600}'
  user=$(bapi "$1" "/users?email_address=$2" | field id)
  sess=$(bapi "$1" /sessions "{\"user_id\":\"$user\"}" | field id)
  if [ -n "${3:-}" ]; then
    org=$(bapi "$1" "/organizations/$3" | field id)
    body="{\"expires_in_seconds\":3600,\"organization_id\":\"$org\"}"
  fi
  bapi "$1" "/sessions/$sess/tokens" "$body" | field jwt
}
alice_demo=$(token demo alice@acme.test acme)
alice_small=$(token small alice@acme.test acme)
alice_large=$(token large alice@acme.test acme)
dave_large=$(token large dave@example.test)

to_ms() { awk -v v="$1" 'BEGIN{ n=v+0; if (v ~ /us$/) n/=1000; else if (v ~ /ms$/) n+=0; else if (v ~ /s$/) n*=1000; printf "%.2f", n }'; }
results=()
last_rps=""
measure() { # measure <label> <instance> <path> <token>
  local label=$1 url="${base[$2]}$3" hdr="Authorization: Bearer $4" code out rps p50 p99 non2xx total
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "$hdr" "$url")
  if [ "$code" != 200 ]; then echo "$label: $url answers $code" >&2; exit 1; fi
  echo "== $label ($DURATION, $CONNECTIONS connections)"
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "$hdr" "$url")
  rps=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' <<<"$out")
  p50=$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<<"$out"); non2xx=${non2xx:-0}
  total=$(awk '/requests in/ {print $1}' <<<"$out")
  results+=("$(printf '%-34s %8s %8s %8s %8s %9s' "$label" "$rps" "$p50" "$p99" "$non2xx" "$total")")
  last_rps=$rps
}

ratios=()
small_ratios=()
for r in $(seq 1 "$ROUNDS"); do
  measure "/dashboard demo (round $r)" demo /dashboard "$alice_demo"; demo_rps=$last_rps
  measure "/dashboard small (round $r)" small /dashboard "$alice_small"; small_rps=$last_rps
  measure "/dashboard large (round $r)" large /dashboard "$alice_large"; large_rps=$last_rps
  ratios+=("$(awk -v a="$large_rps" -v b="$demo_rps" 'BEGIN{printf "%.2f", a/b}')")
  small_ratios+=("$(awk -v a="$large_rps" -v b="$small_rps" 'BEGIN{printf "%.2f", a/b}')")
done
measure "/admin/members" large /admin/members "$alice_large"
measure "/admin/members?q=ada" large "/admin/members?q=ada" "$alice_large"
measure "/admin/members?q=kofi.kim.1234" large "/admin/members?q=kofi.kim.1234" "$alice_large"
measure "/admin/webhooks" large /admin/webhooks "$alice_large"
measure "/admin/audit" large /admin/audit "$alice_large"
measure "/ops (directory)" large /ops "$dave_large"
measure "/ops?q=kim" large "/ops?q=kim" "$dave_large"
measure "/ops/webhooks" large /ops/webhooks "$dave_large"

echo
echo "commit $(git rev-parse --short HEAD)$(git diff --quiet || echo ' (with uncommitted changes)'); machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
printf '%-34s %8s %8s %8s %8s %9s\n' endpoint "req/s" "p50 ms" "p99 ms" non-2xx requests
printf '%s\n' "${results[@]}"
echo "/dashboard large ÷ demo per round: ${ratios[*]}"
echo "/dashboard large ÷ small per round: ${small_ratios[*]}"
