-- +goose Up
-- The organisation id leads every key of tenant data, so the data can later be
-- distributed by organisation (Citus) without redesign.

CREATE TABLE organizations (
    id          INTEGER PRIMARY KEY,
    name        text        NOT NULL UNIQUE,
    created_at  datetime NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE users (
    id          INTEGER PRIMARY KEY,
    login       text        NOT NULL UNIQUE,
    email       text        NOT NULL UNIQUE,
    name        text        NOT NULL DEFAULT '',
    avatar_url  text        NOT NULL DEFAULT '',
    created_at  datetime NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE memberships (
    org_id      bigint      NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id     bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role        text        NOT NULL CHECK (role IN ('admin', 'member', 'viewer')),
    created_at  datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

-- A token is either a user's personal token (user_id set, org_id null: it acts
-- with the user's role in each of the user's organisations) or an organisation
-- token (org_id set, with a role of its own).
CREATE TABLE tokens (
    id           INTEGER PRIMARY KEY,
    org_id       bigint      REFERENCES organizations (id) ON DELETE CASCADE,
    user_id      bigint      REFERENCES users (id) ON DELETE CASCADE,
    name         text        NOT NULL DEFAULT '',
    role         text        NOT NULL DEFAULT '' CHECK (role IN ('', 'admin', 'member', 'viewer')),
    hash         text        NOT NULL UNIQUE,
    created_at   datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
    last_used_at datetime,
    expires_at   datetime,
    revoked_at   datetime,
    CHECK ((org_id IS NULL) <> (user_id IS NULL))
);

CREATE TABLE policy_packs (
    org_id        bigint      NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id            INTEGER PRIMARY KEY,
    name          text        NOT NULL,
    display_name  text        NOT NULL DEFAULT '',
    created_at    datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (org_id, name)
);

CREATE TABLE policy_pack_versions (
    org_id        bigint      NOT NULL,
    id            INTEGER PRIMARY KEY,
    uuid          text        NOT NULL,
    pack_id       bigint      NOT NULL,
    version       integer     NOT NULL,
    version_tag   text        NOT NULL,
    display_name  text        NOT NULL DEFAULT '',
    description   text        NOT NULL DEFAULT '',
    published     boolean     NOT NULL DEFAULT 0,
    archive_size  bigint      NOT NULL DEFAULT 0,
    created_at    datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (org_id, pack_id, version),
    FOREIGN KEY (pack_id) REFERENCES policy_packs (id) ON DELETE CASCADE
);
-- A version tag names one version of a pack: it can't be published twice.
CREATE UNIQUE INDEX policy_pack_versions_tag ON policy_pack_versions (org_id, pack_id, version_tag);

CREATE TABLE policy_pack_archives (
    org_id      bigint NOT NULL,
    version_id  bigint NOT NULL,
    data        blob  NOT NULL,
    PRIMARY KEY (org_id, version_id),
    FOREIGN KEY (version_id) REFERENCES policy_pack_versions (id) ON DELETE CASCADE
);

CREATE TABLE policies (
    org_id             bigint NOT NULL,
    version_id         bigint NOT NULL,
    name               text   NOT NULL,
    display_name       text   NOT NULL DEFAULT '',
    description        text   NOT NULL DEFAULT '',
    enforcement_level  text   NOT NULL DEFAULT 'advisory',
    message            text   NOT NULL DEFAULT '',
    severity           text   NOT NULL DEFAULT '',
    config_schema      text,
    framework          text,
    tags               text,
    remediation_steps  text   NOT NULL DEFAULT '',
    url                text   NOT NULL DEFAULT '',
    PRIMARY KEY (org_id, version_id, name),
    FOREIGN KEY (version_id) REFERENCES policy_pack_versions (id) ON DELETE CASCADE
);

CREATE TABLE policy_groups (
    org_id          bigint      NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id              INTEGER PRIMARY KEY,
    name            text        NOT NULL,
    entity_type     text        NOT NULL CHECK (entity_type IN ('stacks', 'accounts')),
    mode            text        NOT NULL CHECK (mode IN ('audit', 'preventative')),
    is_org_default  boolean     NOT NULL DEFAULT 0,
    created_at      datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (org_id, name)
);

-- A pack applied to a group; version null means the latest published version.
CREATE TABLE policy_group_packs (
    org_id     bigint NOT NULL,
    group_id   bigint NOT NULL,
    pack_name  text   NOT NULL,
    version    integer,
    config     text,
    PRIMARY KEY (org_id, group_id, pack_name),
    FOREIGN KEY (group_id) REFERENCES policy_groups (id) ON DELETE CASCADE
);
CREATE INDEX policy_group_packs_pack ON policy_group_packs (org_id, pack_name);

-- An entity is a stack (project, name) or an Insights account (project holds
-- the account name, name is empty).
CREATE TABLE entities (
    org_id      bigint      NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id          INTEGER PRIMARY KEY,
    type        text        NOT NULL CHECK (type IN ('stack', 'account')),
    project     text        NOT NULL,
    name        text        NOT NULL DEFAULT '',
    provider    text        NOT NULL DEFAULT '',
    created_at  datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (org_id, type, project, name)
);

CREATE TABLE policy_group_entities (
    org_id     bigint NOT NULL,
    group_id   bigint NOT NULL,
    entity_id  bigint NOT NULL,
    PRIMARY KEY (org_id, group_id, entity_id),
    FOREIGN KEY (group_id) REFERENCES policy_groups (id) ON DELETE CASCADE,
    FOREIGN KEY (entity_id) REFERENCES entities (id) ON DELETE CASCADE
);
CREATE INDEX policy_group_entities_entity ON policy_group_entities (org_id, entity_id);

-- One row per evaluation received: an audit log and the summary it answered.
CREATE TABLE evaluations (
    org_id       bigint      NOT NULL,
    id           INTEGER PRIMARY KEY,
    entity_id    bigint      NOT NULL,
    scope        text        NOT NULL DEFAULT '',
    version      bigint      NOT NULL,
    kind         text        NOT NULL,
    source       text        NOT NULL,
    actor        text        NOT NULL DEFAULT '',
    actor_type   text        NOT NULL DEFAULT '',
    observed_at  datetime NOT NULL,
    received_at  datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
    opened       integer     NOT NULL DEFAULT 0,
    reopened     integer     NOT NULL DEFAULT 0,
    fixed        integer     NOT NULL DEFAULT 0,
    unchanged    integer     NOT NULL DEFAULT 0,
    governed     integer     NOT NULL DEFAULT 0,
    FOREIGN KEY (entity_id) REFERENCES entities (id) ON DELETE CASCADE
);
CREATE INDEX evaluations_entity ON evaluations (org_id, entity_id, id);

-- The latest evaluation of each pack on each entity (scope is the account
-- resource for Pulumi's per-resource form, empty otherwise).
CREATE TABLE pack_evaluations (
    org_id         bigint      NOT NULL,
    entity_id      bigint      NOT NULL,
    scope          text        NOT NULL DEFAULT '',
    pack_name      text        NOT NULL,
    pack_tag       text        NOT NULL DEFAULT '',
    version        bigint      NOT NULL,
    evaluation_id  bigint      NOT NULL,
    group_id       bigint,
    kind           text        NOT NULL,
    error          text,
    evaluated_at   datetime NOT NULL,
    PRIMARY KEY (org_id, entity_id, scope, pack_name),
    FOREIGN KEY (entity_id) REFERENCES entities (id) ON DELETE CASCADE
);
CREATE INDEX pack_evaluations_pack ON pack_evaluations (org_id, pack_name);

-- The latest outcome of each policy on each entity: how many resources it
-- governed. Passing policies are those with no active issue.
CREATE TABLE policy_outcomes (
    org_id             bigint NOT NULL,
    entity_id          bigint NOT NULL,
    scope              text   NOT NULL DEFAULT '',
    pack_name          text   NOT NULL,
    policy_name        text   NOT NULL,
    severity           text   NOT NULL DEFAULT '',
    enforcement_level  text   NOT NULL DEFAULT 'advisory',
    governed           integer NOT NULL DEFAULT 0,
    group_id           bigint,
    PRIMARY KEY (org_id, entity_id, scope, pack_name, policy_name),
    FOREIGN KEY (entity_id) REFERENCES entities (id) ON DELETE CASCADE
);
CREATE INDEX policy_outcomes_group ON policy_outcomes (org_id, group_id, pack_name, policy_name);

CREATE TABLE resources (
    org_id        bigint      NOT NULL,
    entity_id     bigint      NOT NULL,
    urn           text        NOT NULL,
    resource_id   text        NOT NULL DEFAULT '',
    type          text        NOT NULL DEFAULT '',
    provider      text        NOT NULL DEFAULT '',
    name          text        NOT NULL DEFAULT '',
    version       bigint      NOT NULL DEFAULT 0,
    governed      boolean     NOT NULL DEFAULT 0,
    updated_at    datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (org_id, entity_id, urn),
    FOREIGN KEY (entity_id) REFERENCES entities (id) ON DELETE CASCADE
);

-- Issues are denormalised with every column the grid filters, sorts and
-- groups on. severity_rank and status_rank order enums by meaning; active is
-- status IN (open, in_progress).
CREATE TABLE policy_issues (
    org_id             bigint      NOT NULL,
    id                 text        NOT NULL PRIMARY KEY,
    entity_ref         bigint      NOT NULL,
    scope              text        NOT NULL DEFAULT '',
    entity_type        text        NOT NULL,
    entity_project     text        NOT NULL,
    entity_id          text        NOT NULL,
    stack_version      bigint,
    resource_version   bigint,
    policy_pack        text        NOT NULL,
    policy_pack_tag    text        NOT NULL DEFAULT '',
    policy_name        text        NOT NULL,
    resource_urn       text        NOT NULL,
    resource_provider  text        NOT NULL DEFAULT '',
    resource_type      text        NOT NULL DEFAULT '',
    resource_name      text        NOT NULL DEFAULT '',
    message            text        NOT NULL DEFAULT '',
    observed_at        datetime NOT NULL,
    last_modified      datetime NOT NULL,
    level              text        NOT NULL,
    severity           text        NOT NULL DEFAULT '',
    severity_rank      integer    NOT NULL DEFAULT 0,
    status             text        NOT NULL,
    status_rank        integer    NOT NULL DEFAULT 0,
    active             boolean     NOT NULL,
    kind               text        NOT NULL,
    priority           text        NOT NULL,
    assignee_id        bigint      REFERENCES users (id) ON DELETE SET NULL,
    assignee_login     text        NOT NULL DEFAULT '',
    assignee_email     text        NOT NULL DEFAULT '',
    policy_group_name  text        NOT NULL DEFAULT '',
    policy_group_type  text        NOT NULL DEFAULT '',
    revision           integer     NOT NULL DEFAULT 1,
    UNIQUE (org_id, entity_ref, policy_pack, policy_name, resource_urn),
    FOREIGN KEY (entity_ref) REFERENCES entities (id) ON DELETE CASCADE
);
CREATE INDEX policy_issues_default_order ON policy_issues (org_id, severity_rank DESC, observed_at DESC, id DESC);
CREATE INDEX policy_issues_status ON policy_issues (org_id, status);
CREATE INDEX policy_issues_pack_policy ON policy_issues (org_id, policy_pack, policy_name);
CREATE INDEX policy_issues_entity_scope ON policy_issues (org_id, entity_ref, scope, policy_pack);

CREATE TABLE issue_history (
    org_id      bigint      NOT NULL,
    id          INTEGER PRIMARY KEY,
    issue_id    text        NOT NULL,
    at          datetime NOT NULL,
    actor       text        NOT NULL,
    actor_type  text        NOT NULL CHECK (actor_type IN ('user', 'token', 'evaluation')),
    field       text        NOT NULL,
    old_value   text,
    new_value   text,
    FOREIGN KEY (issue_id) REFERENCES policy_issues (id) ON DELETE CASCADE
);
CREATE INDEX issue_history_issue ON issue_history (org_id, issue_id, id);

-- +goose Down
DROP TABLE issue_history;
DROP TABLE policy_issues;
DROP TABLE resources;
DROP TABLE policy_outcomes;
DROP TABLE pack_evaluations;
DROP TABLE evaluations;
DROP TABLE policy_group_entities;
DROP TABLE entities;
DROP TABLE policy_group_packs;
DROP TABLE policy_groups;
DROP TABLE policies;
DROP TABLE policy_pack_archives;
DROP TABLE policy_pack_versions;
DROP TABLE policy_packs;
DROP TABLE tokens;
DROP TABLE memberships;
DROP TABLE users;
DROP TABLE organizations;
