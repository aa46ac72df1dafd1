-- +goose Up
-- The indexes of an equals on policyName and policyGroupName carry the
-- column itself (PostgreSQL reads an index on lower(col) alone only when it
-- also holds col), the columns of the segment orders (severity, priority
-- and the default order's observed_at), the status and the issue's key.
-- A page sorted by severity or priority, of a filter on a policy or group
-- (with a status or priority filter or not), reads the segments holding
-- few of its issues from this index alone instead of reading each such
-- segment to its end (coveredFilter in repository/issues_plan.go).
DROP INDEX policy_issues_policy_name_ci;
CREATE INDEX policy_issues_policy_name_ci ON policy_issues (org_id, lower(policy_name))
    INCLUDE (policy_name, severity_rank, priority, status, observed_at, id);
DROP INDEX policy_issues_group_ci;
CREATE INDEX policy_issues_group_ci ON policy_issues (org_id, lower(policy_group_name))
    INCLUDE (policy_group_name, severity_rank, priority, status, observed_at, id);

-- +goose Down
DROP INDEX policy_issues_group_ci;
CREATE INDEX policy_issues_group_ci ON policy_issues (org_id, lower(policy_group_name));
DROP INDEX policy_issues_policy_name_ci;
CREATE INDEX policy_issues_policy_name_ci ON policy_issues (org_id, lower(policy_name));
