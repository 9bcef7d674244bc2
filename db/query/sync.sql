-- Queries used by internal/clerksync to mirror Clerk into the database.
-- Every upsert is guarded: a tombstoned row (deleted_at set) never changes
-- again, and a row only takes data whose Clerk updated_at is at least as new
-- as what it holds. Stub rows have a NULL clerk_updated_at, so any real event
-- fills them in. A guarded upsert that changes nothing returns no row.

-- name: UpsertUser :one
INSERT INTO users (clerk_id, email, first_name, last_name, image_url, public_metadata, stub, clerk_created_at, clerk_updated_at)
VALUES (sqlc.arg(clerk_id), sqlc.arg(email), sqlc.arg(first_name), sqlc.arg(last_name), sqlc.arg(image_url),
        sqlc.arg(public_metadata), false, sqlc.narg(clerk_created_at), sqlc.narg(clerk_updated_at))
ON CONFLICT (clerk_id) DO UPDATE SET
    email            = EXCLUDED.email,
    first_name       = EXCLUDED.first_name,
    last_name        = EXCLUDED.last_name,
    image_url        = EXCLUDED.image_url,
    public_metadata  = EXCLUDED.public_metadata,
    stub             = false,
    clerk_created_at = COALESCE(EXCLUDED.clerk_created_at, users.clerk_created_at),
    clerk_updated_at = EXCLUDED.clerk_updated_at,
    updated_at       = now()
WHERE users.deleted_at IS NULL
  AND (users.clerk_updated_at IS NULL OR users.clerk_updated_at <= EXCLUDED.clerk_updated_at)
RETURNING id;

-- name: EnsureUserStub :exec
-- A placeholder for a user we have only seen inside a membership. It never
-- overwrites anything: the real user.created fills it in later.
INSERT INTO users (clerk_id, email, first_name, last_name, image_url, stub)
VALUES (sqlc.arg(clerk_id), sqlc.arg(email), sqlc.arg(first_name), sqlc.arg(last_name), sqlc.arg(image_url), true)
ON CONFLICT (clerk_id) DO NOTHING;

-- name: TombstoneUser :one
-- Deletes win: the row (created if it was never seen) is marked deleted and
-- its personal data is cleared. Returns no row when it was already deleted.
INSERT INTO users (clerk_id, deleted_at, clerk_updated_at)
VALUES (sqlc.arg(clerk_id), sqlc.arg(deleted_at), sqlc.arg(deleted_at))
ON CONFLICT (clerk_id) DO UPDATE SET
    deleted_at      = EXCLUDED.deleted_at,
    email           = '',
    first_name      = '',
    last_name       = '',
    image_url       = '',
    public_metadata = '{}',
    updated_at      = now()
WHERE users.deleted_at IS NULL
RETURNING id;

-- name: TombstoneUserMemberships :execrows
UPDATE memberships SET deleted_at = sqlc.arg(deleted_at), updated_at = now()
WHERE user_id = sqlc.arg(user_id) AND deleted_at IS NULL;

-- name: UpsertOrganization :one
INSERT INTO organizations (clerk_id, name, slug, image_url, plan, public_metadata, stub, clerk_created_at, clerk_updated_at)
VALUES (sqlc.arg(clerk_id), sqlc.arg(name), sqlc.arg(slug), sqlc.arg(image_url), sqlc.arg(plan),
        sqlc.arg(public_metadata), false, sqlc.narg(clerk_created_at), sqlc.narg(clerk_updated_at))
ON CONFLICT (clerk_id) DO UPDATE SET
    name             = EXCLUDED.name,
    slug             = EXCLUDED.slug,
    image_url        = EXCLUDED.image_url,
    plan             = EXCLUDED.plan,
    public_metadata  = EXCLUDED.public_metadata,
    stub             = false,
    clerk_created_at = COALESCE(EXCLUDED.clerk_created_at, organizations.clerk_created_at),
    clerk_updated_at = EXCLUDED.clerk_updated_at,
    updated_at       = now()
WHERE organizations.deleted_at IS NULL
  AND (organizations.clerk_updated_at IS NULL OR organizations.clerk_updated_at <= EXCLUDED.clerk_updated_at)
RETURNING id;

-- name: EnsureOrganizationStub :exec
INSERT INTO organizations (clerk_id, name, slug, image_url, plan, stub)
VALUES (sqlc.arg(clerk_id), sqlc.arg(name), sqlc.arg(slug), sqlc.arg(image_url), sqlc.arg(plan), true)
ON CONFLICT (clerk_id) DO NOTHING;

-- name: TombstoneOrganization :one
INSERT INTO organizations (clerk_id, deleted_at, clerk_updated_at)
VALUES (sqlc.arg(clerk_id), sqlc.arg(deleted_at), sqlc.arg(deleted_at))
ON CONFLICT (clerk_id) DO UPDATE SET deleted_at = EXCLUDED.deleted_at, updated_at = now()
WHERE organizations.deleted_at IS NULL
RETURNING id;

-- name: TombstoneOrganizationMemberships :execrows
UPDATE memberships SET deleted_at = sqlc.arg(deleted_at), updated_at = now()
WHERE organization_id = sqlc.arg(organization_id) AND deleted_at IS NULL;

-- name: LockMembershipParties :one
-- Share-locks the user and organisation rows so that a concurrent
-- user.deleted or organization.deleted either sees this membership or is seen
-- by it: without the lock, both could commit and leave a live membership of
-- a deleted user.
SELECT u.id AS user_id, (u.deleted_at IS NOT NULL)::boolean AS user_deleted,
       o.id AS organization_id, (o.deleted_at IS NOT NULL)::boolean AS organization_deleted
FROM users u, organizations o
WHERE u.clerk_id = sqlc.arg(user_clerk_id) AND o.clerk_id = sqlc.arg(organization_clerk_id)
FOR SHARE OF u, o;

-- name: SupersedeMemberships :one
-- Clerk allows one membership per user and organisation. When a newer
-- membership arrives, an older live one (a removal we have not heard of yet)
-- is tombstoned. Returns how many live memberships are newer than this one,
-- in which case the caller treats the event as stale. The count asks for
-- "newer" explicitly rather than "not superseded": a row that a concurrent
-- transaction tombstoned is skipped by the UPDATE but still live in this
-- statement's snapshot, and must not count. (A data-modifying WITH runs
-- whether or not the query refers to it.)
WITH superseded AS (
    UPDATE memberships m SET deleted_at = now(), updated_at = now()
    WHERE m.organization_id = sqlc.arg(organization_id) AND m.user_id = sqlc.arg(user_id)
      AND m.clerk_id <> sqlc.arg(clerk_id) AND m.deleted_at IS NULL
      AND (m.clerk_updated_at IS NULL OR m.clerk_updated_at <= sqlc.narg(clerk_updated_at))
    RETURNING m.id
)
SELECT count(*) FROM memberships m
WHERE m.organization_id = sqlc.arg(organization_id) AND m.user_id = sqlc.arg(user_id)
  AND m.clerk_id <> sqlc.arg(clerk_id) AND m.deleted_at IS NULL
  AND m.clerk_updated_at > sqlc.narg(clerk_updated_at);

-- name: UpsertMembership :one
INSERT INTO memberships (clerk_id, organization_id, user_id, role, permissions, clerk_created_at, clerk_updated_at, deleted_at)
VALUES (sqlc.arg(clerk_id), sqlc.arg(organization_id), sqlc.arg(user_id), sqlc.arg(role), sqlc.arg(permissions),
        sqlc.narg(clerk_created_at), sqlc.narg(clerk_updated_at), sqlc.narg(deleted_at))
ON CONFLICT (clerk_id) DO UPDATE SET
    role             = EXCLUDED.role,
    permissions      = EXCLUDED.permissions,
    clerk_created_at = COALESCE(EXCLUDED.clerk_created_at, memberships.clerk_created_at),
    clerk_updated_at = COALESCE(EXCLUDED.clerk_updated_at, memberships.clerk_updated_at),
    deleted_at       = EXCLUDED.deleted_at,
    updated_at       = now()
WHERE memberships.deleted_at IS NULL
  AND (EXCLUDED.deleted_at IS NOT NULL
       OR memberships.clerk_updated_at IS NULL
       OR memberships.clerk_updated_at <= EXCLUDED.clerk_updated_at)
RETURNING id;

-- name: UpsertInvitation :one
-- An invitation never goes back from accepted or revoked to pending, and
-- invitations of a deleted organisation are not recorded.
INSERT INTO invitations (clerk_id, organization_id, email, role, status, clerk_created_at, clerk_updated_at)
SELECT sqlc.arg(clerk_id), o.id, sqlc.arg(email), sqlc.arg(role), sqlc.arg(status),
       sqlc.narg(clerk_created_at), sqlc.narg(clerk_updated_at)
FROM organizations o
WHERE o.clerk_id = sqlc.arg(organization_clerk_id) AND o.deleted_at IS NULL
ON CONFLICT (clerk_id) DO UPDATE SET
    email            = EXCLUDED.email,
    role             = EXCLUDED.role,
    status           = EXCLUDED.status,
    clerk_created_at = COALESCE(EXCLUDED.clerk_created_at, invitations.clerk_created_at),
    clerk_updated_at = EXCLUDED.clerk_updated_at,
    updated_at       = now()
WHERE (invitations.clerk_updated_at IS NULL OR invitations.clerk_updated_at <= EXCLUDED.clerk_updated_at)
  AND NOT (invitations.status IN ('accepted', 'revoked') AND EXCLUDED.status = 'pending')
RETURNING id;

-- name: RecordRevokedSession :one
INSERT INTO revoked_sessions (session_id, user_clerk_id, reason, revoked_at)
VALUES (sqlc.arg(session_id), sqlc.arg(user_clerk_id), sqlc.arg(reason), sqlc.arg(revoked_at))
ON CONFLICT (session_id) DO NOTHING
RETURNING session_id;

-- name: NotifySessionRevoked :exec
-- Tells every instance's authentication middleware (LISTEN session_revoked,
-- clerksync.WatchRevocations) that a session is revoked. PostgreSQL delivers
-- the notification when the transaction commits, and never if it rolls back.
SELECT pg_notify('session_revoked', sqlc.arg(session_id)::text);

-- name: ListRevokedSessionsSince :many
-- The revocations the authentication middleware must still refuse tokens
-- for, loaded at start and whenever the listener reconnects.
SELECT session_id, revoked_at FROM revoked_sessions WHERE revoked_at > sqlc.arg(since);

-- name: ListLiveUsersForReconcile :many
SELECT clerk_id, email, first_name, last_name, image_url, public_metadata, stub,
       clerk_updated_at, COALESCE(clerk_created_at, created_at)::timestamptz AS first_seen
FROM users WHERE deleted_at IS NULL;

-- name: ListLiveOrganizationsForReconcile :many
SELECT clerk_id, name, slug, image_url, plan, public_metadata, stub,
       clerk_updated_at, COALESCE(clerk_created_at, created_at)::timestamptz AS first_seen
FROM organizations WHERE deleted_at IS NULL;

-- name: ListLiveMembershipsForReconcile :many
SELECT m.clerk_id, m.role, m.permissions, m.clerk_updated_at,
       COALESCE(m.clerk_created_at, m.created_at)::timestamptz AS first_seen,
       u.clerk_id AS user_clerk_id, o.clerk_id AS organization_clerk_id
FROM memberships m
JOIN users u ON u.id = m.user_id
JOIN organizations o ON o.id = m.organization_id
WHERE m.deleted_at IS NULL;

-- name: TombstoneMembershipByClerkID :one
UPDATE memberships SET deleted_at = sqlc.arg(deleted_at), updated_at = now()
WHERE clerk_id = sqlc.arg(clerk_id) AND deleted_at IS NULL
RETURNING id;
