-- +goose Up
-- PostgreSQL drops its severity index here. SQLite keeps its own, which its
-- planner chooses at the sizes it serves; the migration keeps both
-- databases at the same version.
SELECT 1;

-- +goose Down
SELECT 1;
