-- +goose Up
-- PostgreSQL's sort indexes gain the text dictionary references here.
-- SQLite keeps its sort indexes: it reads text matches through the
-- dictionary's IN lists, and its pages stay within the targets at the
-- sizes it serves (BENCHMARKS.md). The migration keeps both databases at
-- the same version.
SELECT 1;

-- +goose Down
SELECT 1;
