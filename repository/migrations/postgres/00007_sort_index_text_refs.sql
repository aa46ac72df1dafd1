-- +goose Up
-- The sort indexes (00005) also hold the text dictionary references
-- (00006), so a page of a broad text match read in the sort's order
-- filters index entries instead of fetching each row: issues whose names
-- or messages match are often correlated with the order (bucket issues
-- are of low severity), and the rows read before a page is full can be a
-- fifth of the table (1.2 s at a million issues; tens of milliseconds from
-- the index).
DROP INDEX policy_issues_default_order;
CREATE INDEX policy_issues_default_order ON policy_issues (org_id, severity_rank DESC, observed_at DESC, id DESC)
    INCLUDE (status, kind, level, entity_type, priority, policy_pack, policy_name, policy_group_name, assignee_login, assignee_email,
             name_ref, message_ref, urn_prefix_ref, urn_suffix_ref);
DROP INDEX policy_issues_observed_order;
CREATE INDEX policy_issues_observed_order ON policy_issues (org_id, observed_at DESC, id DESC)
    INCLUDE (status, kind, level, entity_type, policy_pack, policy_name, policy_group_name,
             name_ref, message_ref, urn_prefix_ref, urn_suffix_ref);
DROP INDEX policy_issues_severity_order;
CREATE INDEX policy_issues_severity_order ON policy_issues (org_id, severity_rank, id)
    INCLUDE (status, kind, level, entity_type, policy_pack, policy_name, policy_group_name,
             name_ref, message_ref, urn_prefix_ref, urn_suffix_ref);
DROP INDEX policy_issues_priority_order;
CREATE INDEX policy_issues_priority_order ON policy_issues (org_id, priority, id)
    INCLUDE (status, kind, level, entity_type, policy_pack, policy_name, policy_group_name,
             name_ref, message_ref, urn_prefix_ref, urn_suffix_ref);

-- A thin copy of the default order's key: a deep page of the unfiltered
-- grid skips its offset through 90 bytes an issue instead of the covering
-- index's 780 (at a million issues: 88 MB against 782 MB; a page at
-- startRow 100,000 in 16 ms instead of 33). Filtered pages keep using the
-- covering indexes, whose entries answer the filter.
CREATE INDEX policy_issues_default_order_keys ON policy_issues (org_id, severity_rank DESC, observed_at DESC, id DESC);

-- +goose Down
DROP INDEX policy_issues_default_order_keys;
DROP INDEX policy_issues_default_order;
CREATE INDEX policy_issues_default_order ON policy_issues (org_id, severity_rank DESC, observed_at DESC, id DESC)
    INCLUDE (status, kind, level, entity_type, priority, policy_pack, policy_name, policy_group_name, assignee_login, assignee_email);
DROP INDEX policy_issues_observed_order;
CREATE INDEX policy_issues_observed_order ON policy_issues (org_id, observed_at DESC, id DESC)
    INCLUDE (status, kind, level, entity_type, policy_pack, policy_name, policy_group_name);
DROP INDEX policy_issues_severity_order;
CREATE INDEX policy_issues_severity_order ON policy_issues (org_id, severity_rank, id)
    INCLUDE (status, kind, level, entity_type, policy_pack, policy_name, policy_group_name);
DROP INDEX policy_issues_priority_order;
CREATE INDEX policy_issues_priority_order ON policy_issues (org_id, priority, id)
    INCLUDE (status, kind, level, entity_type, policy_pack, policy_name, policy_group_name);
