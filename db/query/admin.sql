-- Organisation admin screens (handlers/admin). Every query is scoped by the
-- organisation's database id, which handlers only get from AdminOrgScope:
-- the org of the caller's session claims, joined with the caller's live
-- membership.

-- name: AdminOrgScope :one
-- The active organisation and the caller's role in it according to the
-- database. A caller whose membership was removed (by webhook) gets an empty
-- role at once, not when the 60 s token expires.
SELECT o.id, o.clerk_id, o.name, o.slug, o.image_url, o.plan, o.public_metadata,
       COALESCE(cm.role, '')::text AS caller_role
FROM organizations o
LEFT JOIN (memberships cm JOIN users cu ON cu.id = cm.user_id AND cu.clerk_id = sqlc.arg(caller_clerk_id))
       ON cm.organization_id = o.id AND cm.deleted_at IS NULL
WHERE o.clerk_id = sqlc.arg(org_clerk_id) AND o.deleted_at IS NULL;

-- name: AdminListMembers :many
-- Live members, searched by name or email (search is a lower-cased LIKE
-- pattern the handler has escaped, matched against sort_name, which holds
-- both, lower-cased), admins first, then by name and email (sort_name),
-- then by membership id: a keyset page after the cursor (not_admin,
-- sort_name, membership_id) of the last row shown. The first page passes
-- (false, '', 0), which sorts before every row. The order is that of the
-- index memberships_org_sort, so a page reads max_rows entries, whatever
-- the organisation's size.
SELECT m.id AS membership_id, (m.role <> 'org:admin')::bool AS not_admin, m.sort_name,
       u.clerk_id AS user_id, u.email, u.first_name, u.last_name, u.image_url, m.role,
       m.clerk_created_at AS joined_at
FROM memberships m
JOIN users u ON u.id = m.user_id
WHERE m.organization_id = sqlc.arg(org_id) AND m.deleted_at IS NULL AND u.deleted_at IS NULL
  AND ((m.role <> 'org:admin'), m.sort_name, m.id)
      > (sqlc.arg(after_not_admin)::bool, sqlc.arg(after_sort_name)::text, sqlc.arg(after_id)::bigint)
  AND (sqlc.arg(search)::text = '' OR m.sort_name LIKE '%' || sqlc.arg(search) || '%' ESCAPE '\')
ORDER BY (m.role <> 'org:admin'), m.sort_name, m.id
-- A page of 20 (handlers/admin pageSize) and one more, which says whether
-- there is a next page. A constant, so that PostgreSQL keeps one plan
-- rather than planning every request (see dashboard.sql).
LIMIT 21;

-- name: AdminCountMembers :one
-- The organisation's live members, from the counter the triggers keep.
SELECT COALESCE((SELECT s.members FROM organization_stats s WHERE s.organization_id = sqlc.arg(org_id)), 0)::bigint;

-- name: AdminGetMember :one
-- One live member, for re-rendering a row while a change is pending.
SELECT u.clerk_id AS user_id, u.email, u.first_name, u.last_name, u.image_url, m.role,
       m.clerk_created_at AS joined_at
FROM memberships m
JOIN users u ON u.id = m.user_id
WHERE m.organization_id = sqlc.arg(org_id) AND u.clerk_id = sqlc.arg(user_clerk_id)
  AND m.deleted_at IS NULL AND u.deleted_at IS NULL;

-- name: AdminListInvitations :many
-- Pending invitations, newest first.
SELECT clerk_id, email, role, status, clerk_created_at
FROM invitations
WHERE organization_id = sqlc.arg(org_id) AND status = 'pending'
ORDER BY clerk_created_at DESC NULLS LAST, id DESC
LIMIT 200;

-- name: AdminGetInvitation :one
SELECT clerk_id, email, role, status, clerk_created_at
FROM invitations
WHERE organization_id = sqlc.arg(org_id) AND clerk_id = sqlc.arg(clerk_id);

-- name: AdminListAudit :many
-- The organisation's audit log, newest first, with the actor's name when
-- the actor is a known user. People and organisations are shown by the
-- identity provider's current id (entries store row ids, query audit.sql).
-- A keyset page: the entries before the cursor (created_at, id) of the last
-- row shown; the first page passes ('infinity', max bigint). It walks the
-- index audit_log_org.
SELECT a.id, COALESCE(u.clerk_id, a.actor)::text AS actor, COALESCE(iu.clerk_id, a.impersonator)::text AS impersonator,
       a.action, COALESCE(tu.clerk_id, tor.clerk_id, a.target)::text AS target, a.details, a.created_at,
       COALESCE(NULLIF(trim(u.first_name || ' ' || u.last_name), ''), u.email, '')::text AS actor_name
FROM audit_log a
LEFT JOIN users u ON u.id = a.actor_id
LEFT JOIN users iu ON iu.id = a.impersonator_id
LEFT JOIN users tu ON tu.id = a.target_user_id
LEFT JOIN organizations tor ON tor.id = a.target_organization_id
WHERE a.organization_id = sqlc.arg(org_id)
  AND (a.created_at, a.id) < (sqlc.arg(before_at)::timestamptz, sqlc.arg(before_id)::bigint)
ORDER BY a.created_at DESC, a.id DESC
-- A page and one more, a constant, as in AdminListMembers.
LIMIT 21;
