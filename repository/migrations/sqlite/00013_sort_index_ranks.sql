-- +goose Up
-- PostgreSQL's sort indexes gain severity_rank and priority here. SQLite's
-- hold priority already and serve its sizes; the migration keeps both
-- databases at the same version.
SELECT 1;

-- +goose Down
SELECT 1;
