-- +goose Up
-- Rollups of the compliance views (repository/rollups.go), maintained in the
-- ingest and triage transactions like those of 00003.

-- Enabled policy outcomes per (group, pack, policy, severity), with the
-- resources they governed: the policies of each group (metadata, per-policy
-- compliance) without reading every entity's outcomes. Outcomes with no
-- group are not counted (no query attributes them).
CREATE TABLE outcome_counts (
    org_id       bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    group_id     bigint NOT NULL,
    pack_name    text   NOT NULL,
    policy_name  text   NOT NULL,
    severity     text   NOT NULL,
    outcomes     bigint NOT NULL,
    governed     bigint NOT NULL,
    PRIMARY KEY (org_id, group_id, pack_name, policy_name, severity)
);

-- One compliance cell per evaluated (entity, pack): whether every scope's
-- latest evaluation failed to run, the enabled policies evaluated, and
-- those with an active issue. Recounted for the cells a transaction touched.
CREATE TABLE entity_pack_counts (
    org_id     bigint  NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    entity_ref bigint  NOT NULL,
    pack_name  text    NOT NULL,
    all_error  boolean NOT NULL,
    policies   bigint  NOT NULL,
    failing    bigint  NOT NULL,
    PRIMARY KEY (org_id, entity_ref, pack_name)
);

INSERT INTO outcome_counts (org_id, group_id, pack_name, policy_name, severity, outcomes, governed)
SELECT org_id, group_id, pack_name, policy_name, severity, COUNT(*), SUM(governed)
FROM policy_outcomes WHERE group_id IS NOT NULL AND enforcement_level <> 'disabled'
GROUP BY org_id, group_id, pack_name, policy_name, severity;

INSERT INTO entity_pack_counts (org_id, entity_ref, pack_name, all_error, policies, failing)
SELECT pe.org_id, pe.entity_id, pe.pack_name, MIN(CASE WHEN pe.error IS NULL THEN 0 ELSE 1 END) = 1,
       (SELECT COUNT(DISTINCT o.policy_name) FROM policy_outcomes o WHERE o.org_id = pe.org_id AND o.entity_id = pe.entity_id
          AND o.pack_name = pe.pack_name AND o.enforcement_level <> 'disabled'),
       (SELECT COUNT(*) FROM issue_policy_counts i WHERE i.org_id = pe.org_id AND i.entity_ref = pe.entity_id
          AND i.policy_pack = pe.pack_name AND i.active > 0
          AND EXISTS (SELECT 1 FROM policy_outcomes o WHERE o.org_id = i.org_id AND o.entity_id = i.entity_ref
                      AND o.pack_name = i.policy_pack AND o.policy_name = i.policy_name AND o.enforcement_level <> 'disabled'))
FROM pack_evaluations pe
GROUP BY pe.org_id, pe.entity_id, pe.pack_name;

-- +goose Down
DROP TABLE entity_pack_counts;
DROP TABLE outcome_counts;
