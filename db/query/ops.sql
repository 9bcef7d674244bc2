-- Operator console (handlers/ops): deployment-wide reads, no org scope.
-- Search arguments are LIKE patterns the handler has escaped.

-- name: OpsSearchUsers :many
SELECT u.clerk_id, u.email, u.first_name, u.last_name, u.stub, u.deleted_at, u.clerk_created_at,
       COALESCE(u.public_metadata->'operator' = 'true'::jsonb, false)::bool AS operator,
       (SELECT count(*) FROM memberships m WHERE m.user_id = u.id AND m.deleted_at IS NULL) AS orgs
FROM users u
WHERE sqlc.arg(search)::text = ''
   OR u.clerk_id = sqlc.arg(search)
   OR u.email ILIKE '%' || sqlc.arg(search) || '%' ESCAPE '\'
   OR (u.first_name || ' ' || u.last_name) ILIKE '%' || sqlc.arg(search) || '%' ESCAPE '\'
ORDER BY u.deleted_at IS NOT NULL, u.clerk_created_at DESC NULLS LAST, u.id DESC
LIMIT sqlc.arg(max_rows);

-- name: OpsSearchOrganizations :many
SELECT o.clerk_id, o.name, o.slug, o.plan, o.stub, o.deleted_at, o.clerk_created_at,
       (SELECT count(*) FROM memberships m WHERE m.organization_id = o.id AND m.deleted_at IS NULL) AS members
FROM organizations o
WHERE sqlc.arg(search)::text = ''
   OR o.clerk_id = sqlc.arg(search)
   OR o.name ILIKE '%' || sqlc.arg(search) || '%' ESCAPE '\'
   OR o.slug ILIKE '%' || sqlc.arg(search) || '%' ESCAPE '\'
ORDER BY o.deleted_at IS NOT NULL, o.clerk_created_at DESC NULLS LAST, o.id DESC
LIMIT sqlc.arg(max_rows);

-- name: OpsSyncHealth :one
-- Sync health over the last hour: deliveries, failures, and lag (from the
-- envelope's timestamp to when the app processed it), plus the newest
-- delivery and the failures still unresolved at any age.
SELECT
    count(*) FILTER (WHERE received_at > now() - interval '1 hour') AS deliveries_last_hour,
    count(*) FILTER (WHERE received_at > now() - interval '1 hour' AND status = 'failed') AS failed_last_hour,
    count(*) FILTER (WHERE status = 'failed') AS failed_total,
    COALESCE(max(received_at), 'epoch'::timestamptz)::timestamptz AS last_received_at,
    COALESCE(EXTRACT(EPOCH FROM max(processed_at - event_at) FILTER (
        WHERE received_at > now() - interval '1 hour' AND event_at IS NOT NULL)), 0)::float8 AS max_lag_seconds,
    COALESCE(EXTRACT(EPOCH FROM avg(processed_at - event_at) FILTER (
        WHERE received_at > now() - interval '1 hour' AND event_at IS NOT NULL)), 0)::float8 AS avg_lag_seconds
FROM webhook_events;

-- name: OpsGetOrganization :one
-- One organisation for the operator's plan screen, by Clerk id.
SELECT o.clerk_id, o.name, o.slug, o.plan, o.public_metadata, o.stub, o.deleted_at,
       (SELECT count(*) FROM memberships m WHERE m.organization_id = o.id AND m.deleted_at IS NULL) AS members
FROM organizations o
WHERE o.clerk_id = sqlc.arg(clerk_id);
