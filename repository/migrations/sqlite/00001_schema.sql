-- +goose Up
-- The SQLite schema as it stands, in one place. Changes to it are new
-- migrations (00002_...sql and on) beside this file; this one is never
-- edited once a release has shipped. The tables and columns are those of
-- the PostgreSQL baseline (../postgres/00001_schema.sql), whose comments
-- say what each table holds and why; here, ids are SQLite's rowids and
-- foreign keys name the id alone. Indexes differ where the planners differ:
-- SQLite has no INCLUDE (the sort indexes carry the filter columns after
-- their key), no partial covering indexes, no trigram index (text matches
-- scan the dictionary's distinct values), no fillfactor and no autovacuum
-- settings (statistics are refreshed at start, PRAGMA optimize).

-- Organisations, users and tokens ------------------------------------------

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
-- A user's organisations (GET /api/user, a personal token's roles).
CREATE INDEX memberships_user ON memberships (user_id);

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

-- Policy packs and policy groups -------------------------------------------

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

CREATE TABLE policy_group_packs (
    org_id     bigint NOT NULL,
    group_id   bigint NOT NULL,
    pack_name  text   NOT NULL,
    version    integer,
    config     text,
    PRIMARY KEY (org_id, group_id, pack_name),
    FOREIGN KEY (group_id) REFERENCES policy_groups (id) ON DELETE CASCADE
);
-- The groups applying a pack (a pack or version they apply can't be
-- deleted; DeletePolicyPack names them).
CREATE INDEX policy_group_packs_pack ON policy_group_packs (org_id, pack_name);

-- Entities, evaluations and their outcomes ---------------------------------

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
-- The compliance matrix's page of entities in the order of their display
-- name (project/stack, or the account). The expression must stay the same
-- as entityDisplayExpr in repository/compliance.go for the planner to use it.
CREATE INDEX entities_display ON entities (org_id, type, (CASE WHEN type = 'stack' THEN project || '/' || name ELSE project END));

CREATE TABLE policy_group_entities (
    org_id     bigint NOT NULL,
    group_id   bigint NOT NULL,
    entity_id  bigint NOT NULL,
    PRIMARY KEY (org_id, group_id, entity_id),
    FOREIGN KEY (group_id) REFERENCES policy_groups (id) ON DELETE CASCADE,
    FOREIGN KEY (entity_id) REFERENCES entities (id) ON DELETE CASCADE
);
-- The groups of an entity (an evaluation finds the groups applying its packs).
CREATE INDEX policy_group_entities_entity ON policy_group_entities (org_id, entity_id);

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
-- An entity's evaluations in the order received (the cascade when an entity
-- is deleted).
CREATE INDEX evaluations_entity ON evaluations (org_id, entity_id, id);

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
-- The packs an organisation evaluated (the compliance matrix's columns), and
-- a compliance cell's recount (cellColumnsSQL in repository/rollups.go: one
-- entity and pack), found exactly whichever index the planner takes.
CREATE INDEX pack_evaluations_pack ON pack_evaluations (org_id, pack_name, entity_id);

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
-- A group's outcomes (deleting a group detaches them; the recount of
-- outcome_counts in CheckRollups).
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

-- Issues -------------------------------------------------------------------

-- name_ref, message_ref, urn_prefix_ref and urn_suffix_ref refer to the
-- text dictionary; ingest always sets them (their default 0 keeps the
-- table as in databases upgraded to the dictionary, which SQLite could add
-- to a table with rows only with a default).
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
    name_ref bigint NOT NULL DEFAULT 0,
    message_ref bigint NOT NULL DEFAULT 0,
    urn_prefix_ref bigint NOT NULL DEFAULT 0,
    urn_suffix_ref bigint NOT NULL DEFAULT 0,
    UNIQUE (org_id, entity_ref, policy_pack, policy_name, resource_urn),
    FOREIGN KEY (entity_ref) REFERENCES entities (id) ON DELETE CASCADE
);

-- The grid's sort indexes: each ends its key with id, the queries'
-- tie-breaker, and then carries the columns of the filters that have no
-- index of their own, so a page finds its ids from index entries alone.

-- The default order (severity, then observedAt newest first).
CREATE INDEX policy_issues_default_order ON policy_issues (org_id, severity_rank DESC, observed_at DESC, id DESC,
    status, kind, level, entity_type, priority, policy_pack, policy_name, policy_group_name, assignee_login, assignee_email);
-- Pages sorted by observedAt, newest or oldest first.
CREATE INDEX policy_issues_observed_order ON policy_issues (org_id, observed_at DESC, id DESC,
    status, kind, level, entity_type, priority, policy_pack, policy_name, policy_group_name, assignee_login, assignee_email);
-- Pages sorted by severity alone, which SQLite's planner chooses over the
-- default order's index at the sizes it serves.
CREATE INDEX policy_issues_severity_order ON policy_issues (org_id, severity_rank, id,
    status, kind, level, entity_type, priority, policy_pack, policy_name, policy_group_name, assignee_login, assignee_email);
-- Pages sorted by priority.
CREATE INDEX policy_issues_priority_order ON policy_issues (org_id, priority, id,
    status, kind, level, entity_type, policy_pack, policy_name, policy_group_name, assignee_login, assignee_email);
-- A filter on rare statuses (in progress, ignored, by design).
CREATE INDEX policy_issues_status ON policy_issues (org_id, status);
-- A filter on the rarer kind (audit or preventative) and entity type.
CREATE INDEX policy_issues_kind ON policy_issues (org_id, kind, entity_type);
-- A stack or account filter (entityId equals, case-insensitive).
CREATE INDEX policy_issues_entity_id_ci ON policy_issues (org_id, lower(entity_id));
-- "My issues": assignedTo equals, case-insensitive on the login or the
-- email (SQLite keeps lower() for it: a member's issues are few).
CREATE INDEX policy_issues_assignee_login_ci ON policy_issues (org_id, lower(assignee_login));
CREATE INDEX policy_issues_assignee_email_ci ON policy_issues (org_id, lower(assignee_email));
-- Case-insensitive equals on policyName and policyGroupName written with
-- lower(), as SQL that bypasses the issue cube does (the benchmark's naive
-- baseline); the grid writes these equals as the exact names the cube holds
-- (exactNames) and checks them on the sort indexes' entries.
CREATE INDEX policy_issues_policy_name_ci ON policy_issues (org_id, lower(policy_name));
CREATE INDEX policy_issues_group_ci ON policy_issues (org_id, lower(policy_group_name));
-- Text matches (contains, startsWith, endsWith) on resourceName, message and
-- resourceURN: the matching dictionary ids, then their issues, with the
-- segment columns (issueSegments).
CREATE INDEX policy_issues_name_ref ON policy_issues (org_id, name_ref, severity_rank, priority);
CREATE INDEX policy_issues_message_ref ON policy_issues (org_id, message_ref, severity_rank, priority);
CREATE INDEX policy_issues_urn_prefix_ref ON policy_issues (org_id, urn_prefix_ref, severity_rank, priority);
CREATE INDEX policy_issues_urn_suffix_ref ON policy_issues (org_id, urn_suffix_ref, severity_rank, priority);

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
-- An issue's history (GET /issues/{issueId}/history).
CREATE INDEX issue_history_issue ON issue_history (org_id, issue_id, id);

-- Rollups ------------------------------------------------------------------
-- (repository/rollups.go; see the PostgreSQL baseline.)

CREATE TABLE issue_counts (
    org_id             bigint   NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    entity_type        text     NOT NULL,
    policy_pack        text     NOT NULL,
    policy_pack_tag    text     NOT NULL,
    policy_name        text     NOT NULL,
    resource_provider  text     NOT NULL,
    resource_type      text     NOT NULL,
    level              text     NOT NULL,
    severity           text     NOT NULL,
    severity_rank      integer  NOT NULL,
    status             text     NOT NULL,
    status_rank        integer  NOT NULL,
    active             boolean  NOT NULL,
    kind               text     NOT NULL,
    priority           text     NOT NULL,
    assignee_login     text     NOT NULL,
    assignee_email     text     NOT NULL,
    policy_group_name  text     NOT NULL,
    policy_group_type  text     NOT NULL,
    n                  bigint   NOT NULL,
    PRIMARY KEY (org_id, entity_type, policy_pack, policy_pack_tag, policy_name, resource_provider, resource_type,
                 level, severity, status, kind, priority, assignee_login, assignee_email, policy_group_name, policy_group_type)
);

CREATE TABLE issue_policy_counts (
    org_id       bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    entity_ref   bigint NOT NULL,
    policy_pack  text   NOT NULL,
    policy_name  text   NOT NULL,
    active       bigint NOT NULL,
    PRIMARY KEY (org_id, entity_ref, policy_pack, policy_name)
);

CREATE TABLE entity_counts (
    org_id                 bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    entity_ref             bigint NOT NULL,
    governed_resources     bigint NOT NULL DEFAULT 0,
    resources_with_issues  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, entity_ref)
);

CREATE TABLE outcome_counts (
    org_id       bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    group_id     bigint NOT NULL,
    pack_name    text   NOT NULL,
    policy_name  text   NOT NULL,
    severity     text   NOT NULL,
    outcomes     bigint NOT NULL,
    governed     bigint NOT NULL,
    PRIMARY KEY (org_id, group_id, pack_name, policy_name, severity)
);

CREATE TABLE entity_pack_counts (
    org_id     bigint  NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    entity_ref bigint  NOT NULL,
    pack_name  text    NOT NULL,
    all_error  boolean NOT NULL,
    policies   bigint  NOT NULL,
    failing    bigint  NOT NULL,
    PRIMARY KEY (org_id, entity_ref, pack_name)
);

-- Renaming a policy group relabels its issues (repository/policygroups.go);
-- the cube follows here, merging into any rows already under the new name.
-- +goose StatementBegin
CREATE TRIGGER policy_groups_rename_counts AFTER UPDATE OF name ON policy_groups
WHEN NEW.name IS NOT OLD.name
BEGIN
    INSERT INTO issue_counts
    SELECT org_id, entity_type, policy_pack, policy_pack_tag, policy_name, resource_provider, resource_type, level,
           severity, severity_rank, status, status_rank, active, kind, priority, assignee_login, assignee_email,
           NEW.name, policy_group_type, n
    FROM issue_counts WHERE org_id = NEW.org_id AND policy_group_name = OLD.name
    ON CONFLICT (org_id, entity_type, policy_pack, policy_pack_tag, policy_name, resource_provider, resource_type,
                 level, severity, status, kind, priority, assignee_login, assignee_email, policy_group_name, policy_group_type)
    DO UPDATE SET n = n + excluded.n;
    DELETE FROM issue_counts WHERE org_id = NEW.org_id AND policy_group_name = OLD.name;
END;
-- +goose StatementEnd

-- The text dictionary ------------------------------------------------------
-- (repository/texts.go; see the PostgreSQL baseline.)
CREATE TABLE issue_texts (
    org_id  bigint  NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    field   text    NOT NULL CHECK (field IN ('resource_name', 'message', 'urn_prefix', 'urn_suffix')),
    value   text    NOT NULL
);
-- Interning a value (ingest looks each one up or adds it).
CREATE UNIQUE INDEX issue_texts_value ON issue_texts (org_id, field, value);

-- +goose Down
DROP TABLE issue_texts;
DROP TRIGGER policy_groups_rename_counts;
DROP TABLE entity_pack_counts;
DROP TABLE outcome_counts;
DROP TABLE entity_counts;
DROP TABLE issue_policy_counts;
DROP TABLE issue_counts;
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
