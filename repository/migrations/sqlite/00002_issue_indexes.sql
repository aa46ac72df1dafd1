-- +goose Up
-- Indexes for the issue grid (repository/issues_query.go). The organisation
-- id leads each one; sorts end with id in the sort's direction, as the
-- queries' tie-breaker does.

-- Sorting by observedAt (newest or oldest first, read backwards).
CREATE INDEX policy_issues_observed_order ON policy_issues (org_id, observed_at DESC, id DESC);
-- The most common view: issues of some statuses (open, in progress) in the
-- default order.
CREATE INDEX policy_issues_status_order ON policy_issues (org_id, status, severity_rank DESC, observed_at DESC, id DESC);
-- Text equals is case-insensitive (lower(col) = lower(?)): the assignee
-- ("my issues", by login or email) and the policy.
CREATE INDEX policy_issues_assignee_login_ci ON policy_issues (org_id, lower(assignee_login));
CREATE INDEX policy_issues_assignee_email_ci ON policy_issues (org_id, lower(assignee_email));
CREATE INDEX policy_issues_policy_name_ci ON policy_issues (org_id, lower(policy_name));

-- +goose Down
DROP INDEX policy_issues_policy_name_ci;
DROP INDEX policy_issues_assignee_email_ci;
DROP INDEX policy_issues_assignee_login_ci;
DROP INDEX policy_issues_status_order;
DROP INDEX policy_issues_observed_order;
