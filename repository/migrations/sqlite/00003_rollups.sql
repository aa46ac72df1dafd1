-- +goose Up
-- Interactive at a million issues (see BENCHMARKS.md): rollups maintained in
-- the ingest and triage transactions (repository/rollups.go), so row counts,
-- facets, metadata and compliance cells don't scan the issues. The same
-- schema as PostgreSQL's 00003.

-- The issue cube: the number of issues per combination of the grid's
-- low-cardinality columns (see the PostgreSQL migration).
CREATE TABLE issue_counts (
    org_id             bigint   NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    entity_type        text     NOT NULL,
    policy_pack        text     NOT NULL,
    policy_pack_tag    text     NOT NULL,
    policy_name        text     NOT NULL,
    resource_provider  text     NOT NULL,
    resource_type      text     NOT NULL,
    level              text     NOT NULL,
    severity           text     NOT NULL,
    severity_rank      integer  NOT NULL,
    status             text     NOT NULL,
    status_rank        integer  NOT NULL,
    active             boolean  NOT NULL,
    kind               text     NOT NULL,
    priority           text     NOT NULL,
    assignee_login     text     NOT NULL,
    assignee_email     text     NOT NULL,
    policy_group_name  text     NOT NULL,
    policy_group_type  text     NOT NULL,
    n                  bigint   NOT NULL,
    PRIMARY KEY (org_id, entity_type, policy_pack, policy_pack_tag, policy_name, resource_provider, resource_type,
                 level, severity, status, kind, priority, assignee_login, assignee_email, policy_group_name, policy_group_type)
);

-- Active issues per (entity, pack, policy): the failing policies of the
-- compliance matrix. The rollups reference the organisation, not the
-- entity: a foreign key check would take a share lock on the entity row,
-- which an ingest holds for update, and triage would deadlock with it.
CREATE TABLE issue_policy_counts (
    org_id       bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    entity_ref   bigint NOT NULL,
    policy_pack  text   NOT NULL,
    policy_name  text   NOT NULL,
    active       bigint NOT NULL,
    PRIMARY KEY (org_id, entity_ref, policy_pack, policy_name)
);

-- Per entity: governed resources and resources with an active issue, for
-- the metadata totals.
CREATE TABLE entity_counts (
    org_id                 bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    entity_ref             bigint NOT NULL,
    governed_resources     bigint NOT NULL DEFAULT 0,
    resources_with_issues  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, entity_ref)
);

INSERT INTO issue_counts
SELECT org_id, entity_type, policy_pack, policy_pack_tag, policy_name, resource_provider, resource_type, level,
       severity, MIN(severity_rank), status, MIN(status_rank), MIN(active), kind, priority, assignee_login,
       assignee_email, policy_group_name, policy_group_type, COUNT(*)
FROM policy_issues
GROUP BY org_id, entity_type, policy_pack, policy_pack_tag, policy_name, resource_provider, resource_type, level,
         severity, status, kind, priority, assignee_login, assignee_email, policy_group_name, policy_group_type;

INSERT INTO issue_policy_counts
SELECT org_id, entity_ref, policy_pack, policy_name, COUNT(*)
FROM policy_issues WHERE active
GROUP BY org_id, entity_ref, policy_pack, policy_name;

INSERT INTO entity_counts (org_id, entity_ref, governed_resources, resources_with_issues)
SELECT e.org_id, e.id,
       (SELECT COUNT(*) FROM resources r WHERE r.org_id = e.org_id AND r.entity_id = e.id AND r.governed),
       (SELECT COUNT(DISTINCT i.resource_urn) FROM policy_issues i WHERE i.org_id = e.org_id AND i.entity_ref = e.id AND i.active)
FROM entities e;

-- Renaming a policy group relabels its issues (repository/policygroups.go);
-- the cube follows here, merging into any rows already under the new name.
-- +goose StatementBegin
CREATE TRIGGER policy_groups_rename_counts AFTER UPDATE OF name ON policy_groups
WHEN NEW.name IS NOT OLD.name
BEGIN
    INSERT INTO issue_counts
    SELECT org_id, entity_type, policy_pack, policy_pack_tag, policy_name, resource_provider, resource_type, level,
           severity, severity_rank, status, status_rank, active, kind, priority, assignee_login, assignee_email,
           NEW.name, policy_group_type, n
    FROM issue_counts WHERE org_id = NEW.org_id AND policy_group_name = OLD.name
    ON CONFLICT (org_id, entity_type, policy_pack, policy_pack_tag, policy_name, resource_provider, resource_type,
                 level, severity, status, kind, priority, assignee_login, assignee_email, policy_group_name, policy_group_type)
    DO UPDATE SET n = n + excluded.n;
    DELETE FROM issue_counts WHERE org_id = NEW.org_id AND policy_group_name = OLD.name;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER policy_groups_rename_counts;
DROP TABLE entity_counts;
DROP TABLE issue_policy_counts;
DROP TABLE issue_counts;
