-- +goose Up
-- The text dictionary (see the PostgreSQL migration and repository/texts.go):
-- distinct resource names, messages and URN parts once per organisation,
-- referred to by the issues, so contains, startsWith and endsWith scan the
-- distinct values instead of every issue.
CREATE TABLE issue_texts (
    org_id  bigint  NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    field   text    NOT NULL CHECK (field IN ('resource_name', 'message', 'urn_prefix', 'urn_suffix')),
    value   text    NOT NULL
);
CREATE UNIQUE INDEX issue_texts_value ON issue_texts (org_id, field, value);

-- The URN's split (urnPrefixSQL in texts.go): up to the second "::" after
-- "urn:pulumi:", or nothing.
ALTER TABLE policy_issues ADD COLUMN urn_prefix text;
UPDATE policy_issues SET urn_prefix = CASE
    WHEN substr(resource_urn, 1, 11) = 'urn:pulumi:' AND instr(substr(resource_urn, 12), '::') > 0
         AND instr(substr(resource_urn, 13 + instr(substr(resource_urn, 12), '::')), '::') > 0
    THEN substr(resource_urn, 1, 13 + instr(substr(resource_urn, 12), '::')
         + instr(substr(resource_urn, 13 + instr(substr(resource_urn, 12), '::')), '::'))
    ELSE '' END;

INSERT INTO issue_texts (org_id, field, value)
SELECT DISTINCT org_id, 'resource_name', resource_name FROM policy_issues
UNION SELECT DISTINCT org_id, 'message', message FROM policy_issues
UNION SELECT DISTINCT org_id, 'urn_prefix', urn_prefix FROM policy_issues
UNION SELECT DISTINCT org_id, 'urn_suffix', substr(resource_urn, length(urn_prefix) + 1) FROM policy_issues;

ALTER TABLE policy_issues ADD COLUMN name_ref bigint NOT NULL DEFAULT 0;
ALTER TABLE policy_issues ADD COLUMN message_ref bigint NOT NULL DEFAULT 0;
ALTER TABLE policy_issues ADD COLUMN urn_prefix_ref bigint NOT NULL DEFAULT 0;
ALTER TABLE policy_issues ADD COLUMN urn_suffix_ref bigint NOT NULL DEFAULT 0;
UPDATE policy_issues SET
    name_ref = (SELECT t.id FROM issue_texts t WHERE t.org_id = policy_issues.org_id AND t.field = 'resource_name'
                AND t.value = policy_issues.resource_name),
    message_ref = (SELECT t.id FROM issue_texts t WHERE t.org_id = policy_issues.org_id AND t.field = 'message'
                   AND t.value = policy_issues.message),
    urn_prefix_ref = (SELECT t.id FROM issue_texts t WHERE t.org_id = policy_issues.org_id AND t.field = 'urn_prefix'
                      AND t.value = policy_issues.urn_prefix),
    urn_suffix_ref = (SELECT t.id FROM issue_texts t WHERE t.org_id = policy_issues.org_id AND t.field = 'urn_suffix'
                      AND t.value = substr(policy_issues.resource_urn, length(policy_issues.urn_prefix) + 1));
ALTER TABLE policy_issues DROP COLUMN urn_prefix;
-- The segment columns ride along, so a text match is counted per severity
-- or priority from these indexes alone (issueSegments).
CREATE INDEX policy_issues_name_ref ON policy_issues (org_id, name_ref, severity_rank, priority);
CREATE INDEX policy_issues_message_ref ON policy_issues (org_id, message_ref, severity_rank, priority);
CREATE INDEX policy_issues_urn_prefix_ref ON policy_issues (org_id, urn_prefix_ref, severity_rank, priority);
CREATE INDEX policy_issues_urn_suffix_ref ON policy_issues (org_id, urn_suffix_ref, severity_rank, priority);

-- +goose Down
DROP INDEX policy_issues_urn_suffix_ref;
DROP INDEX policy_issues_urn_prefix_ref;
DROP INDEX policy_issues_message_ref;
DROP INDEX policy_issues_name_ref;
ALTER TABLE policy_issues DROP COLUMN urn_suffix_ref;
ALTER TABLE policy_issues DROP COLUMN urn_prefix_ref;
ALTER TABLE policy_issues DROP COLUMN message_ref;
ALTER TABLE policy_issues DROP COLUMN name_ref;
DROP TABLE issue_texts;
