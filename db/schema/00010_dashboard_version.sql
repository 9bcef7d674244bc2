-- +goose Up
-- A version per organisation for the dashboard's cache (handlers/dashboard):
-- every change to what the dashboard shows of the organisation itself bumps
-- it in the same transaction, so a request that reads the version knows
-- whether a cached dashboard is still the organisation's current one. The
-- counters' triggers (00009) bump it where they count, and three more
-- triggers cover the changes nothing counts: an organisation's name, slug,
-- image or plan, a member's role, a project's name. Every one of them
-- updates only the changed row's own organisation, at the statement that
-- changes the row, as the counters already do: no transaction locks two
-- organisations' rows, and the lock order of existing writers is unchanged.
--
-- Not versioned here, on purpose: audit entries (the dashboard compares the
-- current hour's bucket in audit_activity_hourly instead, which every new
-- entry increments: bumping this row from the audit trigger would make an
-- audit-only transaction lock it after the entry's advisory lock, the
-- reverse of a project write), and a person's name, email or picture (one
-- person is in many organisations; bumping all of them from a profile
-- update would lock several organisations' rows in one transaction). The
-- cache's lifetime (a minute at most, never past the hour) bounds how long
-- those show their old values.
ALTER TABLE organization_stats ADD COLUMN version bigint NOT NULL DEFAULT 0;

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION organization_stats_members() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.deleted_at IS NULL THEN
        UPDATE organization_stats SET members = members - 1, version = version + 1
        WHERE organization_id = OLD.organization_id;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.deleted_at IS NULL THEN
        UPDATE organization_stats SET members = members + 1, version = version + 1
        WHERE organization_id = NEW.organization_id;
    END IF;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION organization_stats_projects() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE organization_stats SET projects = projects - 1, version = version + 1
        WHERE organization_id = OLD.organization_id;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        UPDATE organization_stats SET projects = projects + 1, version = version + 1
        WHERE organization_id = NEW.organization_id;
    END IF;
    RETURN NULL;
END;
$$;

-- The row's organisation: organizations.id, or organization_id elsewhere.
CREATE FUNCTION organization_stats_bump() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'organizations' THEN
        UPDATE organization_stats SET version = version + 1 WHERE organization_id = NEW.id;
    ELSE
        UPDATE organization_stats SET version = version + 1 WHERE organization_id = NEW.organization_id;
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER organizations_version AFTER UPDATE OF name, slug, image_url, plan ON organizations
    FOR EACH ROW
    WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.slug IS DISTINCT FROM NEW.slug
          OR OLD.image_url IS DISTINCT FROM NEW.image_url OR OLD.plan IS DISTINCT FROM NEW.plan)
    EXECUTE FUNCTION organization_stats_bump();
CREATE TRIGGER memberships_version AFTER UPDATE OF role ON memberships
    FOR EACH ROW WHEN (OLD.role IS DISTINCT FROM NEW.role AND NEW.deleted_at IS NULL)
    EXECUTE FUNCTION organization_stats_bump();
CREATE TRIGGER projects_version AFTER UPDATE OF name ON projects
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION organization_stats_bump();

-- +goose Down
DROP TRIGGER projects_version ON projects;
DROP TRIGGER memberships_version ON memberships;
DROP TRIGGER organizations_version ON organizations;
DROP FUNCTION organization_stats_bump();
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION organization_stats_members() RETURNS trigger
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

CREATE OR REPLACE FUNCTION organization_stats_projects() RETURNS trigger
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
-- +goose StatementEnd
ALTER TABLE organization_stats DROP COLUMN version;
