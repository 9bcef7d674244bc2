-- Operator console (handlers/ops): deployment-wide reads, no org scope.
-- Search arguments are LIKE patterns the handler has escaped; each search
-- matches one expression per table, which a trigram index serves
-- (users_search_trgm, organizations_search_trgm), and lists in the order of
-- users_directory / organizations_directory.

-- name: OpsListUsers :many
-- A page of every user: live ones first, then newest first (a stub, with
-- no creation time, sorts as oldest). A keyset page: the rows after the
-- cursor (live, sort_at, id) of the last row shown; the first page passes
-- (true, 'infinity', max bigint). 26: a page of 25 (handlers/ops) and one
-- more, which says whether there is a next page. The directory's listing
-- and its search are two statements, not one with "search = '' OR …": a
-- plan kept for that one would walk the whole table for a rare search.
SELECT u.id, u.clerk_id, u.email, u.first_name, u.last_name, u.stub, u.deleted_at, u.clerk_created_at,
       COALESCE(u.public_metadata->'operator' = 'true'::jsonb, false)::bool AS operator,
       (SELECT count(*) FROM memberships m WHERE m.user_id = u.id AND m.deleted_at IS NULL) AS orgs,
       (u.deleted_at IS NULL)::bool AS live,
       COALESCE(u.clerk_created_at, '-infinity'::timestamptz)::timestamptz AS sort_at
FROM users u
WHERE ((u.deleted_at IS NULL), COALESCE(u.clerk_created_at, '-infinity'::timestamptz), u.id)
      < (sqlc.arg(before_live)::bool, sqlc.arg(before_at)::timestamptz, sqlc.arg(before_id)::bigint)
ORDER BY (u.deleted_at IS NULL) DESC, COALESCE(u.clerk_created_at, '-infinity'::timestamptz) DESC, u.id DESC
LIMIT 26;

-- name: OpsSearchUsers :many
-- As OpsListUsers, for the users whose id is search or whose email or name
-- contains it (users_search_trgm).
SELECT u.id, u.clerk_id, u.email, u.first_name, u.last_name, u.stub, u.deleted_at, u.clerk_created_at,
       COALESCE(u.public_metadata->'operator' = 'true'::jsonb, false)::bool AS operator,
       (SELECT count(*) FROM memberships m WHERE m.user_id = u.id AND m.deleted_at IS NULL) AS orgs,
       (u.deleted_at IS NULL)::bool AS live,
       COALESCE(u.clerk_created_at, '-infinity'::timestamptz)::timestamptz AS sort_at
FROM users u
WHERE (u.clerk_id = sqlc.arg(search)
       OR (u.email || ' ' || u.first_name || ' ' || u.last_name) ILIKE '%' || sqlc.arg(search) || '%' ESCAPE '\')
  AND ((u.deleted_at IS NULL), COALESCE(u.clerk_created_at, '-infinity'::timestamptz), u.id)
      < (sqlc.arg(before_live)::bool, sqlc.arg(before_at)::timestamptz, sqlc.arg(before_id)::bigint)
ORDER BY (u.deleted_at IS NULL) DESC, COALESCE(u.clerk_created_at, '-infinity'::timestamptz) DESC, u.id DESC
LIMIT 26;

-- name: OpsListOrganizations :many
-- As OpsListUsers, for organisations.
SELECT o.id, o.clerk_id, o.name, o.slug, o.plan, o.stub, o.deleted_at, o.clerk_created_at,
       COALESCE((SELECT s.members FROM organization_stats s WHERE s.organization_id = o.id), 0)::bigint AS members,
       (o.deleted_at IS NULL)::bool AS live,
       COALESCE(o.clerk_created_at, '-infinity'::timestamptz)::timestamptz AS sort_at
FROM organizations o
WHERE ((o.deleted_at IS NULL), COALESCE(o.clerk_created_at, '-infinity'::timestamptz), o.id)
      < (sqlc.arg(before_live)::bool, sqlc.arg(before_at)::timestamptz, sqlc.arg(before_id)::bigint)
ORDER BY (o.deleted_at IS NULL) DESC, COALESCE(o.clerk_created_at, '-infinity'::timestamptz) DESC, o.id DESC
LIMIT 26;

-- name: OpsSearchOrganizations :many
-- As OpsSearchUsers, for organisations (organizations_search_trgm).
SELECT o.id, o.clerk_id, o.name, o.slug, o.plan, o.stub, o.deleted_at, o.clerk_created_at,
       COALESCE((SELECT s.members FROM organization_stats s WHERE s.organization_id = o.id), 0)::bigint AS members,
       (o.deleted_at IS NULL)::bool AS live,
       COALESCE(o.clerk_created_at, '-infinity'::timestamptz)::timestamptz AS sort_at
FROM organizations o
WHERE (o.clerk_id = sqlc.arg(search)
       OR (o.name || ' ' || o.slug) ILIKE '%' || sqlc.arg(search) || '%' ESCAPE '\')
  AND ((o.deleted_at IS NULL), COALESCE(o.clerk_created_at, '-infinity'::timestamptz), o.id)
      < (sqlc.arg(before_live)::bool, sqlc.arg(before_at)::timestamptz, sqlc.arg(before_id)::bigint)
ORDER BY (o.deleted_at IS NULL) DESC, COALESCE(o.clerk_created_at, '-infinity'::timestamptz) DESC, o.id DESC
LIMIT 26;

-- name: OpsSyncHealth :one
-- Sync health over the last hour: deliveries, failures, and lag (from the
-- envelope's timestamp to when the app processed it), plus the newest
-- delivery and the failures still unresolved at any age. Each part reads an
-- index range (the last hour of webhook_events_received, the partial index
-- of outcomes other than "applied"), never the whole log.
SELECT
    count(*) AS deliveries_last_hour,
    count(*) FILTER (WHERE h.status = 'failed') AS failed_last_hour,
    (SELECT count(*) FROM webhook_events f WHERE f.status = 'failed') AS failed_total,
    COALESCE((SELECT max(l.received_at) FROM webhook_events l), 'epoch'::timestamptz)::timestamptz AS last_received_at,
    COALESCE(EXTRACT(EPOCH FROM max(h.processed_at - h.event_at) FILTER (WHERE h.event_at IS NOT NULL)), 0)::float8 AS max_lag_seconds,
    COALESCE(EXTRACT(EPOCH FROM avg(h.processed_at - h.event_at) FILTER (WHERE h.event_at IS NOT NULL)), 0)::float8 AS avg_lag_seconds
FROM webhook_events h
WHERE h.received_at > now() - interval '1 hour';

-- name: OpsGetOrganization :one
-- One organisation for the operator's plan screen, by Clerk id.
SELECT o.clerk_id, o.name, o.slug, o.plan, o.public_metadata, o.stub, o.deleted_at,
       COALESCE((SELECT s.members FROM organization_stats s WHERE s.organization_id = o.id), 0)::bigint AS members
FROM organizations o
WHERE o.clerk_id = sqlc.arg(clerk_id);
