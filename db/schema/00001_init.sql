-- +goose Up
-- The first schema. Clerk owns identity; these tables mirror what the app needs
-- from it (filled by webhooks), plus the app's own business data. Every table
-- has its own bigint primary key; Clerk ids are unique secondary keys.
-- clerk_updated_at is Clerk's updated_at for the row, used to let older
-- webhook deliveries lose; deleted_at is a tombstone so that a late update
-- cannot bring a deleted row back.

CREATE TABLE users (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    clerk_id         text        NOT NULL UNIQUE,
    email            text        NOT NULL DEFAULT '',
    first_name       text        NOT NULL DEFAULT '',
    last_name        text        NOT NULL DEFAULT '',
    image_url        text        NOT NULL DEFAULT '',
    public_metadata  jsonb       NOT NULL DEFAULT '{}',
    stub             boolean     NOT NULL DEFAULT false,
    clerk_created_at timestamptz,
    clerk_updated_at timestamptz,
    deleted_at       timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE organizations (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    clerk_id         text        NOT NULL UNIQUE,
    name             text        NOT NULL DEFAULT '',
    slug             text        NOT NULL DEFAULT '',
    image_url        text        NOT NULL DEFAULT '',
    plan             text        NOT NULL DEFAULT '',
    public_metadata  jsonb       NOT NULL DEFAULT '{}',
    stub             boolean     NOT NULL DEFAULT false,
    clerk_created_at timestamptz,
    clerk_updated_at timestamptz,
    deleted_at       timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE memberships (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    clerk_id         text        NOT NULL UNIQUE,
    organization_id  bigint      NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id          bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role             text        NOT NULL,
    permissions      text[]      NOT NULL DEFAULT '{}',
    clerk_created_at timestamptz,
    clerk_updated_at timestamptz,
    deleted_at       timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
-- One live membership per user and organisation; tombstoned rows do not count.
CREATE UNIQUE INDEX memberships_org_user_live ON memberships (organization_id, user_id) WHERE deleted_at IS NULL;
CREATE INDEX memberships_user ON memberships (user_id) WHERE deleted_at IS NULL;

CREATE TABLE invitations (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    clerk_id         text        NOT NULL UNIQUE,
    organization_id  bigint      NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email            text        NOT NULL,
    role             text        NOT NULL,
    status           text        NOT NULL,
    clerk_created_at timestamptz,
    clerk_updated_at timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX invitations_org ON invitations (organization_id, status);

-- The webhook inbox and delivery log: one row per Svix message id. Inserting
-- the row is the idempotency check; the row is kept for the admin log.
CREATE TABLE webhook_events (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    svix_id         text        NOT NULL UNIQUE,
    type            text        NOT NULL,
    organization_id text        NOT NULL DEFAULT '',
    status          text        NOT NULL,
    error           text        NOT NULL DEFAULT '',
    payload         jsonb       NOT NULL,
    attempts        integer     NOT NULL DEFAULT 1,
    received_at     timestamptz NOT NULL DEFAULT now(),
    processed_at    timestamptz
);
CREATE INDEX webhook_events_received ON webhook_events (received_at DESC);
CREATE INDEX webhook_events_org ON webhook_events (organization_id, received_at DESC);

CREATE TABLE audit_log (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id bigint      REFERENCES organizations (id) ON DELETE CASCADE,
    actor           text        NOT NULL DEFAULT '',
    impersonator    text        NOT NULL DEFAULT '',
    action          text        NOT NULL,
    target          text        NOT NULL DEFAULT '',
    details         jsonb       NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_org ON audit_log (organization_id, created_at DESC);

-- projects is the example org-scoped resource: copy its pattern for your own.
CREATE TABLE projects (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id bigint      NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name            text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_by      text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX projects_org ON projects (organization_id, created_at DESC);

-- +goose Down
DROP TABLE projects;
DROP TABLE audit_log;
DROP TABLE webhook_events;
DROP TABLE invitations;
DROP TABLE memberships;
DROP TABLE organizations;
DROP TABLE users;
