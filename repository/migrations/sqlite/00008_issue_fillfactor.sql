-- +goose Up
-- PostgreSQL leaves room on the issues' pages for in-place updates here.
-- SQLite has no such setting; the migration keeps both databases at the
-- same version.
SELECT 1;

-- +goose Down
SELECT 1;
