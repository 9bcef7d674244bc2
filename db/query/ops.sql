-- Operator console (handlers/ops): deployment-wide reads, no org scope.
-- Search arguments are lower-cased LIKE patterns the handler has escaped;
-- each search matches one lower-cased column per table, which a trigram
-- index serves
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
-- As OpsListUsers, for the users whose Clerk id is id or whose email or name
-- contains search (a lower-cased LIKE pattern, matched against the
-- lower-cased column users.search). The matches are found first (a
-- MATERIALIZED CTE, through users_clerk_id_key and users_search_trgm), then
-- paged: neither a plan PostgreSQL keeps for the statement nor the keyset
-- condition may lead it to walk the table in directory order testing each
-- row, which reads every row for a rare search.
WITH hit AS MATERIALIZED (
    SELECT u.id, u.clerk_id, u.email, u.first_name, u.last_name, u.stub, u.deleted_at, u.clerk_created_at,
           COALESCE(u.public_metadata->'operator' = 'true'::jsonb, false)::bool AS operator,
           (u.deleted_at IS NULL)::bool AS live,
           COALESCE(u.clerk_created_at, '-infinity'::timestamptz)::timestamptz AS sort_at
    FROM users u
    WHERE (u.clerk_id = sqlc.arg(id)::text OR u.search LIKE '%' || sqlc.arg(search)::text || '%' ESCAPE '\')
)
SELECT h.id, h.clerk_id, h.email, h.first_name, h.last_name, h.stub, h.deleted_at, h.clerk_created_at, h.operator,
       (SELECT count(*) FROM memberships m WHERE m.user_id = h.id AND m.deleted_at IS NULL) AS orgs,
       h.live, h.sort_at
FROM (SELECT * FROM hit
      WHERE (live, sort_at, id) < (sqlc.arg(before_live)::bool, sqlc.arg(before_at)::timestamptz, sqlc.arg(before_id)::bigint)
      ORDER BY live DESC, sort_at DESC, id DESC LIMIT 26) h
ORDER BY h.live DESC, h.sort_at DESC, h.id DESC;

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
-- As OpsSearchUsers, for organisations (organizations.search: name and
-- slug; organizations_search_trgm).
WITH hit AS MATERIALIZED (
    SELECT o.id, o.clerk_id, o.name, o.slug, o.plan, o.stub, o.deleted_at, o.clerk_created_at,
           (o.deleted_at IS NULL)::bool AS live,
           COALESCE(o.clerk_created_at, '-infinity'::timestamptz)::timestamptz AS sort_at
    FROM organizations o
    WHERE (o.clerk_id = sqlc.arg(id)::text OR o.search LIKE '%' || sqlc.arg(search)::text || '%' ESCAPE '\')
)
SELECT h.id, h.clerk_id, h.name, h.slug, h.plan, h.stub, h.deleted_at, h.clerk_created_at,
       COALESCE((SELECT s.members FROM organization_stats s WHERE s.organization_id = h.id), 0)::bigint AS members,
       h.live, h.sort_at
FROM (SELECT * FROM hit
      WHERE (live, sort_at, id) < (sqlc.arg(before_live)::bool, sqlc.arg(before_at)::timestamptz, sqlc.arg(before_id)::bigint)
      ORDER BY live DESC, sort_at DESC, id DESC LIMIT 26) h
ORDER BY h.live DESC, h.sort_at DESC, h.id DESC;

-- name: OpsSyncHealth :one
-- Sync health over the last hour: deliveries, failures, and lag (from the
-- envelope's timestamp to when the app processed it), plus the newest
-- delivery and the failures still unresolved at any age. Its cost is
-- bounded whatever the traffic: the deliveries are counted on
-- webhook_events_received alone, up to 1,001 (more than 1,000 is shown as
-- such); the lag is read from the newest 100 deliveries of the hour (each
-- one a row to fetch, so not more); the failures come from the partial index
-- of outcomes other than "applied", the newest delivery from
-- webhook_events_received.
WITH recent AS (
    SELECT r.processed_at, r.event_at
    FROM webhook_events r
    WHERE r.received_at > now() - interval '1 hour'
    ORDER BY r.received_at DESC, r.id DESC
    LIMIT 100
)
SELECT
    (SELECT count(*) FROM (SELECT 1 FROM webhook_events c WHERE c.received_at > now() - interval '1 hour'
                           ORDER BY c.received_at DESC, c.id DESC LIMIT 1001) n) AS deliveries_last_hour,
    (SELECT count(*) FROM webhook_events f
     WHERE f.status = 'failed' AND f.received_at > now() - interval '1 hour') AS failed_last_hour,
    (SELECT count(*) FROM webhook_events f WHERE f.status = 'failed') AS failed_total,
    COALESCE((SELECT max(l.received_at) FROM webhook_events l), 'epoch'::timestamptz)::timestamptz AS last_received_at,
    COALESCE((SELECT EXTRACT(EPOCH FROM max(processed_at - event_at)) FROM recent WHERE event_at IS NOT NULL), 0)::float8 AS max_lag_seconds,
    COALESCE((SELECT EXTRACT(EPOCH FROM avg(processed_at - event_at)) FROM recent WHERE event_at IS NOT NULL), 0)::float8 AS avg_lag_seconds;

-- name: OpsGetOrganization :one
-- One organisation for the operator's plan screen, by Clerk id.
SELECT o.clerk_id, o.name, o.slug, o.plan, o.public_metadata, o.stub, o.deleted_at,
       COALESCE((SELECT s.members FROM organization_stats s WHERE s.organization_id = o.id), 0)::bigint AS members
FROM organizations o
WHERE o.clerk_id = sqlc.arg(clerk_id);
