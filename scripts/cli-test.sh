#!/usr/bin/env bash
# The real pulumi CLI against a demo server. Builds policyresults and the
# pulumi CLI (the module in tools/pulumicli pins its version; the first build
# fetches it from the Go module proxy and compiles for several minutes), starts
# `policyresults serve --demo` on a free port with a fresh SQLite database,
# publishes the policy pack in tools/pulumicli/policypack with `pulumi policy
# publish` (its npm dependencies installed from its lock file), then runs the
# CLI's policy commands and `pulumi api` against it. Each command's exit code
# and output are checked; one PASS or FAIL line per check, a summary, and a
# non-zero exit when any check failed. Needs go, curl, jq, python3 and
# Node.js 20 or later with npm.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD

for tool in go curl jq python3 node npm; do
  command -v "$tool" >/dev/null || { echo "cli-test: $tool is required" >&2; exit 2; }
done

pulumi_version=$(cd tools/pulumicli && go list -m -f '{{.Version}}' github.com/pulumi/pulumi/pkg/v3) || exit 2
echo "building policyresults and pulumi $pulumi_version"
go build -o bin/policyresults ./cmd/policyresults || exit 2
# The CLI's own main package, built in the tool module, whose go.mod holds the
# replace directives that pulumi's own go.mod would have applied.
(cd tools/pulumicli && go build \
  -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$pulumi_version" \
  -o "$root/bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi) || exit 2

# The pack's program runs under Node.js with @pulumi/policy and
# @pulumi/pulumi from npm.
pack_dir=$root/tools/pulumicli/policypack
scripts/npm-ci.sh "$pack_dir" || exit 2

work=$(mktemp -d "${TMPDIR:-/tmp}/policyresults-cli.XXXXXX")
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
DATABASE_URL="sqlite:$work/policyresults.db" POLICYRESULTS_RATE_LIMIT=0 \
  bin/policyresults serve --demo --addr "127.0.0.1:$port" >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
token=""
for _ in $(seq 600); do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "cli-test: policyresults exited:" >&2
    tail -20 "$work/server.err" >&2
    exit 2
  fi
  token=$(grep -oE 'export TOKEN=pul-[0-9a-f]+' "$work/server.out" | cut -d= -f2)
  if [ -n "$token" ] && curl -sf "$base/readyz" >/dev/null; then
    break
  fi
  token=""
  sleep 0.2
done
[ -n "$token" ] || { echo "cli-test: the demo server did not get ready" >&2; tail -20 "$work/server.err" >&2; exit 2; }
echo "demo server on $base"

# The CLI logs in through these variables; PULUMI_HOME keeps its credentials,
# logs and cached spec in the temporary folder; the skipped update check would
# ask pulumi.com.
export PULUMI_HOME="$work/pulumi-home" PULUMI_BACKEND_URL="$base" PULUMI_ACCESS_TOKEN="$token"
export PULUMI_SKIP_UPDATE_CHECK=true NO_COLOR=1
mkdir -p "$work/cwd" "$PULUMI_HOME" "$work/plugins"

# The CLI runs a Node.js policy pack through the nodejs language host,
# which Pulumi ships beside the CLI and the Go module proxy does not carry;
# without it the CLI falls back to the analyzer plugin
# pulumi-analyzer-policy-nodejs on $PATH. This one is Pulumi's own
# pulumi-analyzer-policy script (sdk/nodejs/dist): it runs the pack with the
# @pulumi/pulumi of the pack's node_modules.
cat >"$work/plugins/pulumi-analyzer-policy-nodejs" <<'SH'
#!/bin/sh
PULUMI_RUN_SCRIPT_PATH=$(node -e "try { console.log(require.resolve('@pulumi/pulumi/cmd/run-policy-pack')) } catch (e) { console.error(e.message) }")
if [ ! -z "$PULUMI_RUN_SCRIPT_PATH" ]; then
    node "$PULUMI_RUN_SCRIPT_PATH" $@
fi
SH
chmod +x "$work/plugins/pulumi-analyzer-policy-nodejs"
export PATH="$work/plugins:$PATH"

passed=0
failed=0
failures=()
out=""
err=""
rc=0

# cli runs the CLI (outside any Pulumi project), keeping its standard output
# in $out, its standard error in $err and its exit code in $rc; cli_in DIR
# runs it in DIR.
cli() {
  cli_in "$work/cwd" "$@"
}
cli_in() {
  local dir=$1
  shift
  out=$(cd "$dir" && "$root/bin/pulumi" --non-interactive "$@" 2>"$work/stderr")
  rc=$?
  err=$(cat "$work/stderr")
}

# check NAME EXIT JQ: pass when the last command exited EXIT and, for a
# non-empty JQ filter, its output is JSON for which the filter is true.
check() {
  local name=$1 want=$2 filter=$3 ok=1
  [ "$rc" -eq "$want" ] || ok=0
  if [ "$ok" -eq 1 ] && [ -n "$filter" ]; then
    jq -e "$filter" >/dev/null 2>&1 <<<"$out" || ok=0
  fi
  verdict "$name" "$ok" "exit $rc, want $want${filter:+; want JSON where $filter}"
}

# check_text NAME EXIT REGEX: pass when the last command exited EXIT and its
# output or error output matches the extended REGEX.
check_text() {
  local name=$1 want=$2 regex=$3 ok=1
  [ "$rc" -eq "$want" ] || ok=0
  grep -qE "$regex" <<<"$out$err" || ok=0
  verdict "$name" "$ok" "exit $rc, want $want; want output matching /$regex/"
}

verdict() {
  if [ "$2" -eq 1 ]; then
    passed=$((passed + 1))
    echo "PASS  $1"
  else
    failed=$((failed + 1))
    failures+=("$1")
    echo "FAIL  $1 ($3)"
    sed 's/^/      | /' <<<"$(head -c 1500 <<<"$out$err")"
  fi
}

# api sends one request with curl as the demo token (for set-up and checks the
# CLI has no command for) to a path on the server or a full URL, keeping the
# body in $out and the status in $rc.
api() {
  local method=$1 url=$2
  shift 2
  case $url in http*) ;; *) url=$base$url ;; esac
  out=$(curl -s -w '\n%{http_code}' -X "$method" -H "Authorization: token $token" "$@" "$url")
  rc=$(tail -n1 <<<"$out")
  out=$(sed '$d' <<<"$out")
  err=""
}

# --- pulumi policy publish -------------------------------------------------
# The CLI runs the pack to read its policies, packs it with `npm pack`,
# creates the version, PUTs the archive to the presigned upload URL without
# a token and completes the version by its tag.
pack=cli-test-pack
cli_in "$pack_dir" policy publish acme
check_text "pulumi policy publish acme ($pack 1.0.0: create, presigned upload, complete)" 0 \
  "Publishing \"$pack\" - version 1.0.0 to \"acme\""
api GET "/api/orgs/acme/policypacks/$pack/versions/1.0.0" -H 'Accept: application/json'
[ "$rc" = 200 ] && rc=0
check "GET $pack 1.0.0 after the publish: its policy with its config schema (curl)" 0 \
  '.versionTag == "1.0.0" and ([.policies[].name] == ["max-buckets"]) and .policies[0].configSchema.required == ["maxBuckets"]'

# --- pulumi policy issue ---------------------------------------------------
cli policy issue list --output json
check "pulumi policy issue list" 0 '.total > 0 and (.issues | length) == ([.total, 100] | min) and all(.issues[]; .id != "" and .policyName != "")'
total=$(jq -r '.total' <<<"$out" 2>/dev/null)
# An issue whose priority is not p2, so that setting p2 below is a change.
issue=$(jq -r 'first(.issues[] | select(.priority != "p2")) | .id' <<<"$out" 2>/dev/null)
issue_policy=$(jq -r --arg id "$issue" '.issues[] | select(.id == $id) | .policyName' <<<"$out" 2>/dev/null)

cli policy issue list --all --output json
check "pulumi policy issue list --all ($total issues, 100 a page)" 0 \
  ".total == ${total:-0} and .total > 100 and (.issues | length) == .total and ([.issues[].id] | unique | length) == .total"

cli policy issue list --count 5
check_text "pulumi policy issue list --count 5 (table)" 0 "Showing 5 of ${total:-?} policy issue\(s\)"

cli policy issue get "$issue" --output json
check "pulumi policy issue get $issue" 0 ".id == \"$issue\" and .policyName == \"$issue_policy\""

cli policy issue get "$issue"
check_text "pulumi policy issue get $issue (text)" 0 "$issue_policy"

# --- pulumi policy compliance list -----------------------------------------
cli policy compliance list --group-by stack --output json
check "pulumi policy compliance list --group-by stack" 0 \
  '.count > 0 and (.results | length) == .count and all(.results[]; (.entity | test("/")) and (.scores | length) > 0)'
cli policy compliance list --group-by account --output json
check "pulumi policy compliance list --group-by account" 0 \
  '.count > 0 and all(.results[]; .entity != "" and (.scores | length) > 0)'
cli policy compliance list --group-by severity --output json
check "pulumi policy compliance list --group-by severity" 0 \
  '.count > 0 and all(.results[]; .entity | IN("critical", "high", "medium", "low"))'
cli policy compliance list --group-by severity
check_text "pulumi policy compliance list --group-by severity (table)" 0 '[0-9]+%'

# --- pulumi policy ls, pulumi policy group ls ------------------------------
cli policy ls --output json
check "pulumi policy ls (the published pack with its version)" 0 \
  "[.[].name] as \$n | (\$n | index(\"aws-cis-benchmark\")) != null and any(.[]; .name == \"$pack\" and .versions == [\"1.0.0\"])"
# Pulumi's operation id for it (openapi.yaml as the server serves it).
cli api ListPolicyPacks_orgs -F orgName=acme -F "policypack=$pack"
check "pulumi api ListPolicyPacks_orgs policypack=$pack" 0 \
  ".policyPacks | length == 1 and .[0].name == \"$pack\" and .[0].versionTags == [\"1.0.0\"]"
cli policy group ls --output json
check "pulumi policy group ls" 0 \
  '[.[].name] as $n | ($n | index("default-policy-group")) != null and ($n | index("production-stacks")) != null'

# --- pulumi policy validate-config -----------------------------------------
echo '{"max-buckets": {"maxBuckets": 3}}' >"$work/valid.json"
echo '{"max-buckets": {"maxBuckets": 0}}' >"$work/invalid.json"
cli policy validate-config "acme/$pack" 1.0.0 --config "$work/valid.json"
check_text "pulumi policy validate-config acme/$pack 1.0.0 (valid config)" 0 'Policy Pack configuration is valid'
cli policy validate-config "acme/$pack" 1.0.0 --config "$work/invalid.json"
check_text "pulumi policy validate-config acme/$pack 1.0.0 (maxBuckets 0 refused)" 1 'configuration is invalid.*(maxBuckets|greater)'

# --- pulumi policy enable, disable, rm --------------------------------------
group=production-stacks
cli policy enable "acme/$pack" 1.0.0 --policy-group "$group" --config "$work/valid.json"
check_text "pulumi policy enable acme/$pack 1.0.0 --policy-group $group --config" 0 ''
api GET "/api/orgs/acme/policygroups/$group" -H 'Accept: application/json'
[ "$rc" = 200 ] && rc=0
check "GET group $group after the enable: $pack 1.0.0 with the configuration (curl)" 0 \
  "any(.appliedPolicyPacks[]; .name == \"$pack\" and .versionTag == \"1.0.0\" and .config[\"max-buckets\"].maxBuckets == 3)"
cli policy disable "acme/$pack" --policy-group "$group" --version 1.0.0
check_text "pulumi policy disable acme/$pack --policy-group $group --version 1.0.0" 0 ''
api GET "/api/orgs/acme/policygroups/$group" -H 'Accept: application/json'
[ "$rc" = 200 ] && rc=0
check "GET group $group after the disable: no $pack (curl)" 0 "all(.appliedPolicyPacks[]; .name != \"$pack\")"
cli policy rm "acme/$pack" 1.0.0 --yes
check_text "pulumi policy rm acme/$pack 1.0.0" 0 ''
cli policy ls --output json
check "pulumi policy ls after the rm: no $pack" 0 "all(.[]; .name != \"$pack\")"

# --- pulumi api --------------------------------------------------------------
api GET /api/orgs/acme/policyresults/metadata -H 'Accept: application/json'
metadata=$out
cli api GetPolicyResultsMetadata -F orgName=acme
check "pulumi api GetPolicyResultsMetadata (the server's answer)" 0 \
  ". == $metadata and .policyTotalCount > 0 and .resourcesWithIssuesCount > 0"

# The CLI sends this PATCH body gzip-compressed.
cli api UpdatePolicyIssue -X PATCH -F orgName=acme -F "issueId=$issue" -F priority=p2
check "pulumi api UpdatePolicyIssue -X PATCH priority=p2 (gzip body)" 0 \
  ".policyIssue.id == \"$issue\" and .policyIssue.priority == \"p2\""
api GET "/api/orgs/acme/policyresults/issues/$issue" -H 'Accept: application/json'
[ "$rc" = 200 ] && rc=0
check "GET issue $issue after the PATCH: priority p2 (curl)" 0 '.policyIssue.priority == "p2"'
# `pulumi policy issue get` shows no priority: read it back through `pulumi api`.
cli api GetPolicyIssue -F orgName=acme -F "issueId=$issue"
check "pulumi api GetPolicyIssue after the PATCH: priority p2" 0 ".policyIssue.id == \"$issue\" and .policyIssue.priority == \"p2\""

echo
echo "pulumi $pulumi_version against policyresults: $passed passed, $failed failed"
if [ "$failed" -gt 0 ]; then
  printf '  failed: %s\n' "${failures[@]}"
  echo "server log: last lines"
  tail -n 15 "$work/server.err" | sed 's/^/  | /'
  exit 1
fi
