-- +goose Up
-- Cost that does not grow with an organisation's size: counters kept by
-- triggers instead of count(*) on every dashboard request, a sort key on
-- memberships so the members list is read in index order, and the indexes
-- every keyset-paginated list walks.

-- Trigram indexes serve the substring searches (ILIKE '%…%') of the members
-- list and the operator directory. pg_trgm is a trusted extension: the
-- database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Per-organisation counters: live members and projects. One row per
-- organisation, created with it.
CREATE TABLE organization_stats (
    organization_id bigint PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    members         bigint NOT NULL DEFAULT 0,
    projects        bigint NOT NULL DEFAULT 0
);

-- Audit entries per organisation and hour, for "activity this week": the
-- dashboard sums at most 169 rows instead of counting a week of entries.
CREATE TABLE audit_activity_hourly (
    organization_id bigint      NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    hour            timestamptz NOT NULL,
    entries         bigint      NOT NULL,
    PRIMARY KEY (organization_id, hour)
);

-- The counters are kept by row-level triggers that fire only when a row
-- changes what is counted (WHEN clauses), each one UPDATE of the
-- organisation's row (created with the organisation) or one upsert of an
-- hour's bucket. The app writes these rows one at a time (webhook sync,
-- project and audit writes), where this is the cheapest form; bulk loads
-- (web seed-large) disable the triggers and recount once. A cascade from a
-- deleted organisation finds no row to update.
-- +goose StatementBegin
CREATE FUNCTION organization_stats_new_org() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO organization_stats (organization_id) VALUES (NEW.id) ON CONFLICT DO NOTHING;
    RETURN NULL;
END;
$$;

CREATE FUNCTION organization_stats_members() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.deleted_at IS NULL THEN
        UPDATE organization_stats SET members = members - 1 WHERE organization_id = OLD.organization_id;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.deleted_at IS NULL THEN
        UPDATE organization_stats SET members = members + 1 WHERE organization_id = NEW.organization_id;
    END IF;
    RETURN NULL;
END;
$$;

CREATE FUNCTION organization_stats_projects() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE organization_stats SET projects = projects - 1 WHERE organization_id = OLD.organization_id;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        UPDATE organization_stats SET projects = projects + 1 WHERE organization_id = NEW.organization_id;
    END IF;
    RETURN NULL;
END;
$$;

-- An entry counts for its organisation once it has one: at insert, or when
-- the organisation's row arrives and links it (audit_log_link_org).
CREATE FUNCTION audit_activity_count() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.organization_id IS NOT NULL THEN
        UPDATE audit_activity_hourly SET entries = entries - 1
        WHERE organization_id = OLD.organization_id AND hour = date_trunc('hour', OLD.created_at);
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.organization_id IS NOT NULL THEN
        INSERT INTO audit_activity_hourly AS h (organization_id, hour, entries)
        VALUES (NEW.organization_id, date_trunc('hour', NEW.created_at), 1)
        ON CONFLICT (organization_id, hour) DO UPDATE SET entries = h.entries + 1;
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER organizations_stats AFTER INSERT ON organizations
    FOR EACH ROW EXECUTE FUNCTION organization_stats_new_org();
CREATE TRIGGER memberships_stats_ins AFTER INSERT ON memberships
    FOR EACH ROW WHEN (NEW.deleted_at IS NULL) EXECUTE FUNCTION organization_stats_members();
CREATE TRIGGER memberships_stats_upd AFTER UPDATE OF deleted_at, organization_id ON memberships
    FOR EACH ROW
    WHEN ((OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL) OR OLD.organization_id <> NEW.organization_id)
    EXECUTE FUNCTION organization_stats_members();
CREATE TRIGGER memberships_stats_del AFTER DELETE ON memberships
    FOR EACH ROW WHEN (OLD.deleted_at IS NULL) EXECUTE FUNCTION organization_stats_members();
CREATE TRIGGER projects_stats_ins AFTER INSERT ON projects
    FOR EACH ROW EXECUTE FUNCTION organization_stats_projects();
CREATE TRIGGER projects_stats_upd AFTER UPDATE OF organization_id ON projects
    FOR EACH ROW WHEN (OLD.organization_id <> NEW.organization_id) EXECUTE FUNCTION organization_stats_projects();
CREATE TRIGGER projects_stats_del AFTER DELETE ON projects
    FOR EACH ROW EXECUTE FUNCTION organization_stats_projects();
CREATE TRIGGER audit_log_activity_ins AFTER INSERT ON audit_log
    FOR EACH ROW WHEN (NEW.organization_id IS NOT NULL) EXECUTE FUNCTION audit_activity_count();
CREATE TRIGGER audit_log_activity_upd AFTER UPDATE OF organization_id, created_at ON audit_log
    FOR EACH ROW
    WHEN (OLD.organization_id IS DISTINCT FROM NEW.organization_id OR OLD.created_at <> NEW.created_at)
    EXECUTE FUNCTION audit_activity_count();
CREATE TRIGGER audit_log_activity_del AFTER DELETE ON audit_log
    FOR EACH ROW WHEN (OLD.organization_id IS NOT NULL) EXECUTE FUNCTION audit_activity_count();

INSERT INTO organization_stats (organization_id, members, projects)
SELECT o.id,
       (SELECT count(*) FROM memberships m WHERE m.organization_id = o.id AND m.deleted_at IS NULL),
       (SELECT count(*) FROM projects p WHERE p.organization_id = o.id)
FROM organizations o;
INSERT INTO audit_activity_hourly (organization_id, hour, entries)
SELECT organization_id, date_trunc('hour', created_at), count(*)
FROM audit_log WHERE organization_id IS NOT NULL GROUP BY 1, 2;

-- The members list's order, stored on the membership so that the list (and
-- the dashboard's preview) is read in index order: the member's name, then
-- email, lower-cased. Kept in step with the user by the triggers below.
ALTER TABLE memberships ADD COLUMN sort_name text NOT NULL DEFAULT '';
-- +goose StatementBegin
CREATE FUNCTION member_sort_name(first_name text, last_name text, email text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT lower(first_name || ' ' || last_name || ' <' || email || '>');
$$;

CREATE FUNCTION memberships_fill_sort_name() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    SELECT member_sort_name(u.first_name, u.last_name, u.email) INTO NEW.sort_name FROM users u WHERE u.id = NEW.user_id;
    NEW.sort_name := COALESCE(NEW.sort_name, '');
    RETURN NEW;
END;
$$;

CREATE FUNCTION users_sync_sort_name() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE memberships SET sort_name = member_sort_name(NEW.first_name, NEW.last_name, NEW.email)
    WHERE user_id = NEW.id;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER memberships_sort_name BEFORE INSERT OR UPDATE OF user_id ON memberships
    FOR EACH ROW EXECUTE FUNCTION memberships_fill_sort_name();
CREATE TRIGGER users_sort_name AFTER UPDATE OF first_name, last_name, email ON users
    FOR EACH ROW
    WHEN (OLD.first_name IS DISTINCT FROM NEW.first_name OR OLD.last_name IS DISTINCT FROM NEW.last_name
          OR OLD.email IS DISTINCT FROM NEW.email)
    EXECUTE FUNCTION users_sync_sort_name();
UPDATE memberships m SET sort_name = member_sort_name(u.first_name, u.last_name, u.email)
FROM users u WHERE u.id = m.user_id;

-- Members: admins first, then by sort_name, then membership id (the keyset).
CREATE INDEX memberships_org_sort ON memberships (organization_id, (role <> 'org:admin'), sort_name, id)
    WHERE deleted_at IS NULL;
-- A search of the members list matches sort_name (which holds the name and
-- the email, lower-cased) with LIKE: one indexed condition, which the
-- planner weighs well, rather than an OR of ILIKEs over two tables.
CREATE INDEX memberships_sort_name_trgm ON memberships USING gin (sort_name gin_trgm_ops) WHERE deleted_at IS NULL;

-- Projects, newest first by id (the dashboard preview and the projects list).
CREATE INDEX projects_org_id ON projects (organization_id, id DESC);

-- The delivery log, newest first with the id as the keyset tie-break; the
-- filters by type and by an outcome other than "applied" (the rare ones
-- worth filtering for) have their own.
DROP INDEX webhook_events_received;
DROP INDEX webhook_events_org;
CREATE INDEX webhook_events_received ON webhook_events (received_at DESC, id DESC);
CREATE INDEX webhook_events_org ON webhook_events (organization_id, received_at DESC, id DESC);
CREATE INDEX webhook_events_type ON webhook_events (type, received_at DESC, id DESC);
CREATE INDEX webhook_events_status ON webhook_events (status, received_at DESC, id DESC) WHERE status <> 'applied';
CREATE INDEX webhook_events_org_status ON webhook_events (organization_id, status, received_at DESC, id DESC)
    WHERE status <> 'applied';

-- The operator directory's keyset order, read backwards: live rows first,
-- newest first, stubs (no creation time) last.
CREATE INDEX users_directory ON users ((deleted_at IS NULL), COALESCE(clerk_created_at, '-infinity'::timestamptz), id);
CREATE INDEX organizations_directory ON organizations ((deleted_at IS NULL), COALESCE(clerk_created_at, '-infinity'::timestamptz), id);
-- Its searches match one lower-cased column per table (the operator's
-- search text against email and name, or name and slug, together) with
-- LIKE, through a trigram index: LIKE on a lower-cased column costs a
-- fraction of ILIKE when a row has to be tested.
ALTER TABLE users ADD COLUMN search text GENERATED ALWAYS AS (lower(email || ' ' || first_name || ' ' || last_name)) STORED;
ALTER TABLE organizations ADD COLUMN search text GENERATED ALWAYS AS (lower(name || ' ' || slug)) STORED;
CREATE INDEX users_search_trgm ON users USING gin (search gin_trgm_ops);
CREATE INDEX organizations_search_trgm ON organizations USING gin (search gin_trgm_ops);

-- +goose Down
DROP INDEX organizations_search_trgm;
DROP INDEX users_search_trgm;
ALTER TABLE organizations DROP COLUMN search;
ALTER TABLE users DROP COLUMN search;
DROP INDEX organizations_directory;
DROP INDEX users_directory;
DROP INDEX webhook_events_org_status;
DROP INDEX webhook_events_status;
DROP INDEX webhook_events_type;
DROP INDEX webhook_events_org;
DROP INDEX webhook_events_received;
CREATE INDEX webhook_events_received ON webhook_events (received_at DESC);
CREATE INDEX webhook_events_org ON webhook_events (organization_id, received_at DESC);
DROP INDEX projects_org_id;
DROP INDEX memberships_sort_name_trgm;
DROP INDEX memberships_org_sort;
DROP TRIGGER users_sort_name ON users;
DROP TRIGGER memberships_sort_name ON memberships;
DROP FUNCTION users_sync_sort_name();
DROP FUNCTION memberships_fill_sort_name();
DROP FUNCTION member_sort_name(text, text, text);
ALTER TABLE memberships DROP COLUMN sort_name;
DROP TRIGGER audit_log_activity_del ON audit_log;
DROP TRIGGER audit_log_activity_upd ON audit_log;
DROP TRIGGER audit_log_activity_ins ON audit_log;
DROP TRIGGER projects_stats_del ON projects;
DROP TRIGGER projects_stats_upd ON projects;
DROP TRIGGER projects_stats_ins ON projects;
DROP TRIGGER memberships_stats_del ON memberships;
DROP TRIGGER memberships_stats_upd ON memberships;
DROP TRIGGER memberships_stats_ins ON memberships;
DROP TRIGGER organizations_stats ON organizations;
DROP FUNCTION audit_activity_count();
DROP FUNCTION organization_stats_projects();
DROP FUNCTION organization_stats_members();
DROP FUNCTION organization_stats_new_org();
DROP TABLE audit_activity_hourly;
DROP TABLE organization_stats;
