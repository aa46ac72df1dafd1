-- +goose Up
-- Webhooks, their outbox of events, deliveries and attempts: see
-- ../postgres/00005_webhooks.sql for what each holds.
CREATE TABLE webhooks (
    org_id             bigint   NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id                 INTEGER PRIMARY KEY,
    project            text     NOT NULL DEFAULT '',
    stack              text     NOT NULL DEFAULT '',
    name               text     NOT NULL,
    display_name       text     NOT NULL,
    payload_url        text     NOT NULL,
    secret_enc         text     NOT NULL DEFAULT '',
    active             boolean  NOT NULL DEFAULT true,
    format             text     NOT NULL DEFAULT 'raw' CHECK (format IN ('raw', 'slack', 'ms_teams')),
    filters            text     NOT NULL DEFAULT '',
    groups_            text     NOT NULL DEFAULT '',
    min_severity       text     NOT NULL DEFAULT '',
    failing_since      datetime,
    deactivated_reason text     NOT NULL DEFAULT '',
    created_at         datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at         datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (org_id, project, stack, name)
);

CREATE TABLE webhook_events (
    org_id        bigint   NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id            INTEGER PRIMARY KEY,
    cause         text     NOT NULL,
    entity_type   text     NOT NULL DEFAULT '',
    project       text     NOT NULL DEFAULT '',
    stack         text     NOT NULL DEFAULT '',
    evaluation_id bigint   NOT NULL DEFAULT 0,
    actor         text     NOT NULL DEFAULT '',
    data          text     NOT NULL,
    expanded      boolean  NOT NULL DEFAULT false,
    created_at    datetime NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX webhook_events_pending ON webhook_events (id) WHERE NOT expanded;
CREATE INDEX webhook_events_created ON webhook_events (created_at);

CREATE TABLE webhook_deliveries (
    org_id           bigint   NOT NULL,
    id               text     PRIMARY KEY,
    hook_id          bigint   NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    kind             text     NOT NULL,
    payload          text     NOT NULL,
    state            text     NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts         integer  NOT NULL DEFAULT 0,
    next_attempt_at  datetime NOT NULL,
    first_attempt_at datetime,
    created_at       datetime NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (org_id, hook_id);
CREATE INDEX webhook_deliveries_created ON webhook_deliveries (created_at);

CREATE TABLE webhook_attempts (
    org_id           bigint   NOT NULL,
    id               INTEGER PRIMARY KEY,
    hook_id          bigint   NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    delivery_id      text     NOT NULL,
    kind             text     NOT NULL,
    attempt          integer  NOT NULL,
    state            text     NOT NULL,
    started_at       datetime NOT NULL,
    duration_ms      bigint   NOT NULL,
    request_url      text     NOT NULL,
    request_headers  text     NOT NULL,
    payload          text     NOT NULL,
    response_code    integer  NOT NULL,
    response_headers text     NOT NULL,
    response_body    text     NOT NULL,
    error            text     NOT NULL DEFAULT ''
);
CREATE INDEX webhook_attempts_hook ON webhook_attempts (org_id, hook_id, started_at DESC, id DESC);
CREATE INDEX webhook_attempts_started ON webhook_attempts (started_at);

CREATE TABLE webhook_keys (
    id  integer PRIMARY KEY CHECK (id = 1),
    key text    NOT NULL
);

-- +goose Down
DROP TABLE webhook_keys;
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_events;
DROP TABLE webhooks;
