-- +goose Up
-- Trends (repository/trends.go): what changed in the issues per UTC day,
-- kept by the transactions that change issues, so GetPolicyResultsTrends
-- reads a few rows per day instead of the history.
--
-- One row per (dimension, value, day) with changes: dimension is '' (the
-- organisation's totals, value '') or the issue column a trend groups by
-- (severity, policyPack, entityType, kind, policyGroupName), with the
-- issue's value of it at the time of the change. opened, fixed and
-- reopened count the status changes of that day; active_change is the net
-- change of open + in_progress issues, whose running sum is the number of
-- active issues at the end of each day; fix_seconds sums, over the day's
-- fixes, the time from the issue's observedAt to the fix.
CREATE TABLE issue_trends (
    org_id         bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    dimension      text   NOT NULL,
    value          text   NOT NULL,
    day            text   NOT NULL CHECK (day ~ '^\d{4}-\d{2}-\d{2}$'),
    opened         bigint NOT NULL DEFAULT 0,
    fixed          bigint NOT NULL DEFAULT 0,
    reopened       bigint NOT NULL DEFAULT 0,
    active_change  bigint NOT NULL DEFAULT 0,
    fix_seconds    bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, dimension, value, day)
);

-- Per (dimension, value), the sum of every active_change of issue_trends:
-- the active issues now. A trend's active issues at the start of its range
-- are this less the changes since, so the answer reads the days from the
-- range on, not the whole history before it.
CREATE TABLE issue_trend_totals (
    org_id     bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    dimension  text   NOT NULL,
    value      text   NOT NULL,
    active     bigint NOT NULL,
    PRIMARY KEY (org_id, dimension, value)
);

-- The organisation's compliance per pack at the end of each day a
-- compliance cell of the pack changed: the cells whose packs ran
-- (entity_pack_counts rows without all_error) and the sum of their scores.
CREATE TABLE compliance_trends (
    org_id     bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    pack_name  text   NOT NULL,
    day        text   NOT NULL CHECK (day ~ '^\d{4}-\d{2}-\d{2}$'),
    cells      bigint NOT NULL,
    score_sum  bigint NOT NULL,
    PRIMARY KEY (org_id, pack_name, day)
);
-- A pack's cells, summed into its compliance_trends row from the index
-- alone.
CREATE INDEX entity_pack_counts_pack ON entity_pack_counts (org_id, pack_name) INCLUDE (all_error, policies, failing);

-- Organisations whose trends are still to be replayed from their issues'
-- history: every organisation existing when this migration ran. Migrate
-- replays them (repository/trends.go, backfillTrends) in one transaction
-- per organisation that also removes its row here.
CREATE TABLE trend_backfills (
    org_id  bigint PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE
);
INSERT INTO trend_backfills (org_id) SELECT id FROM organizations;

-- Renaming a policy group relabels its issues and their trend: the group's
-- rows move under the new name, merging into any already there.
-- +goose StatementBegin
CREATE FUNCTION issue_trends_rename_group() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.name IS DISTINCT FROM OLD.name THEN
        INSERT INTO issue_trends AS t
        SELECT org_id, dimension, NEW.name, day, opened, fixed, reopened, active_change, fix_seconds
        FROM issue_trends WHERE org_id = NEW.org_id AND dimension = 'policyGroupName' AND value = OLD.name
        ORDER BY day
        ON CONFLICT (org_id, dimension, value, day) DO UPDATE SET
            opened = t.opened + EXCLUDED.opened, fixed = t.fixed + EXCLUDED.fixed, reopened = t.reopened + EXCLUDED.reopened,
            active_change = t.active_change + EXCLUDED.active_change, fix_seconds = t.fix_seconds + EXCLUDED.fix_seconds;
        DELETE FROM issue_trends WHERE org_id = NEW.org_id AND dimension = 'policyGroupName' AND value = OLD.name;
        INSERT INTO issue_trend_totals AS t
        SELECT org_id, dimension, NEW.name, active FROM issue_trend_totals
        WHERE org_id = NEW.org_id AND dimension = 'policyGroupName' AND value = OLD.name
        ON CONFLICT (org_id, dimension, value) DO UPDATE SET active = t.active + EXCLUDED.active;
        DELETE FROM issue_trend_totals WHERE org_id = NEW.org_id AND dimension = 'policyGroupName' AND value = OLD.name;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER policy_groups_rename_trends AFTER UPDATE OF name ON policy_groups
    FOR EACH ROW EXECUTE FUNCTION issue_trends_rename_group();

-- +goose Down
DROP TRIGGER policy_groups_rename_trends ON policy_groups;
DROP FUNCTION issue_trends_rename_group();
DROP TABLE trend_backfills;
DROP INDEX entity_pack_counts_pack;
DROP TABLE compliance_trends;
DROP TABLE issue_trend_totals;
DROP TABLE issue_trends;
