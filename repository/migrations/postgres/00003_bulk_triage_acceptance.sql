-- +goose Up
-- Risk acceptance: an issue set to ignored or by_design may carry the end of
-- its acceptance and why it was accepted; when accepted_until passes, the
-- expiry job (repository/acceptance.go) opens the issue again. Setting any
-- other status, or an evaluation fixing the issue, clears both.
ALTER TABLE policy_issues ADD COLUMN accepted_until timestamptz;
ALTER TABLE policy_issues ADD COLUMN acceptance_reason text NOT NULL DEFAULT '';
-- The grid's filter and sort on acceptedUntil, and the expiry job's due
-- acceptances: only accepted issues are in them.
CREATE INDEX policy_issues_accepted_until ON policy_issues (org_id, accepted_until, id)
    WHERE accepted_until IS NOT NULL;
CREATE INDEX policy_issues_acceptance_due ON policy_issues (accepted_until)
    WHERE accepted_until IS NOT NULL;

-- A batch update (BatchUpdatePolicyIssues) writes its history entries with
-- the batch's id; expiry writes entries with the actor type 'system' and
-- their reason.
ALTER TABLE issue_history ADD COLUMN batch_id text;
ALTER TABLE issue_history ADD COLUMN reason text;
ALTER TABLE issue_history DROP CONSTRAINT issue_history_actor_type_check;
ALTER TABLE issue_history ADD CONSTRAINT issue_history_actor_type_check
    CHECK (actor_type IN ('user', 'token', 'evaluation', 'system'));

-- +goose Down
DELETE FROM issue_history WHERE actor_type = 'system';
ALTER TABLE issue_history DROP CONSTRAINT issue_history_actor_type_check;
ALTER TABLE issue_history ADD CONSTRAINT issue_history_actor_type_check
    CHECK (actor_type IN ('user', 'token', 'evaluation'));
ALTER TABLE issue_history DROP COLUMN reason;
ALTER TABLE issue_history DROP COLUMN batch_id;
DROP INDEX policy_issues_acceptance_due;
DROP INDEX policy_issues_accepted_until;
ALTER TABLE policy_issues DROP COLUMN acceptance_reason;
ALTER TABLE policy_issues DROP COLUMN accepted_until;
