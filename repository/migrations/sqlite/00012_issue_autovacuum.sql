-- +goose Up
-- PostgreSQL's autovacuum of the issues is made more frequent here. SQLite
-- has no visibility map and refreshes its statistics at start (PRAGMA
-- optimize); the migration keeps both databases at the same version.
SELECT 1;

-- +goose Down
SELECT 1;
