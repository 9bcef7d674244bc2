-- The caller's organisations and the active one. Every query takes the
-- caller's Clerk user id (from the verified session, never from input) and
-- joins their live membership, so a member removed by webhook sees nothing
-- from the next request on. Organisation ids come from the session's claims.

-- name: ListMyMemberships :many
-- The /orgs page: every live organisation the caller is a live member of.
SELECT o.clerk_id, o.name, o.slug, o.image_url, o.plan, m.role,
       (SELECT count(*) FROM memberships mm
        WHERE mm.organization_id = o.id AND mm.deleted_at IS NULL)::bigint AS members_count
FROM memberships m
JOIN organizations o ON o.id = m.organization_id AND o.deleted_at IS NULL
WHERE m.user_id = (SELECT u.id FROM users u WHERE u.clerk_id = sqlc.arg(user_clerk_id) AND u.deleted_at IS NULL)
  AND m.deleted_at IS NULL
ORDER BY lower(o.name), o.id;

-- name: GetOrgForMember :one
-- The active organisation with the caller's role and its member count (kept
-- by triggers in organization_stats, so the cost does not grow with the
-- organisation); no row when the caller is not (or no longer) a live member.
SELECT o.id, o.clerk_id, o.name, o.slug, o.image_url, o.plan,
       COALESCE(o.clerk_created_at, o.created_at)::timestamptz AS created_at,
       m.role,
       COALESCE((SELECT st.members FROM organization_stats st WHERE st.organization_id = o.id), 0)::bigint AS members_count
FROM organizations o
JOIN memberships m ON m.organization_id = o.id AND m.deleted_at IS NULL
 AND m.user_id = (SELECT u.id FROM users u WHERE u.clerk_id = sqlc.arg(user_clerk_id) AND u.deleted_at IS NULL)
WHERE o.clerk_id = sqlc.arg(org_clerk_id) AND o.deleted_at IS NULL;

-- name: GetOrgAccess :one
-- Why a membership-joined query found nothing: the organisation is not
-- synced yet (no row) or deleted; the caller is a live member (the query
-- simply matched nothing); the caller's membership is gone (tombstoned, or
-- the user deleted); or it has not been synced yet. Reveals nothing to
-- anyone else: the organisation id comes from a verified token that Clerk
-- issued to a member.
SELECT (o.deleted_at IS NOT NULL)::boolean AS org_deleted,
       EXISTS (SELECT 1 FROM memberships m JOIN users u ON u.id = m.user_id
               WHERE m.organization_id = o.id AND u.clerk_id = sqlc.arg(user_clerk_id)
                 AND m.deleted_at IS NULL AND u.deleted_at IS NULL)::boolean AS live_member,
       EXISTS (SELECT 1 FROM memberships m JOIN users u ON u.id = m.user_id
               WHERE m.organization_id = o.id AND u.clerk_id = sqlc.arg(user_clerk_id))::boolean AS ever_member
FROM organizations o
WHERE o.clerk_id = sqlc.arg(org_clerk_id);

-- name: ListOrgMembers :many
-- Members of the active organisation, visible only to its live members.
-- The organisation is resolved (with the caller's membership) in a scalar
-- subquery, so the list is a walk of the index memberships_org_sort for one
-- known organisation, in its order: admins first, then by name.
SELECT u.clerk_id AS user_clerk_id, u.email, u.first_name, u.last_name, u.image_url, mm.role
FROM memberships mm
JOIN users u ON u.id = mm.user_id AND u.deleted_at IS NULL
WHERE mm.organization_id = (
        SELECT o.id FROM organizations o
        JOIN memberships m ON m.organization_id = o.id AND m.deleted_at IS NULL
         AND m.user_id = (SELECT cu.id FROM users cu WHERE cu.clerk_id = sqlc.arg(user_clerk_id) AND cu.deleted_at IS NULL)
        WHERE o.clerk_id = sqlc.arg(org_clerk_id) AND o.deleted_at IS NULL)
  AND mm.deleted_at IS NULL
ORDER BY (mm.role <> 'org:admin'), mm.sort_name, mm.id
LIMIT sqlc.arg(max_rows);
