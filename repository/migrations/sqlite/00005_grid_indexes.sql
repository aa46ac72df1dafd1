-- +goose Up
-- Indexes for the grid (see the PostgreSQL migration). SQLite has no
-- INCLUDE: the sort indexes carry the filter columns after their key, so a
-- page finds its ids from the index alone. SQLite has no trigram index:
-- contains filters scan.
DROP INDEX policy_issues_status_order;
DROP INDEX policy_issues_pack_policy;
DROP INDEX policy_issues_entity_scope;

DROP INDEX policy_issues_default_order;
CREATE INDEX policy_issues_default_order ON policy_issues (org_id, severity_rank DESC, observed_at DESC, id DESC,
    status, kind, level, entity_type, priority, policy_pack, policy_name, policy_group_name, assignee_login, assignee_email);
DROP INDEX policy_issues_observed_order;
CREATE INDEX policy_issues_observed_order ON policy_issues (org_id, observed_at DESC, id DESC,
    status, kind, level, entity_type, priority, policy_pack, policy_name, policy_group_name, assignee_login, assignee_email);
CREATE INDEX policy_issues_severity_order ON policy_issues (org_id, severity_rank, id,
    status, kind, level, entity_type, priority, policy_pack, policy_name, policy_group_name, assignee_login, assignee_email);
CREATE INDEX policy_issues_priority_order ON policy_issues (org_id, priority, id,
    status, kind, level, entity_type, policy_pack, policy_name, policy_group_name, assignee_login, assignee_email);
CREATE INDEX policy_issues_kind ON policy_issues (org_id, kind, entity_type);
-- Policy groups too (equals is case-insensitive): a small group's issues
-- are found here.
CREATE INDEX policy_issues_group_ci ON policy_issues (org_id, lower(policy_group_name));
CREATE INDEX policy_issues_entity_id_ci ON policy_issues (org_id, lower(entity_id));

-- +goose Down
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
