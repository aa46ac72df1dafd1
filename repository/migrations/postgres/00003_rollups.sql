-- +goose Up
-- Interactive at a million issues (see BENCHMARKS.md): rollups maintained in
-- the ingest and triage transactions (repository/rollups.go), so row counts,
-- facets, metadata and compliance cells don't scan the issues.

-- The issue cube: the number of issues per combination of the grid's
-- low-cardinality columns. Any filter on these columns alone gives the same
-- count over the cube (SUM(n)) as over the issues (COUNT(*)): rowCount,
-- facets and the per-severity/level/kind metadata read a few hundred rows
-- instead of a million. severity_rank, status_rank and active follow from
-- severity and status.
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
    severity_rank      smallint NOT NULL,
    status             text     NOT NULL,
    status_rank        smallint NOT NULL,
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
       severity, MIN(severity_rank), status, MIN(status_rank), bool_and(active), kind, priority, assignee_login,
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
CREATE FUNCTION issue_counts_rename_group() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.name IS DISTINCT FROM OLD.name THEN
        INSERT INTO issue_counts AS c
        SELECT org_id, entity_type, policy_pack, policy_pack_tag, policy_name, resource_provider, resource_type, level,
               severity, severity_rank, status, status_rank, active, kind, priority, assignee_login, assignee_email,
               NEW.name, policy_group_type, n
        FROM issue_counts WHERE org_id = NEW.org_id AND policy_group_name = OLD.name
        -- The order rollups.go takes row locks in (byte order), so a rename
        -- and an ingest can't deadlock.
        ORDER BY entity_type COLLATE "C", policy_pack COLLATE "C", policy_pack_tag COLLATE "C", policy_name COLLATE "C",
                 resource_provider COLLATE "C", resource_type COLLATE "C", level COLLATE "C", severity COLLATE "C",
                 status COLLATE "C", kind COLLATE "C", priority COLLATE "C", assignee_login COLLATE "C",
                 assignee_email COLLATE "C", policy_group_type COLLATE "C"
        ON CONFLICT (org_id, entity_type, policy_pack, policy_pack_tag, policy_name, resource_provider, resource_type,
                     level, severity, status, kind, priority, assignee_login, assignee_email, policy_group_name, policy_group_type)
        DO UPDATE SET n = c.n + EXCLUDED.n;
        DELETE FROM issue_counts WHERE org_id = NEW.org_id AND policy_group_name = OLD.name;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER policy_groups_rename_counts AFTER UPDATE OF name ON policy_groups
    FOR EACH ROW EXECUTE FUNCTION issue_counts_rename_group();

-- History rows are written only with their issue, in one transaction. The
-- foreign key to the issue cost an index probe per row, and PostgreSQL
-- caches the probe's plan per connection: planned while policy_issues was
-- empty, it scanned an org_id-led index instead of the primary key, so
-- ingest slowed with every issue loaded. The organisation still cascades.
ALTER TABLE issue_history DROP CONSTRAINT issue_history_org_id_issue_id_fkey;
ALTER TABLE issue_history ADD FOREIGN KEY (org_id) REFERENCES organizations (id) ON DELETE CASCADE;

-- +goose Down
ALTER TABLE issue_history DROP CONSTRAINT issue_history_org_id_fkey;
ALTER TABLE issue_history ADD FOREIGN KEY (org_id, issue_id) REFERENCES policy_issues (org_id, id) ON DELETE CASCADE;
DROP TRIGGER policy_groups_rename_counts ON policy_groups;
DROP FUNCTION issue_counts_rename_group();
DROP TABLE entity_counts;
DROP TABLE issue_policy_counts;
DROP TABLE issue_counts;
