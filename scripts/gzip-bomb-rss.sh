#!/usr/bin/env bash
# Peak resident memory of a real server process sent gzip bombs
# (RELIABILITY.md, "Hostile and broken input"): starts `policyresults serve`
# on an empty SQLite database with --body-limit LIMIT, sends a few grid
# requests, then COUNT times 200 MB of zeros as ~200 KB of gzip
# (Content-Encoding: gzip) to POST /issues, and prints the process's VmHWM
# (peak RSS, /proc/PID/status) before, after the first bomb and after all.
#
#   scripts/gzip-bomb-rss.sh [LIMIT [COUNT]]    defaults: 8M 21
set -euo pipefail
cd "$(dirname "$0")/.."
limit=${1:-8M}
count=${2:-21}
go build -o bin/policyresults ./cmd/policyresults
dir=$(mktemp -d)
pid=
cleanup() {
  if [[ -n $pid ]]; then kill "$pid" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT
export DATABASE_URL="sqlite:$dir/db"
bin/policyresults migrate >/dev/null
bin/policyresults org create acme >/dev/null
bin/policyresults user create alice --email alice@acme.example --org acme --role admin >/dev/null
token=$(bin/policyresults token create --org acme --user alice)
head -c 200M /dev/zero | gzip -9 >"$dir/bomb.gz"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
bin/policyresults serve --addr "127.0.0.1:$port" --body-limit "$limit" --log-level warn >"$dir/log" 2>&1 &
pid=$!
url="http://127.0.0.1:$port/api/orgs/acme/policyresults/issues"
for _ in $(seq 50); do
  curl -fs -o /dev/null "http://127.0.0.1:$port/healthz" && break
  sleep 0.2
done
peak() { awk '/VmHWM/ {printf "%.1f MB", $2 / 1024}' "/proc/$pid/status"; }
for _ in 1 2 3; do
  curl -fs -o /dev/null -H "Authorization: token $token" -X POST "$url" -d '{"startRow":0,"endRow":10}'
done
echo "body limit $limit, bomb $(stat -c %s "$dir/bomb.gz") bytes of gzip inflating to 209715200"
echo "peak RSS before:           $(peak)"
bomb() {
  curl -s -o /dev/null -w '%{http_code}' -H "Authorization: token $token" -H 'Content-Type: application/json' \
    -H 'Content-Encoding: gzip' --data-binary "@$dir/bomb.gz" -X POST "$url"
}
status=$(bomb)
echo "peak RSS after one bomb:   $(peak) (answered $status)"
for _ in $(seq 2 "$count"); do bomb >/dev/null; done
echo "peak RSS after $count bombs:   $(peak)"
