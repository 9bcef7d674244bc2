-- +goose Up
-- The ids other identity providers give the app's users, organisations,
-- memberships and invitations, for a move away from Clerk (docs/MIGRATION.md).
-- `web import-identities --provider NAME` fills it from the provider-neutral
-- identity file; a second provider's session verification and webhook sync
-- look rows up here by (provider, kind, external_id). Clerk's own ids stay in
-- the clerk_id columns, which the running app reads: provider "clerk" is
-- therefore not stored here.
--
-- app_id is users.id, organizations.id, memberships.id or invitations.id,
-- by kind; one column for all four keeps the lookup a single index probe.
-- It has no foreign key for the same reason; those rows are tombstoned,
-- never deleted, and the import checks that each one exists.
CREATE TABLE external_identities (
    kind        text        NOT NULL CHECK (kind IN ('user', 'organization', 'membership', 'invitation')),
    app_id      bigint      NOT NULL,
    provider    text        NOT NULL CHECK (provider ~ '^[a-z][a-z0-9_-]{0,31}$' AND provider <> 'clerk'),
    external_id text        NOT NULL CHECK (length(external_id) BETWEEN 1 AND 255),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    -- A row's ids at every provider (the export), and one provider's id of
    -- a row (the import).
    PRIMARY KEY (kind, app_id, provider),
    -- A provider's id names one row: the lookup of the sync and the
    -- session verification of that provider.
    UNIQUE (provider, kind, external_id)
);

-- +goose Down
DROP TABLE external_identities;
