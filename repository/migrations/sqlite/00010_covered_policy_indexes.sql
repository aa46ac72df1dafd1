-- +goose Up
-- PostgreSQL's indexes of policyName and policyGroupName gain the columns
-- of the segment orders here. SQLite reads pages in the order's index (it
-- never filters first), so it keeps its indexes; the migration keeps both
-- databases at the same version.
SELECT 1;

-- +goose Down
SELECT 1;
