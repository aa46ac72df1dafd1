-- +goose Up
-- PostgreSQL's indexes of policyName and policyGroupName move from
-- lower(col) to the column here, for equals conditions written as the
-- exact names they match. SQLite keeps the case-insensitive match and its
-- indexes; the migration keeps both databases at the same version.
SELECT 1;

-- +goose Down
SELECT 1;
