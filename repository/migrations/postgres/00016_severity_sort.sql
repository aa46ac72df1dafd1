-- +goose Up
-- An order that ends with severity breaks its ties by observedAt in the
-- same direction (issueTies in repository/issues_query.go), which the
-- default order's indexes serve in both directions. The severity index
-- was one more covering entry for every issue written.
DROP INDEX policy_issues_severity_order;

-- +goose Down
CREATE INDEX policy_issues_severity_order ON policy_issues (org_id, severity_rank, id)
    INCLUDE (status, kind, level, entity_type, priority, policy_pack, policy_name, policy_group_name,
             assignee_login, assignee_email, name_ref, message_ref, urn_prefix_ref, urn_suffix_ref);
