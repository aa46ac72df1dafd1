#!/usr/bin/env bash
# Measures what the issues' indexes cost a new issue on PostgreSQL
# (docs/performance.md, "What a new issue's index entries cost"): the same sample
# of issues is inserted again, as new issues, under three sets of indexes,
# each in a transaction that is rolled back, and PostgreSQL's own counters
# (EXPLAIN ANALYZE with BUFFERS and WAL) say what each insert cost.
#
#   scripts/index-cost.sh [DATABASE] [ROWS] [ROUNDS]
#
# DATABASE is a database holding the demo organisation (default
# policyresults_bench1m, which `make bench-full` builds), ROWS the sample's
# size (default 40000), ROUNDS how many times each set is measured (default
# 3; the median is printed; each measurement starts with a VACUUM of the
# issues, about 10 minutes in all at a million issues). Environment: BENCH_PG_URL (default
# postgres://postgres@127.0.0.1:5432). The index sets:
#
#   built   the schema as migrated;
#   cells   the three covering sort indexes hold one integer in place of
#           their ten text columns (status, kind, level, entity type,
#           priority, pack, policy, group, assignee login and email: the
#           cell of a cube of those columns), and the default order's thin
#           copy is gone (the narrowed default order index is as thin);
#   none    no index but the primary and unique keys (the lower bound).
#
# With INDEX_COST_EACH=1 the sets are instead built and, for each index of
# the issues but the primary key, the schema without that one index
# ("-name"): one minus its WAL ratio is that index's share of the WAL.
#
# WAL bytes, full-page images and blocks dirtied and written are counts,
# the same from run to run on the same data; the time is the machine's and
# drifts with it. The rolled-back inserts leave dead index entries at the
# front of the newest-first indexes, so each measurement starts with a
# VACUUM and the script ends with VACUUM ANALYZE of the issues (without
# them, sorted grid pages slowed down by an order of magnitude). Vacuumed,
# the dead entries' space is reused, but the indexes keep the pages the
# sample split once (+3.5% at a million issues with the default sample);
# `BENCH_RELOAD=1 make bench-full` rebuilds a pristine database. It takes
# the database's exclusive locks while it runs: not for a database that
# serves users.
set -euo pipefail

pg="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}"
db="${1:-policyresults_bench1m}"
rows="${2:-40000}"
rounds="${3:-3}"
url="$pg/$db"

psql_q() { PGOPTIONS=--client-min-messages=warning psql "$url" -X -q -v ON_ERROR_STOP=1 "$@"; }

cleanup() {
  psql_q -c "DROP TABLE IF EXISTS index_cost_sample" || true
  echo "VACUUM ANALYZE policy_issues (the rolled-back inserts' dead entries)..." >&2
  psql_q -c "VACUUM ANALYZE policy_issues" || true
}
trap cleanup EXIT

psql_q -c "DROP TABLE IF EXISTS index_cost_sample" \
  -c "CREATE UNLOGGED TABLE index_cost_sample AS SELECT * FROM policy_issues ORDER BY random() LIMIT $rows"
sampled="$(psql_q -tAc "SELECT count(*) FROM index_cost_sample")"
if [ "$sampled" -eq 0 ]; then
  echo "no issues in $db" >&2
  exit 1
fi

# The sample again as new issues: ids after every version 7 UUID, observed
# now, each on a resource of its own.
insert="INSERT INTO policy_issues SELECT org_id, 'ffffffff-' || lpad(row_number() OVER ()::text, 12, '0'), entity_ref, scope,
  entity_type, entity_project, entity_id, stack_version, resource_version, policy_pack, policy_pack_tag, policy_name,
  resource_urn || '#index-cost', resource_provider, resource_type, resource_name, message, now(), now(), level, severity,
  severity_rank, status, status_rank, active, kind, priority, assignee_id, assignee_login, assignee_email, policy_group_name,
  policy_group_type, revision, name_ref, message_ref, urn_prefix_ref, urn_suffix_ref FROM index_cost_sample"

setup_sql() {
  case "$1" in
  built) ;;
  cells)
    cat <<'EOF'
ALTER TABLE policy_issues ADD COLUMN index_cost_cell integer;
DROP INDEX policy_issues_default_order, policy_issues_observed_order, policy_issues_priority_order,
  policy_issues_default_order_keys;
CREATE INDEX index_cost_default ON policy_issues (org_id, severity_rank DESC, observed_at DESC, id DESC)
  INCLUDE (index_cost_cell, name_ref, message_ref, urn_prefix_ref, urn_suffix_ref);
CREATE INDEX index_cost_observed ON policy_issues (org_id, observed_at DESC, id DESC)
  INCLUDE (index_cost_cell, severity_rank, name_ref, message_ref, urn_prefix_ref, urn_suffix_ref);
CREATE INDEX index_cost_priority ON policy_issues (org_id, priority, id)
  INCLUDE (index_cost_cell, severity_rank, name_ref, message_ref, urn_prefix_ref, urn_suffix_ref);
EOF
    ;;
  -*)
    cat <<EOF
DO \$\$ BEGIN
  IF EXISTS (SELECT 1 FROM pg_constraint WHERE conname = '${1#-}') THEN
    ALTER TABLE policy_issues DROP CONSTRAINT "${1#-}";
  ELSE
    DROP INDEX "${1#-}";
  END IF;
END \$\$;
EOF
    ;;
  none) cat "$(dirname "$0")/drop-issue-indexes.sql" ;;
  esac
}

# measure SET: one rolled-back insert of the sample under SET; prints
# "ms wal_bytes fpi dirtied written".
measure() {
  {
    echo "BEGIN;"
    setup_sql "$1"
    # A checkpoint first, so every set's insert starts with as many pages
    # due a full-page image.
    echo "CHECKPOINT;"
    cat <<EOF
DO \$\$ DECLARE p json; BEGIN
  EXECUTE \$q\$EXPLAIN (ANALYZE, BUFFERS, WAL, FORMAT JSON) $insert\$q\$ INTO p;
  RAISE NOTICE 'index-cost % % % % %', p->0->>'Execution Time', p->0->'Plan'->>'WAL Bytes', p->0->'Plan'->>'WAL FPI',
    p->0->'Plan'->>'Shared Dirtied Blocks', p->0->'Plan'->>'Shared Written Blocks';
END \$\$;
ROLLBACK;
EOF
  } | psql "$url" -X -q -v ON_ERROR_STOP=1 2>&1 | sed -n 's/.*index-cost //p'
}

sets="built cells none"
if [ "${INDEX_COST_EACH:-}" = 1 ]; then
  sets="built $(psql_q -tAc "SELECT string_agg('-' || indexrelid::regclass::text, ' ' ORDER BY 1) FROM pg_index
    WHERE indrelid = 'policy_issues'::regclass AND NOT indisprimary")"
fi
declare -A results
for round in $(seq 1 "$rounds"); do
  for set in $sets; do
    # Each insert starts from a vacuumed table: the last one's dead entries
    # would otherwise make the next one's index pages fuller.
    psql_q -c "VACUUM policy_issues"
    line="$(measure "$set")"
    if [ -z "$line" ]; then
      echo "the $set set measured nothing" >&2
      exit 1
    fi
    results[$set]+="$line"$'\n'
    echo "round $round, $set: $line" >&2
  done
done

echo "index cost of $sampled new issues in $db, median of $rounds rounds (per 1,000 issues; ratio to built):"
width=8
if [ "${INDEX_COST_EACH:-}" = 1 ]; then
  width=64
fi
printf "%-${width}s %12s %14s %10s %14s %14s %8s %8s\n" set "time ms" "WAL MB" "FPIs" "dirtied" "written" time WAL
base_ms="" base_wal=""
for set in $sets; do
  # Medians of each column over the rounds.
  read -r ms wal fpi dirtied written < <(printf '%s' "${results[$set]}" | awk -v n="$sampled" '
    { for (i = 1; i <= 5; i++) v[i, NR] = $i }
    END {
      for (i = 1; i <= 5; i++) {
        m = 0
        for (r = 1; r <= NR; r++) a[r] = v[i, r]
        for (x = 1; x <= NR; x++) for (y = x + 1; y <= NR; y++) if (a[y] < a[x]) { t = a[x]; a[x] = a[y]; a[y] = t }
        med[i] = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
      }
      printf "%f %f %f %f %f\n", med[1] * 1000 / n, med[2] * 1000 / n / 1048576, med[3] * 1000 / n, med[4] * 1000 / n, med[5] * 1000 / n
    }')
  if [ -z "$base_ms" ]; then
    base_ms="$ms" base_wal="$wal"
  fi
  printf "%-${width}s %12.1f %14.2f %10.0f %14.0f %14.0f %7.2fx %7.2fx\n" "$set" "$ms" "$wal" "$fpi" "$dirtied" "$written" \
    "$(awk -v a="$ms" -v b="$base_ms" 'BEGIN { print a / b }')" "$(awk -v a="$wal" -v b="$base_wal" 'BEGIN { print a / b }')"
done
