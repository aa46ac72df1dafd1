#!/usr/bin/env bash
# The webhook delivery drill (RELIABILITY.md, "Webhook delivery"): the real
# binary on SQLite and PostgreSQL, three webhooks, the receiver down while
# half the evaluations are sent and attempted, a SIGKILL and restart of the
# server, the other half sent, then the receiver up; prints how long every
# delivery took to arrive after that, the duplicates and the lost (none).
# EVALUATIONS (default 40) sets how many evaluations are sent.
set -euo pipefail
cd "$(dirname "$0")/.."
POLICYRESULTS_WEBHOOK_DRILL="${EVALUATIONS:-40}" go test -count=1 -v -timeout 20m -run '^TestWebhookDrill$' ./cmd/policyresults/ |
	grep -E 'webhook drill on|^(--- |ok|FAIL)'
