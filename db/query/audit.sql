-- The org-scoped audit log: admin actions written by the app (internal/audit)
-- and membership changes written by the trigger of migration 00003.

-- name: InsertAuditEntry :exec
-- By Clerk id: an entry written right after creating an organisation through
-- the Backend API is shown once the webhook lands (the trigger of migration
-- 00003 fills in organization_id when the row exists, or when it arrives).
INSERT INTO audit_log (organization_clerk_id, actor, impersonator, action, target, details)
VALUES (sqlc.arg(org_clerk_id), sqlc.arg(actor), sqlc.arg(impersonator), sqlc.arg(action),
        sqlc.arg(target), sqlc.arg(details));

-- name: ListAuditEntries :many
-- Newest first, for live members of the organisation only; actor names come
-- from the synced users.
SELECT a.id, a.actor, a.impersonator, a.action, a.target, a.details, a.created_at,
       COALESCE(NULLIF(trim(au.first_name || ' ' || au.last_name), ''), au.email, '')::text AS actor_name,
       COALESCE(NULLIF(trim(tu.first_name || ' ' || tu.last_name), ''), tu.email, '')::text AS target_name
FROM organizations o
JOIN memberships m ON m.organization_id = o.id AND m.deleted_at IS NULL
 AND m.user_id = (SELECT u.id FROM users u WHERE u.clerk_id = sqlc.arg(user_clerk_id) AND u.deleted_at IS NULL)
JOIN audit_log a ON a.organization_clerk_id = o.clerk_id
LEFT JOIN users au ON au.clerk_id = a.actor
LEFT JOIN users tu ON tu.clerk_id = a.target
WHERE o.clerk_id = sqlc.arg(org_clerk_id) AND o.deleted_at IS NULL
ORDER BY a.created_at DESC, a.id DESC
LIMIT sqlc.arg(max_rows);
