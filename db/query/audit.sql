-- The org-scoped audit log: admin actions written by the app (internal/audit)
-- and membership changes written by the trigger of migration 00006. Entries
-- refer to people and organisations by row id; readers show the identity
-- provider's current id for them (or the name), so an entry keeps naming the
-- right person when the provider's ids change.

-- name: InsertAuditEntry :exec
-- Callers name everything by the identity provider's ids (what the session
-- claims and the Backend API give them); this statement turns each into the
-- row id. An id whose row has not been synced yet is kept as text, and the
-- triggers of migration 00006 link it when the row arrives: an organisation
-- created through the Backend API is audited before its webhook lands.
-- target_user and target_org name a person or organisation the action was
-- about; target is anything else (a project, invitation or delivery id).
WITH r AS (
    SELECT (SELECT u.id FROM users u WHERE u.clerk_id = sqlc.arg(actor)::text) AS actor_id,
           (SELECT u.id FROM users u WHERE u.clerk_id = sqlc.arg(impersonator)::text) AS impersonator_id,
           (SELECT u.id FROM users u WHERE u.clerk_id = sqlc.arg(target_user)::text) AS target_user_id,
           (SELECT o.id FROM organizations o WHERE o.clerk_id = sqlc.arg(target_org)::text) AS target_organization_id
)
INSERT INTO audit_log (organization_clerk_id, actor_id, actor, impersonator_id, impersonator, action,
                       target_user_id, target_organization_id, target, details)
SELECT sqlc.arg(org_clerk_id), r.actor_id, CASE WHEN r.actor_id IS NULL THEN sqlc.arg(actor)::text ELSE '' END,
       r.impersonator_id, CASE WHEN r.impersonator_id IS NULL THEN sqlc.arg(impersonator)::text ELSE '' END,
       sqlc.arg(action),
       r.target_user_id, r.target_organization_id,
       CASE WHEN r.target_user_id IS NOT NULL OR r.target_organization_id IS NOT NULL THEN ''
            ELSE COALESCE(NULLIF(sqlc.arg(target)::text, ''), NULLIF(sqlc.arg(target_user)::text, ''), sqlc.arg(target_org)::text) END,
       sqlc.arg(details)
FROM r;

-- name: ListAuditEntries :many
-- Newest first, for live members of the organisation only; names come from
-- the synced users.
SELECT a.id, COALESCE(au.clerk_id, a.actor)::text AS actor, COALESCE(iu.clerk_id, a.impersonator)::text AS impersonator,
       a.action, COALESCE(tu.clerk_id, tor.clerk_id, a.target)::text AS target, a.details, a.created_at,
       COALESCE(NULLIF(trim(au.first_name || ' ' || au.last_name), ''), au.email, '')::text AS actor_name,
       COALESCE(NULLIF(trim(tu.first_name || ' ' || tu.last_name), ''), tu.email, '')::text AS target_name
FROM organizations o
JOIN memberships m ON m.organization_id = o.id AND m.deleted_at IS NULL
 AND m.user_id = (SELECT u.id FROM users u WHERE u.clerk_id = sqlc.arg(user_clerk_id) AND u.deleted_at IS NULL)
JOIN audit_log a ON a.organization_id = o.id
LEFT JOIN users au ON au.id = a.actor_id
LEFT JOIN users iu ON iu.id = a.impersonator_id
LEFT JOIN users tu ON tu.id = a.target_user_id
LEFT JOIN organizations tor ON tor.id = a.target_organization_id
WHERE o.clerk_id = sqlc.arg(org_clerk_id) AND o.deleted_at IS NULL
ORDER BY a.created_at DESC, a.id DESC
LIMIT sqlc.arg(max_rows);
