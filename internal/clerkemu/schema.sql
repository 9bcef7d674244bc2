-- The emulator's own state, in its own schema so that it never mixes with the
-- app's tables and can be dropped without touching them. Times are Unix
-- milliseconds because that is what every Clerk shape carries.
CREATE SCHEMA IF NOT EXISTS clerkemu;

CREATE TABLE IF NOT EXISTS clerkemu.instance (
    singleton      boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    instance_id    text NOT NULL,
    private_key    text NOT NULL,
    webhook_secret text NOT NULL,
    seeded         boolean NOT NULL DEFAULT false,
    created_at     bigint NOT NULL
);

CREATE TABLE IF NOT EXISTS clerkemu.users (
    id               text PRIMARY KEY,
    email            text NOT NULL,
    email_id         text NOT NULL,
    password_hash    text,
    first_name       text,
    last_name        text,
    username         text,
    external_id      text,
    public_metadata  jsonb NOT NULL DEFAULT '{}',
    private_metadata jsonb NOT NULL DEFAULT '{}',
    unsafe_metadata  jsonb NOT NULL DEFAULT '{}',
    seeded           boolean NOT NULL DEFAULT false,
    last_sign_in_at  bigint,
    last_active_at   bigint,
    created_at       bigint NOT NULL,
    updated_at       bigint NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS users_email_key ON clerkemu.users (lower(email));

CREATE TABLE IF NOT EXISTS clerkemu.organizations (
    id                      text PRIMARY KEY,
    name                    text NOT NULL,
    slug                    text NOT NULL UNIQUE,
    max_allowed_memberships bigint NOT NULL DEFAULT 0,
    public_metadata         jsonb NOT NULL DEFAULT '{}',
    private_metadata        jsonb NOT NULL DEFAULT '{}',
    created_by              text NOT NULL DEFAULT '',
    created_at              bigint NOT NULL,
    updated_at              bigint NOT NULL
);

CREATE TABLE IF NOT EXISTS clerkemu.memberships (
    id               text PRIMARY KEY,
    org_id           text NOT NULL REFERENCES clerkemu.organizations (id) ON DELETE CASCADE,
    user_id          text NOT NULL REFERENCES clerkemu.users (id) ON DELETE CASCADE,
    role             text NOT NULL,
    public_metadata  jsonb NOT NULL DEFAULT '{}',
    private_metadata jsonb NOT NULL DEFAULT '{}',
    created_at       bigint NOT NULL,
    updated_at       bigint NOT NULL,
    UNIQUE (org_id, user_id)
);
CREATE INDEX IF NOT EXISTS memberships_user_idx ON clerkemu.memberships (user_id);

CREATE TABLE IF NOT EXISTS clerkemu.invitations (
    id               text PRIMARY KEY,
    org_id           text NOT NULL REFERENCES clerkemu.organizations (id) ON DELETE CASCADE,
    email            text NOT NULL,
    role             text NOT NULL,
    status           text NOT NULL,
    token            text NOT NULL UNIQUE,
    redirect_url     text NOT NULL DEFAULT '',
    user_id          text,
    public_metadata  jsonb NOT NULL DEFAULT '{}',
    private_metadata jsonb NOT NULL DEFAULT '{}',
    expires_at       bigint NOT NULL,
    created_at       bigint NOT NULL,
    updated_at       bigint NOT NULL
);

-- A client is one browser, identified by an HttpOnly cookie that holds a
-- random token; only its SHA-256 is stored.
CREATE TABLE IF NOT EXISTS clerkemu.clients (
    id             text PRIMARY KEY,
    token_hash     text UNIQUE,
    active_session text,
    created_at     bigint NOT NULL,
    updated_at     bigint NOT NULL
);

CREATE TABLE IF NOT EXISTS clerkemu.sessions (
    id             text PRIMARY KEY,
    client_id      text NOT NULL REFERENCES clerkemu.clients (id) ON DELETE CASCADE,
    user_id        text NOT NULL REFERENCES clerkemu.users (id) ON DELETE CASCADE,
    status         text NOT NULL,
    active_org_id  text,
    last_active_at bigint NOT NULL,
    expire_at      bigint NOT NULL,
    abandon_at     bigint NOT NULL,
    created_at     bigint NOT NULL,
    updated_at     bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_user_idx ON clerkemu.sessions (user_id);

CREATE TABLE IF NOT EXISTS clerkemu.machines (
    id                text PRIMARY KEY,
    name              text NOT NULL,
    secret_key        text NOT NULL UNIQUE,
    scoped_machines   text[] NOT NULL DEFAULT '{}',
    default_token_ttl bigint NOT NULL,
    created_at        bigint NOT NULL,
    updated_at        bigint NOT NULL
);

CREATE TABLE IF NOT EXISTS clerkemu.m2m_tokens (
    id                text PRIMARY KEY,
    token_hash        text NOT NULL UNIQUE,
    machine_id        text NOT NULL REFERENCES clerkemu.machines (id) ON DELETE CASCADE,
    scopes            text[] NOT NULL DEFAULT '{}',
    claims            jsonb,
    revoked           boolean NOT NULL DEFAULT false,
    revocation_reason text,
    expiration        bigint,
    last_used_at      bigint,
    created_at        bigint NOT NULL,
    updated_at        bigint NOT NULL
);

-- The webhook outbox. A row is written in the same transaction as the change
-- it announces, so an event is never lost and never sent for a rolled-back
-- change. The body is fixed at write time: retries resend identical bytes
-- under the same svix-id, as Svix does.
CREATE TABLE IF NOT EXISTS clerkemu.outbox (
    id              bigserial PRIMARY KEY,
    msg_id          text NOT NULL UNIQUE,
    event_type      text NOT NULL,
    resource_key    text NOT NULL,
    body            text NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS outbox_pending_idx ON clerkemu.outbox (id) WHERE delivered_at IS NULL;

-- Added for Clerk's full user, organization and invitation shapes, the
-- development browser, the handshake nonce, instance invitations and sign-in
-- tokens. ADD COLUMN IF NOT EXISTS upgrades a database created before.
ALTER TABLE clerkemu.users ADD COLUMN IF NOT EXISTS banned boolean NOT NULL DEFAULT false;
ALTER TABLE clerkemu.users ADD COLUMN IF NOT EXISTS locked boolean NOT NULL DEFAULT false;
ALTER TABLE clerkemu.users ADD COLUMN IF NOT EXISTS locale text;
ALTER TABLE clerkemu.users ADD COLUMN IF NOT EXISTS create_organization_enabled boolean NOT NULL DEFAULT true;
ALTER TABLE clerkemu.users ADD COLUMN IF NOT EXISTS create_organizations_limit integer;
ALTER TABLE clerkemu.users ADD COLUMN IF NOT EXISTS delete_self_enabled boolean NOT NULL DEFAULT true;
ALTER TABLE clerkemu.users ADD COLUMN IF NOT EXISTS legal_accepted_at bigint;
ALTER TABLE clerkemu.users ADD COLUMN IF NOT EXISTS password_updated_at bigint;
ALTER TABLE clerkemu.organizations ADD COLUMN IF NOT EXISTS admin_delete_enabled boolean NOT NULL DEFAULT true;
ALTER TABLE clerkemu.invitations ADD COLUMN IF NOT EXISTS inviter_user_id text;

-- The development browser token (__clerk_db_jwt) identifies a client the way
-- the client cookie does; only its SHA-256 is stored.
ALTER TABLE clerkemu.clients ADD COLUMN IF NOT EXISTS dev_browser_hash text UNIQUE;

-- A handshake in format=nonce leaves its cookie directives here until the
-- app's server fetches them once through GET /v1/clients/handshake_payload.
CREATE TABLE IF NOT EXISTS clerkemu.handshake_nonces (
    nonce_hash text PRIMARY KEY,
    directives jsonb NOT NULL,
    expires_at bigint NOT NULL
);

-- Instance invitations (POST /v1/invitations): an invitation to sign up.
CREATE TABLE IF NOT EXISTS clerkemu.instance_invitations (
    id              text PRIMARY KEY,
    email           text NOT NULL,
    status          text NOT NULL,
    token           text NOT NULL UNIQUE,
    redirect_url    text NOT NULL DEFAULT '',
    public_metadata jsonb NOT NULL DEFAULT '{}',
    expires_at      bigint,
    created_at      bigint NOT NULL,
    updated_at      bigint NOT NULL
);

-- Sign-in tokens (POST /v1/sign_in_tokens): a one-time ticket that signs a
-- user in without a password (the Frontend API's ticket strategy).
CREATE TABLE IF NOT EXISTS clerkemu.sign_in_tokens (
    id         text PRIMARY KEY,
    token_hash text NOT NULL UNIQUE,
    user_id    text NOT NULL REFERENCES clerkemu.users (id) ON DELETE CASCADE,
    org_id     text,
    status     text NOT NULL,
    expires_at bigint NOT NULL,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS users_username_key ON clerkemu.users (lower(username));
CREATE UNIQUE INDEX IF NOT EXISTS users_external_id_key ON clerkemu.users (external_id);

-- The Frontend API's sign-in and sign-up attempts, as ClerkJS drives them
-- step by step: a client has at most one of each in progress.
CREATE TABLE IF NOT EXISTS clerkemu.sign_ins (
    id                 text PRIMARY KEY,
    client_id          text NOT NULL REFERENCES clerkemu.clients (id) ON DELETE CASCADE,
    status             text NOT NULL,
    identifier         text,
    user_id            text REFERENCES clerkemu.users (id) ON DELETE CASCADE,
    first_factor       jsonb,
    created_session_id text,
    abandon_at         bigint NOT NULL,
    created_at         bigint NOT NULL,
    updated_at         bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS sign_ins_client_idx ON clerkemu.sign_ins (client_id);

CREATE TABLE IF NOT EXISTS clerkemu.sign_ups (
    id                 text PRIMARY KEY,
    client_id          text NOT NULL REFERENCES clerkemu.clients (id) ON DELETE CASCADE,
    status             text NOT NULL,
    email_address      text,
    first_name         text,
    last_name          text,
    password_hash      text,
    unsafe_metadata    jsonb NOT NULL DEFAULT '{}',
    legal_accepted_at  bigint,
    created_user_id    text,
    created_session_id text,
    abandon_at         bigint NOT NULL,
    created_at         bigint NOT NULL,
    updated_at         bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS sign_ups_client_idx ON clerkemu.sign_ups (client_id);
ALTER TABLE clerkemu.clients ADD COLUMN IF NOT EXISTS sign_in_id text;
ALTER TABLE clerkemu.clients ADD COLUMN IF NOT EXISTS sign_up_id text;
ALTER TABLE clerkemu.clients ADD COLUMN IF NOT EXISTS last_authentication_strategy text;

-- Uploaded organization logos, served under /img/ by id.
CREATE TABLE IF NOT EXISTS clerkemu.images (
    id           text PRIMARY KEY,
    content_type text NOT NULL,
    data         bytea NOT NULL,
    created_at   bigint NOT NULL
);
ALTER TABLE clerkemu.organizations ADD COLUMN IF NOT EXISTS image_id text;
