-- +goose Up
-- Trends (repository/trends.go; see the PostgreSQL migration).
CREATE TABLE issue_trends (
    org_id         bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    dimension      text   NOT NULL,
    value          text   NOT NULL,
    day            text   NOT NULL CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    opened         bigint NOT NULL DEFAULT 0,
    fixed          bigint NOT NULL DEFAULT 0,
    reopened       bigint NOT NULL DEFAULT 0,
    active_change  bigint NOT NULL DEFAULT 0,
    fix_seconds    bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, dimension, value, day)
);

CREATE TABLE issue_trend_totals (
    org_id     bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    dimension  text   NOT NULL,
    value      text   NOT NULL,
    active     bigint NOT NULL,
    PRIMARY KEY (org_id, dimension, value)
);

CREATE TABLE compliance_trends (
    org_id     bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    pack_name  text   NOT NULL,
    day        text   NOT NULL CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    cells      bigint NOT NULL,
    score_sum  bigint NOT NULL,
    PRIMARY KEY (org_id, pack_name, day)
);
CREATE INDEX entity_pack_counts_pack ON entity_pack_counts (org_id, pack_name, all_error, policies, failing);

CREATE TABLE trend_backfills (
    org_id  bigint PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE
);
INSERT INTO trend_backfills (org_id) SELECT id FROM organizations;

-- +goose StatementBegin
CREATE TRIGGER policy_groups_rename_trends AFTER UPDATE OF name ON policy_groups
WHEN NEW.name IS NOT OLD.name
BEGIN
    INSERT INTO issue_trends
    SELECT org_id, dimension, NEW.name, day, opened, fixed, reopened, active_change, fix_seconds
    FROM issue_trends WHERE org_id = NEW.org_id AND dimension = 'policyGroupName' AND value = OLD.name
    ON CONFLICT (org_id, dimension, value, day) DO UPDATE SET
        opened = opened + excluded.opened, fixed = fixed + excluded.fixed, reopened = reopened + excluded.reopened,
        active_change = active_change + excluded.active_change, fix_seconds = fix_seconds + excluded.fix_seconds;
    DELETE FROM issue_trends WHERE org_id = NEW.org_id AND dimension = 'policyGroupName' AND value = OLD.name;
    INSERT INTO issue_trend_totals
    SELECT org_id, dimension, NEW.name, active FROM issue_trend_totals
    WHERE org_id = NEW.org_id AND dimension = 'policyGroupName' AND value = OLD.name
    ON CONFLICT (org_id, dimension, value) DO UPDATE SET active = active + excluded.active;
    DELETE FROM issue_trend_totals WHERE org_id = NEW.org_id AND dimension = 'policyGroupName' AND value = OLD.name;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER policy_groups_rename_trends;
DROP TABLE trend_backfills;
DROP INDEX entity_pack_counts_pack;
DROP TABLE compliance_trends;
DROP TABLE issue_trend_totals;
DROP TABLE issue_trends;
