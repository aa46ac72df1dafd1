-- +goose Up
-- Indexes for the grid at a million issues (repository/issues_plan.go,
-- BENCHMARKS.md). Every index costs each ingested issue an insertion, so
-- the ones no query needs go, and the sort indexes do more.

-- Not needed: rare statuses are found by (org_id, status) (00001) and the
-- default order's index filters on status; (org_id, entity_ref, ...) is a
-- prefix of the unique key; pack and policy lookups use the
-- case-insensitive index or the rollups.
DROP INDEX policy_issues_status_order;
DROP INDEX policy_issues_pack_policy;
DROP INDEX policy_issues_entity_scope;

-- One index per sort (default: severity then observedAt; observedAt;
-- severity alone; priority alone), each ending with id as the tie-breaker
-- and holding the columns of the filters that have no index of their own
-- (INCLUDE). A page first finds its ids by an index-only scan, so rows
-- skipped by an offset or left out by such a filter cost no table access;
-- pages sorted by severity or priority read one value at a time.
DROP INDEX policy_issues_default_order;
CREATE INDEX policy_issues_default_order ON policy_issues (org_id, severity_rank DESC, observed_at DESC, id DESC)
    INCLUDE (status, kind, level, entity_type, priority, policy_pack, policy_name, policy_group_name, assignee_login, assignee_email);
DROP INDEX policy_issues_observed_order;
CREATE INDEX policy_issues_observed_order ON policy_issues (org_id, observed_at DESC, id DESC)
    INCLUDE (status, kind, level, entity_type, policy_pack, policy_name, policy_group_name);
CREATE INDEX policy_issues_severity_order ON policy_issues (org_id, severity_rank, id)
    INCLUDE (status, kind, level, entity_type, policy_pack, policy_name, policy_group_name);
CREATE INDEX policy_issues_priority_order ON policy_issues (org_id, priority, id)
    INCLUDE (status, kind, level, entity_type, policy_pack, policy_name, policy_group_name);

-- Kind and entity type follow the entity (accounts are audited, stacks
-- mostly previewed): a filter on the rarer kind is found here rather than
-- by reading the default order until a page is full. Few distinct values:
-- the index stays small.
CREATE INDEX policy_issues_kind ON policy_issues (org_id, kind, entity_type);
-- Policy groups too (equals is case-insensitive): a small group's issues
-- are found here.
CREATE INDEX policy_issues_group_ci ON policy_issues (org_id, lower(policy_group_name));
-- Stack and account filters (entityId equals is case-insensitive).
CREATE INDEX policy_issues_entity_id_ci ON policy_issues (org_id, lower(entity_id));

-- contains, startsWith and endsWith (lower(col) LIKE '%...%') on the
-- resource name, URN and message use trigram indexes. pg_trgm ships with
-- PostgreSQL (contrib) and is a trusted extension, so the database owner
-- can create it; where it can't be created, the queries scan instead.
-- +goose StatementBegin
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_trgm is not available (%): contains filters will scan the issues', SQLERRM;
END
$$;
-- +goose StatementEnd
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX policy_issues_resource_name_trgm ON policy_issues USING gin (lower(resource_name) gin_trgm_ops);
        CREATE INDEX policy_issues_resource_urn_trgm ON policy_issues USING gin (lower(resource_urn) gin_trgm_ops);
        CREATE INDEX policy_issues_message_trgm ON policy_issues USING gin (lower(message) gin_trgm_ops);
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP INDEX IF EXISTS policy_issues_message_trgm;
DROP INDEX IF EXISTS policy_issues_resource_urn_trgm;
DROP INDEX IF EXISTS policy_issues_resource_name_trgm;
DROP INDEX policy_issues_entity_id_ci;
DROP INDEX policy_issues_group_ci;
DROP INDEX policy_issues_kind;
DROP INDEX policy_issues_priority_order;
DROP INDEX policy_issues_severity_order;
DROP INDEX policy_issues_observed_order;
CREATE INDEX policy_issues_observed_order ON policy_issues (org_id, observed_at DESC, id DESC);
DROP INDEX policy_issues_default_order;
CREATE INDEX policy_issues_default_order ON policy_issues (org_id, severity_rank DESC, observed_at DESC, id DESC);
CREATE INDEX policy_issues_entity_scope ON policy_issues (org_id, entity_ref, scope, policy_pack);
CREATE INDEX policy_issues_pack_policy ON policy_issues (org_id, policy_pack, policy_name);
CREATE INDEX policy_issues_status_order ON policy_issues (org_id, status, severity_rank DESC, observed_at DESC, id DESC);
