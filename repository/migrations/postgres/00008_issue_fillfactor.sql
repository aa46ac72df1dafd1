-- +goose Up
-- Half of each page of the issues is left free when rows are inserted, so
-- that re-evaluations update issues in place. Most issues an evaluation
-- reports again are unchanged but for their stack or resource version,
-- which no index holds: with room on the row's page such an update is a
-- heap-only (HOT) update, without new entries in the eighteen indexes of
-- the issues. An evaluation updates the issues of one entity, which sit
-- together on a few pages, so a page needs room for a new version of most
-- of its rows at once. At 100,000 issues re-evaluations ran 1.5x faster
-- and the table ended smaller, since non-HOT updates bloat it more than
-- the free space costs (BENCHMARKS.md). Pages written before this
-- migration keep their rows until updates move them.
ALTER TABLE policy_issues SET (fillfactor = 50);

-- +goose Down
ALTER TABLE policy_issues RESET (fillfactor);
