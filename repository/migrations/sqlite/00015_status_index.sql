-- +goose Up
-- PostgreSQL's status index becomes a partial covering index here. SQLite
-- keeps its own; the migration keeps both databases at the same version.
SELECT 1;

-- +goose Down
SELECT 1;
