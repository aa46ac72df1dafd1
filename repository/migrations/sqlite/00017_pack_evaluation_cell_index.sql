-- +goose Up
-- The pack index also holds the entity, so a compliance cell's recount
-- finds its pack evaluation exactly whichever index the planner takes
-- (PostgreSQL's migration 17 says why).
DROP INDEX pack_evaluations_pack;
CREATE INDEX pack_evaluations_pack ON pack_evaluations (org_id, pack_name, entity_id);

-- +goose Down
DROP INDEX pack_evaluations_pack;
CREATE INDEX pack_evaluations_pack ON pack_evaluations (org_id, pack_name);
