-- The dashboard in one statement, so that the page costs one round trip to
-- the database instead of one per section. The CTE "org" is the active
-- organisation (the Clerk id from the session's claims) joined with the
-- caller's live membership; every list and count below is scoped by its id,
-- so a caller who is not (or no longer) a live member gets no row at all.

-- name: GetDashboard :one
-- The organisation with the caller's role, the counts of the stats (kept by
-- triggers in organization_stats and audit_activity_hourly, so their cost
-- does not grow with the organisation; "this week" is the last 168 whole
-- hours plus the current one), and three previews (newest first, except
-- members: admins first, then by name): members, audit entries with the
-- actor's and target's names from the synced users (people and
-- organisations shown by the identity provider's current id, as in
-- audit.sql), and projects. Each preview comes as one array per column, in
-- the preview's order: pgx decodes arrays in binary, where JSON previews
-- cost the page a sixth of its CPU to parse. The arrays take the order of
-- their sorted, limited subquery, which feeds the aggregates directly (no
-- join, grouping or parallelism in between); an ORDER BY in each aggregate
-- would sort every column again, a sixth of the statement's cost. The
-- dashboard tests check each preview's order.
-- version and hour_entries say which state of the organisation the row is
-- (GetDashboardVersion, the dashboard's cache).
-- The preview sizes (8, 10 and 5, handlers/dashboard) are constants, not
-- arguments: with an argument as LIMIT the planner cannot cost a generic
-- plan, so PostgreSQL would plan the statement afresh on every request
-- (about 3 ms at 10,000 members); with constants it keeps one plan.
WITH org AS (
    SELECT o.id, o.clerk_id, o.name, o.slug, o.image_url, o.plan, m.role
    FROM organizations o
    JOIN memberships m ON m.organization_id = o.id AND m.deleted_at IS NULL
     AND m.user_id = (SELECT u.id FROM users u WHERE u.clerk_id = sqlc.arg(user_clerk_id) AND u.deleted_at IS NULL)
    WHERE o.clerk_id = sqlc.arg(org_clerk_id) AND o.deleted_at IS NULL
)
SELECT org.name, org.slug, org.image_url, org.plan, org.role,
       COALESCE(st.members, 0)::bigint AS members_count,
       COALESCE(st.projects, 0)::bigint AS projects_count,
       st.version AS version, date_trunc('hour', now())::timestamptz AS hour,
       COALESCE((SELECT h.entries FROM audit_activity_hourly h
                 WHERE h.organization_id = org.id AND h.hour = date_trunc('hour', now())), 0)::bigint AS hour_entries,
       (SELECT COALESCE(sum(h.entries), 0) FROM audit_activity_hourly h
        WHERE h.organization_id = org.id AND h.hour > now() - interval '7 days')::bigint AS recent_activity,
       mem.emails::text[] AS member_emails, mem.first_names::text[] AS member_first_names,
       mem.last_names::text[] AS member_last_names, mem.image_urls::text[] AS member_image_urls,
       mem.roles::text[] AS member_roles,
       act.actors::text[] AS activity_actors, act.actor_names::text[] AS activity_actor_names,
       act.impersonators::text[] AS activity_impersonators, act.actions::text[] AS activity_actions,
       act.targets::text[] AS activity_targets, act.target_names::text[] AS activity_target_names,
       act.details::jsonb[] AS activity_details, act.ats::timestamptz[] AS activity_ats,
       prj.ids::bigint[] AS project_ids, prj.names::text[] AS project_names,
       prj.created_ats::timestamptz[] AS project_created_ats
FROM org
LEFT JOIN organization_stats st ON st.organization_id = org.id
CROSS JOIN LATERAL (
    SELECT COALESCE(array_agg(l.email), '{}') AS emails,
           COALESCE(array_agg(l.first_name), '{}') AS first_names,
           COALESCE(array_agg(l.last_name), '{}') AS last_names,
           COALESCE(array_agg(l.image_url), '{}') AS image_urls,
           COALESCE(array_agg(l.role), '{}') AS roles
    FROM (SELECT u.email, u.first_name, u.last_name, u.image_url, mm.role
          FROM memberships mm
          JOIN users u ON u.id = mm.user_id AND u.deleted_at IS NULL
          WHERE mm.organization_id = org.id AND mm.deleted_at IS NULL
          ORDER BY (mm.role <> 'org:admin'), mm.sort_name, mm.id
          LIMIT 8) l
) mem
CROSS JOIN LATERAL (
    SELECT COALESCE(array_agg(l.actor), '{}') AS actors,
           COALESCE(array_agg(l.actor_name), '{}') AS actor_names,
           COALESCE(array_agg(l.impersonator), '{}') AS impersonators,
           COALESCE(array_agg(l.action), '{}') AS actions,
           COALESCE(array_agg(l.target), '{}') AS targets,
           COALESCE(array_agg(l.target_name), '{}') AS target_names,
           COALESCE(array_agg(l.details), '{}') AS details,
           COALESCE(array_agg(l.created_at), '{}') AS ats
    FROM (SELECT COALESCE(au.clerk_id, a.actor) AS actor, COALESCE(iu.clerk_id, a.impersonator) AS impersonator,
                 a.action, COALESCE(tu.clerk_id, tor.clerk_id, a.target) AS target, a.details, a.created_at,
                 COALESCE(NULLIF(trim(au.first_name || ' ' || au.last_name), ''), au.email, '') AS actor_name,
                 COALESCE(NULLIF(trim(tu.first_name || ' ' || tu.last_name), ''), tu.email, '') AS target_name
          FROM audit_log a
          LEFT JOIN users au ON au.id = a.actor_id
          LEFT JOIN users iu ON iu.id = a.impersonator_id
          LEFT JOIN users tu ON tu.id = a.target_user_id
          LEFT JOIN organizations tor ON tor.id = a.target_organization_id
          WHERE a.organization_id = org.id
          ORDER BY a.created_at DESC, a.id DESC
          LIMIT 10) l
) act
CROSS JOIN LATERAL (
    SELECT COALESCE(array_agg(l.id), '{}') AS ids,
           COALESCE(array_agg(l.name), '{}') AS names,
           COALESCE(array_agg(l.created_at), '{}') AS created_ats
    FROM (SELECT p.id, p.name, p.created_at
          FROM projects p
          WHERE p.organization_id = org.id
          ORDER BY p.organization_id, p.id DESC
          LIMIT 5) l
) prj;

-- name: GetDashboardVersion :one
-- The caller's live membership of the active organisation, with what tells
-- a cached dashboard from the current one: the organisation's version
-- (bumped by every change the dashboard shows but audit entries, migration
-- 00010), the current hour (when it turns, the week's count changes) and
-- its audit entries (incremented by every new entry). No row when the
-- caller is not (or no longer) a live member; a NULL version when the
-- organisation has no counters row (then nothing is cached).
SELECT o.id, m.role, st.version AS version, date_trunc('hour', now())::timestamptz AS hour,
       COALESCE((SELECT h.entries FROM audit_activity_hourly h
                 WHERE h.organization_id = o.id AND h.hour = date_trunc('hour', now())), 0)::bigint AS hour_entries
FROM organizations o
JOIN memberships m ON m.organization_id = o.id AND m.deleted_at IS NULL
 AND m.user_id = (SELECT u.id FROM users u WHERE u.clerk_id = sqlc.arg(user_clerk_id) AND u.deleted_at IS NULL)
LEFT JOIN organization_stats st ON st.organization_id = o.id
WHERE o.clerk_id = sqlc.arg(org_clerk_id) AND o.deleted_at IS NULL;
