-- +goose Up
-- Risk acceptance: an issue set to ignored or by_design may carry the end of
-- its acceptance and why it was accepted; when accepted_until passes, the
-- expiry job (repository/acceptance.go) opens the issue again. Setting any
-- other status, or an evaluation fixing the issue, clears both.
ALTER TABLE policy_issues ADD COLUMN accepted_until datetime;
ALTER TABLE policy_issues ADD COLUMN acceptance_reason text NOT NULL DEFAULT '';
-- The grid's filter and sort on acceptedUntil, and the expiry job's due
-- acceptances: only accepted issues are in them.
CREATE INDEX policy_issues_accepted_until ON policy_issues (org_id, accepted_until, id)
    WHERE accepted_until IS NOT NULL;
CREATE INDEX policy_issues_acceptance_due ON policy_issues (accepted_until)
    WHERE accepted_until IS NOT NULL;

-- A batch update writes its history entries with the batch's id; expiry
-- writes entries with the actor type 'system' and their reason. SQLite
-- cannot alter a CHECK constraint, so the history table is rebuilt.
CREATE TABLE issue_history_new (
    org_id      bigint      NOT NULL,
    id          INTEGER PRIMARY KEY,
    issue_id    text        NOT NULL,
    at          datetime NOT NULL,
    actor       text        NOT NULL,
    actor_type  text        NOT NULL CHECK (actor_type IN ('user', 'token', 'evaluation', 'system')),
    field       text        NOT NULL,
    old_value   text,
    new_value   text,
    batch_id    text,
    reason      text,
    FOREIGN KEY (issue_id) REFERENCES policy_issues (id) ON DELETE CASCADE
);
INSERT INTO issue_history_new (org_id, id, issue_id, at, actor, actor_type, field, old_value, new_value)
    SELECT org_id, id, issue_id, at, actor, actor_type, field, old_value, new_value FROM issue_history;
DROP TABLE issue_history;
ALTER TABLE issue_history_new RENAME TO issue_history;
CREATE INDEX issue_history_issue ON issue_history (org_id, issue_id, id);

-- +goose Down
CREATE TABLE issue_history_old (
    org_id      bigint      NOT NULL,
    id          INTEGER PRIMARY KEY,
    issue_id    text        NOT NULL,
    at          datetime NOT NULL,
    actor       text        NOT NULL,
    actor_type  text        NOT NULL CHECK (actor_type IN ('user', 'token', 'evaluation')),
    field       text        NOT NULL,
    old_value   text,
    new_value   text,
    FOREIGN KEY (issue_id) REFERENCES policy_issues (id) ON DELETE CASCADE
);
INSERT INTO issue_history_old (org_id, id, issue_id, at, actor, actor_type, field, old_value, new_value)
    SELECT org_id, id, issue_id, at, actor, actor_type, field, old_value, new_value FROM issue_history
    WHERE actor_type <> 'system';
DROP TABLE issue_history;
ALTER TABLE issue_history_old RENAME TO issue_history;
CREATE INDEX issue_history_issue ON issue_history (org_id, issue_id, id);
DROP INDEX policy_issues_acceptance_due;
DROP INDEX policy_issues_accepted_until;
ALTER TABLE policy_issues DROP COLUMN acceptance_reason;
ALTER TABLE policy_issues DROP COLUMN accepted_until;
