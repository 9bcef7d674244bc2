-- projects, the example org-scoped resource. Copy this pattern: every
-- statement names the active organisation (from the session's claims) and
-- joins the caller's live membership, so an id of another organisation, or a
-- caller removed by webhook, matches no row.

-- name: ListProjects :many
-- Newest first; after_id is the keyset cursor (0 = from the start) and
-- pattern an escaped ILIKE pattern ('' = everything).
-- The organisation is resolved (with the caller's membership) in a scalar
-- subquery, so the page is a walk of the index projects_org_id.
SELECT p.id, p.name, p.created_by, p.created_at, p.updated_at
FROM projects p
WHERE p.organization_id = (
        SELECT o.id FROM organizations o
        JOIN memberships m ON m.organization_id = o.id AND m.deleted_at IS NULL
         AND m.user_id = (SELECT u.id FROM users u WHERE u.clerk_id = sqlc.arg(user_clerk_id) AND u.deleted_at IS NULL)
        WHERE o.clerk_id = sqlc.arg(org_clerk_id) AND o.deleted_at IS NULL)
  AND (sqlc.arg(after_id)::bigint = 0 OR p.id < sqlc.arg(after_id))
  AND (sqlc.arg(pattern)::text = '' OR p.name ILIKE sqlc.arg(pattern) ESCAPE '\')
ORDER BY p.organization_id, p.id DESC
LIMIT sqlc.arg(max_rows);

-- name: CountProjects :one
-- The organisation's projects, or those matching pattern. Without a pattern
-- it is the counter in organization_stats, so a page costs the same at any
-- size; 0 for a caller who is not a live member.
SELECT COALESCE((
    SELECT CASE WHEN sqlc.arg(pattern)::text = '' THEN COALESCE(st.projects, 0)
                ELSE (SELECT count(*) FROM projects p
                      WHERE p.organization_id = o.id AND p.name ILIKE sqlc.arg(pattern) ESCAPE '\') END
    FROM organizations o
    JOIN memberships m ON m.organization_id = o.id AND m.deleted_at IS NULL
     AND m.user_id = (SELECT u.id FROM users u WHERE u.clerk_id = sqlc.arg(user_clerk_id) AND u.deleted_at IS NULL)
    LEFT JOIN organization_stats st ON st.organization_id = o.id
    WHERE o.clerk_id = sqlc.arg(org_clerk_id) AND o.deleted_at IS NULL), 0)::bigint;

-- name: GetProject :one
SELECT p.id, p.name, p.created_by, p.created_at, p.updated_at
FROM projects p
JOIN organizations o ON o.id = p.organization_id AND o.deleted_at IS NULL
JOIN memberships m ON m.organization_id = o.id AND m.deleted_at IS NULL
 AND m.user_id = (SELECT u.id FROM users u WHERE u.clerk_id = sqlc.arg(user_clerk_id) AND u.deleted_at IS NULL)
WHERE o.clerk_id = sqlc.arg(org_clerk_id) AND p.id = sqlc.arg(id);

-- name: CreateProject :one
-- Inserts nothing (no row) unless the caller is a live member.
INSERT INTO projects (organization_id, name, created_by)
SELECT o.id, sqlc.arg(name), sqlc.arg(user_clerk_id)
FROM organizations o
JOIN memberships m ON m.organization_id = o.id AND m.deleted_at IS NULL
 AND m.user_id = (SELECT u.id FROM users u WHERE u.clerk_id = sqlc.arg(user_clerk_id) AND u.deleted_at IS NULL)
WHERE o.clerk_id = sqlc.arg(org_clerk_id) AND o.deleted_at IS NULL
RETURNING id, name, created_by, created_at, updated_at;

-- name: RenameProject :one
UPDATE projects p SET name = sqlc.arg(name), updated_at = now()
FROM organizations o
JOIN memberships m ON m.organization_id = o.id AND m.deleted_at IS NULL
 AND m.user_id = (SELECT u.id FROM users u WHERE u.clerk_id = sqlc.arg(user_clerk_id) AND u.deleted_at IS NULL)
WHERE p.organization_id = o.id AND o.clerk_id = sqlc.arg(org_clerk_id) AND o.deleted_at IS NULL
  AND p.id = sqlc.arg(id)
RETURNING p.id, p.name, p.created_by, p.created_at, p.updated_at;

-- name: DeleteProject :one
DELETE FROM projects p
USING organizations o
JOIN memberships m ON m.organization_id = o.id AND m.deleted_at IS NULL
 AND m.user_id = (SELECT u.id FROM users u WHERE u.clerk_id = sqlc.arg(user_clerk_id) AND u.deleted_at IS NULL)
WHERE p.organization_id = o.id AND o.clerk_id = sqlc.arg(org_clerk_id) AND o.deleted_at IS NULL
  AND p.id = sqlc.arg(id)
RETURNING p.id, p.name;
