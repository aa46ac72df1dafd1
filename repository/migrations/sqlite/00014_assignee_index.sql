-- +goose Up
-- PostgreSQL's assignee indexes become one partial index here. SQLite
-- matches assignedTo with lower() on its own indexes at the sizes it
-- serves; the migration keeps both databases at the same version.
SELECT 1;

-- +goose Down
SELECT 1;
