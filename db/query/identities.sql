-- The provider-neutral identity file (internal/identityfile): the export
-- reads users, organisations, memberships and pending invitations page by
-- page (keyset on id, inside one repeatable-read transaction), and the import
-- matches each line to its row and records the new provider's id.

-- name: ExportUsers :many
-- Live users after the keyset cursor, with every other provider's id.
SELECT u.id, u.clerk_id, u.email, u.first_name, u.last_name, u.image_url, u.public_metadata,
       COALESCE(u.clerk_created_at, u.created_at)::timestamptz AS created_at,
       COALESCE(u.clerk_updated_at, u.updated_at)::timestamptz AS updated_at,
       COALESCE((SELECT jsonb_object_agg(e.provider, e.external_id) FROM external_identities e
                 WHERE e.kind = 'user' AND e.app_id = u.id), '{}')::jsonb AS external_ids
FROM users u
WHERE u.deleted_at IS NULL AND u.id > sqlc.arg(after_id)
ORDER BY u.id
LIMIT sqlc.arg(max_rows);

-- name: ExportOrganizations :many
-- cross-tenant: the identity file covers the whole deployment (an operator's command).
SELECT o.id, o.clerk_id, o.name, o.slug, o.image_url, o.plan, o.public_metadata,
       COALESCE(o.clerk_created_at, o.created_at)::timestamptz AS created_at,
       COALESCE(o.clerk_updated_at, o.updated_at)::timestamptz AS updated_at,
       COALESCE((SELECT jsonb_object_agg(e.provider, e.external_id) FROM external_identities e
                 WHERE e.kind = 'organization' AND e.app_id = o.id), '{}')::jsonb AS external_ids
FROM organizations o
WHERE o.deleted_at IS NULL AND o.id > sqlc.arg(after_id)
ORDER BY o.id
LIMIT sqlc.arg(max_rows);

-- name: ExportMemberships :many
-- cross-tenant: the identity file covers the whole deployment (an operator's command).
-- Live memberships of live users in live organisations.
SELECT m.id, m.clerk_id, m.organization_id, m.user_id, m.role, m.permissions,
       COALESCE(m.clerk_created_at, m.created_at)::timestamptz AS created_at,
       COALESCE(m.clerk_updated_at, m.updated_at)::timestamptz AS updated_at,
       COALESCE((SELECT jsonb_object_agg(e.provider, e.external_id) FROM external_identities e
                 WHERE e.kind = 'membership' AND e.app_id = m.id), '{}')::jsonb AS external_ids
FROM memberships m
JOIN users u ON u.id = m.user_id AND u.deleted_at IS NULL
JOIN organizations o ON o.id = m.organization_id AND o.deleted_at IS NULL
WHERE m.deleted_at IS NULL AND m.id > sqlc.arg(after_id)
ORDER BY m.id
LIMIT sqlc.arg(max_rows);

-- name: ExportInvitations :many
-- cross-tenant: the identity file covers the whole deployment (an operator's command).
-- Pending invitations of live organisations.
SELECT i.id, i.clerk_id, i.organization_id, i.email, i.role, i.status,
       COALESCE(i.clerk_created_at, i.created_at)::timestamptz AS created_at,
       COALESCE(i.clerk_updated_at, i.updated_at)::timestamptz AS updated_at,
       COALESCE((SELECT jsonb_object_agg(e.provider, e.external_id) FROM external_identities e
                 WHERE e.kind = 'invitation' AND e.app_id = i.id), '{}')::jsonb AS external_ids
FROM invitations i
JOIN organizations o ON o.id = i.organization_id AND o.deleted_at IS NULL
WHERE i.status = 'pending' AND i.id > sqlc.arg(after_id)
ORDER BY i.id
LIMIT sqlc.arg(max_rows);

-- name: MatchUser :many
-- The live user a line names: by id, else by Clerk id, else by email (which
-- may match more than one; the caller refuses that). Each branch uses its
-- own index, except email, which scans: give ids for large imports.
SELECT u.id, u.clerk_id FROM users u
WHERE sqlc.arg(id)::bigint > 0 AND u.id = sqlc.arg(id) AND u.deleted_at IS NULL
UNION ALL
SELECT u.id, u.clerk_id FROM users u
WHERE sqlc.arg(id)::bigint = 0 AND sqlc.arg(clerk_id)::text <> '' AND u.clerk_id = sqlc.arg(clerk_id) AND u.deleted_at IS NULL
UNION ALL
SELECT u.id, u.clerk_id FROM users u
WHERE sqlc.arg(id)::bigint = 0 AND sqlc.arg(clerk_id)::text = '' AND sqlc.arg(email)::text <> ''
  AND lower(u.email) = lower(sqlc.arg(email)) AND u.deleted_at IS NULL
LIMIT 2;

-- name: MatchOrganization :many
-- cross-tenant: the identity file covers the whole deployment (an operator's command).
SELECT o.id, o.clerk_id FROM organizations o
WHERE sqlc.arg(id)::bigint > 0 AND o.id = sqlc.arg(id) AND o.deleted_at IS NULL
UNION ALL
SELECT o.id, o.clerk_id FROM organizations o
WHERE sqlc.arg(id)::bigint = 0 AND sqlc.arg(clerk_id)::text <> '' AND o.clerk_id = sqlc.arg(clerk_id) AND o.deleted_at IS NULL
LIMIT 2;

-- name: MatchMembership :many
-- cross-tenant: the identity file covers the whole deployment (an operator's command).
SELECT m.id, m.clerk_id FROM memberships m
WHERE sqlc.arg(id)::bigint > 0 AND m.id = sqlc.arg(id) AND m.deleted_at IS NULL
UNION ALL
SELECT m.id, m.clerk_id FROM memberships m
WHERE sqlc.arg(id)::bigint = 0 AND sqlc.arg(clerk_id)::text <> '' AND m.clerk_id = sqlc.arg(clerk_id) AND m.deleted_at IS NULL
LIMIT 2;

-- name: MatchInvitation :many
-- cross-tenant: the identity file covers the whole deployment (an operator's command).
SELECT i.id, i.clerk_id FROM invitations i
WHERE sqlc.arg(id)::bigint > 0 AND i.id = sqlc.arg(id)
UNION ALL
SELECT i.id, i.clerk_id FROM invitations i
WHERE sqlc.arg(id)::bigint = 0 AND sqlc.arg(clerk_id)::text <> '' AND i.clerk_id = sqlc.arg(clerk_id)
LIMIT 2;

-- name: GetExternalIdentity :one
-- A row's id at a provider.
SELECT external_id FROM external_identities
WHERE kind = sqlc.arg(kind) AND app_id = sqlc.arg(app_id) AND provider = sqlc.arg(provider);

-- name: FindExternalIdentity :one
-- The row a provider's id names: what a second provider's session
-- verification and webhook sync call to find the app's row.
SELECT app_id FROM external_identities
WHERE provider = sqlc.arg(provider) AND kind = sqlc.arg(kind) AND external_id = sqlc.arg(external_id);

-- name: PutExternalIdentity :exec
INSERT INTO external_identities (kind, app_id, provider, external_id)
VALUES (sqlc.arg(kind), sqlc.arg(app_id), sqlc.arg(provider), sqlc.arg(external_id))
ON CONFLICT (kind, app_id, provider) DO UPDATE SET external_id = EXCLUDED.external_id, updated_at = now();

-- name: SetUserClerkID :exec
-- Provider "clerk" (a move to another Clerk instance): the new instance's
-- ids replace the ones the running app looks rows up by.
UPDATE users SET clerk_id = sqlc.arg(clerk_id), updated_at = now() WHERE id = sqlc.arg(id);

-- name: SetOrganizationClerkID :exec
-- cross-tenant: the identity file covers the whole deployment (an operator's command).
UPDATE organizations SET clerk_id = sqlc.arg(clerk_id), updated_at = now() WHERE id = sqlc.arg(id);

-- name: SetMembershipClerkID :exec
-- cross-tenant: the identity file covers the whole deployment (an operator's command).
UPDATE memberships SET clerk_id = sqlc.arg(clerk_id), updated_at = now() WHERE id = sqlc.arg(id);

-- name: SetInvitationClerkID :exec
-- cross-tenant: the identity file covers the whole deployment (an operator's command).
UPDATE invitations SET clerk_id = sqlc.arg(clerk_id), updated_at = now() WHERE id = sqlc.arg(id);
