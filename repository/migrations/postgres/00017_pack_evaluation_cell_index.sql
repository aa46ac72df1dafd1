-- +goose Up
-- The pack index also holds the entity, so a compliance cell's recount
-- (cellColumnsSQL in repository/rollups.go: the pack evaluations of one
-- entity and pack) finds its row exactly whichever index the planner
-- takes. Without current statistics (a new table, or autovacuum off) it
-- took the pack index and read every entity evaluated on the pack: 8–13 ms
-- per cell at 3,000 stacks, a third of an evaluation's statement time,
-- growing with the organisation. Reading the packs an organisation
-- evaluated still uses the index's prefix.
DROP INDEX pack_evaluations_pack;
CREATE INDEX pack_evaluations_pack ON pack_evaluations (org_id, pack_name, entity_id);

-- +goose Down
DROP INDEX pack_evaluations_pack;
CREATE INDEX pack_evaluations_pack ON pack_evaluations (org_id, pack_name);
