-- +goose Up
-- The presigned upload URL of a pack version (its uploadURI) carries a
-- credential that authorizes that version's archive upload until it
-- expires; only its SHA-256 is stored. Versions created before have none.
ALTER TABLE policy_pack_versions ADD COLUMN upload_credential_hash text;
ALTER TABLE policy_pack_versions ADD COLUMN upload_expires_at timestamptz;

-- +goose Down
ALTER TABLE policy_pack_versions DROP COLUMN upload_expires_at;
ALTER TABLE policy_pack_versions DROP COLUMN upload_credential_hash;
