#!/usr/bin/env bash
# Manual fault drill, not part of `make test`: serves policyresults on a
# database of its own, loads it with reads, triage and ingest, then restarts
# the local PostgreSQL (MODE=restart, the default; it affects every other
# user of the server) or only kills this database's connections
# (MODE=terminate, harmless to others). It checks that requests during the
# outage answer 503 in Pulumi's error body (never another 5xx nor a dropped
# connection), that /readyz reports not ready, and that the service
# recovers by itself.
#
#   scripts/fault-pg-restart.sh                 # restart PostgreSQL 15
#   MODE=terminate scripts/fault-pg-restart.sh  # kill connections only
#   PG_CLUSTER="15 main" DURATION=20 PORT=18089 scripts/fault-pg-restart.sh
set -euo pipefail
cd "$(dirname "$0")/.."

MODE="${MODE:-restart}"
PG_CLUSTER="${PG_CLUSTER:-15 main}"
PG_HOST="${PG_HOST:-127.0.0.1}"
PG_PORT="${PG_PORT:-5432}"
PG_USER="${PG_USER:-postgres}"
DURATION="${DURATION:-12}" # seconds of load after the fault
PORT="${PORT:-18089}"
ADDR="127.0.0.1:$PORT"
BASE="http://$ADDR"
DB="policyresults_drill_$$"
URL="postgres://$PG_USER@$PG_HOST:$PG_PORT/$DB?sslmode=disable"
WORK="$(mktemp -d)"
BIN="$WORK/policyresults"
PSQL=(psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -qtAX)

cleanup() {
  [ -n "${LOAD_PIDS:-}" ] && kill $LOAD_PIDS 2>/dev/null || true
  [ -n "${SERVE_PID:-}" ] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null || true
  "${PSQL[@]}" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "building"
go build -o "$BIN" ./cmd/policyresults
"${PSQL[@]}" -c "CREATE DATABASE $DB"
"$BIN" --database-url "$URL" --log-level error migrate >/dev/null
"$BIN" --database-url "$URL" --log-level error org create drill >/dev/null
TOKEN="$("$BIN" --database-url "$URL" --log-level error token create --org drill --name drill --role member)"
"$BIN" --database-url "$URL" serve --addr "$ADDR" --rate-limit 0 --request-timeout 5s 2>"$WORK/serve.log" &
SERVE_PID=$!
for _ in $(seq 1 50); do curl -fs "$BASE/readyz" >/dev/null && break; sleep 0.2; done

api() { # method path [body] -> prints the status code, appends the body on 5xx
  local code body="$WORK/body.$BASHPID"
  code=$(curl -s -o "$body" -w '%{http_code}' -m 30 -X "$1" "$BASE$2" \
    -H "Authorization: token $TOKEN" -H 'Content-Type: application/json' ${3:+-d "$3"}) || true
  echo "$code"
  if [ "${code:0:1}" = 5 ] || [ "$code" = 000 ]; then
    echo "$code $1 $2 $(head -c 300 "$body" 2>/dev/null)" >>"$WORK/errors"
  fi
}
evaluation() { # version
  printf '{"stack":{"project":"drill","name":"s%s","version":%s},"policyPacks":[{"name":"baseline","versionTag":"1.0.0"}],"violations":[{"policyPack":"baseline","policyName":"p%s","resourceURN":"urn:pulumi:s%s::drill::aws:s3/bucket:Bucket::b%s"}]}' \
    "$2" "$1" "$(( $1 % 3 ))" "$2" "$(( $1 % 5 ))"
}
api POST /api/orgs/drill/policyresults/evaluations "$(evaluation 1 0)" >/dev/null

load() { # worker
  local v=1
  while :; do
    api POST /api/orgs/drill/policyresults/issues '{"startRow":0,"endRow":20}' >>"$WORK/codes"
    api GET /api/orgs/drill/policyresults/metadata >>"$WORK/codes"
    if [ "$(api POST /api/orgs/drill/policyresults/evaluations "$(evaluation $v "$1")" | tee -a "$WORK/codes")" = 200 ]; then
      v=$((v + 1))
    fi
  done
}
LOAD_PIDS=""
for w in 1 2 3 4; do
  load "$w" &
  LOAD_PIDS="$LOAD_PIDS $!"
done
sleep 2

# Watch /readyz from before the fault to the end of the run.
watch_readyz() {
  while :; do
    echo "$(date +%s.%N) $(curl -s -o /dev/null -w '%{http_code}' -m 5 "$BASE/readyz" || true)" >>"$WORK/readyz"
    sleep 0.1
  done
}
watch_readyz &
LOAD_PIDS="$LOAD_PIDS $!"

echo "fault: $MODE"
FAULT_AT=$(date +%s.%N)
case "$MODE" in
  restart) sudo -n pg_ctlcluster $PG_CLUSTER restart 2>/dev/null || pg_ctlcluster $PG_CLUSTER restart ;;
  terminate)
    "${PSQL[@]}" -c "ALTER DATABASE $DB ALLOW_CONNECTIONS false"
    "${PSQL[@]}" -c "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '$DB'" >/dev/null
    sleep 2
    "${PSQL[@]}" -c "ALTER DATABASE $DB ALLOW_CONNECTIONS true"
    ;;
  *) echo "MODE is restart or terminate" >&2; exit 2 ;;
esac

sleep "$DURATION"
kill $LOAD_PIDS 2>/dev/null || true
wait $LOAD_PIDS 2>/dev/null || true
LOAD_PIDS=""

echo "responses by status:"
sort "$WORK/codes" | uniq -c | sort -rn
fail=0
bad=$(grep -v '^503 ' "$WORK/errors" 2>/dev/null || true)
if [ -n "$bad" ]; then
  echo "FAIL: failures other than 503:"; echo "$bad" | head -20; fail=1
fi
if grep '^503 ' "$WORK/errors" 2>/dev/null | grep -qv '"code":503,"message":"Service unavailable'; then
  echo "FAIL: a 503 without Pulumi's error body:"; grep '^503 ' "$WORK/errors" | grep -v '"code":503' | head -5; fail=1
fi
# /readyz: not ready after the fault, then ready again.
read -r not_ready_from not_ready_to < <(awk -v f="$FAULT_AT" '$1 >= f && $2 == 503 { if (!a) a = $1; b = $1 } END { print (a ? a - f : -1), (b ? b - f : -1) }' "$WORK/readyz")
ready_again=$(awk -v f="$FAULT_AT" '$1 >= f && $2 == 503 { seen = 1 } seen && $2 == 200 { print $1 - f; exit }' "$WORK/readyz")
echo "/readyz: not ready from ${not_ready_from}s to ${not_ready_to}s after the fault; ready again at ${ready_again:-never}s"
if [ "$not_ready_from" = -1 ]; then
  echo "FAIL: /readyz never reported not ready"; fail=1
elif [ -z "$ready_again" ]; then
  echo "FAIL: /readyz never ready again"; fail=1
fi
final=$(api GET /api/orgs/drill/policyresults/metadata)
if [ "$final" != 200 ]; then
  echo "FAIL: not recovered: $final"; fail=1
fi
echo "server log (warnings and errors):"
grep -c '"level":"WARN"\|"level":"ERROR"' "$WORK/serve.log" || true
grep '"level":"ERROR"' "$WORK/serve.log" | head -5 || true
[ "$fail" = 0 ] && echo "fault drill ($MODE): ok" || echo "fault drill ($MODE): FAILED"
exit "$fail"
