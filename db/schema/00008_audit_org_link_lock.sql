-- +goose Up
-- An organisation created through the Backend API is audited by the app
-- while its organization.created webhook may be landing at the same moment.
-- Under READ COMMITTED neither transaction sees the other's row: the entry
-- looks for the organisation before it is committed, the organisation looks
-- for waiting entries before the entry is committed, and the entry is never
-- linked (it stays off the dashboard for good). Both sides now take the same
-- transaction-scoped advisory lock on the organisation's provider id before
-- they look, so the second one waits for the first to commit and then sees
-- its row: each statement inside a PL/pgSQL function takes a new snapshot.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION audit_org_lock(clerk_id text) RETURNS void
LANGUAGE sql AS $$
    SELECT pg_advisory_xact_lock(hashtextextended('audit_log.organization:' || clerk_id, 0));
$$;

CREATE OR REPLACE FUNCTION audit_log_fill_org() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.organization_id IS NULL AND NEW.organization_clerk_id <> '' THEN
        PERFORM audit_org_lock(NEW.organization_clerk_id);
        SELECT o.id INTO NEW.organization_id FROM organizations o WHERE o.clerk_id = NEW.organization_clerk_id;
        -- The statement resolved its target before the organisation was
        -- visible; an entry about the organisation itself names it by id.
        IF NEW.organization_id IS NOT NULL AND NEW.target = NEW.organization_clerk_id
           AND NEW.target_organization_id IS NULL AND NEW.target_user_id IS NULL THEN
            NEW.target_organization_id := NEW.organization_id;
            NEW.target := '';
        END IF;
    END IF;
    IF NEW.organization_id IS NOT NULL THEN
        NEW.organization_clerk_id := '';
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION audit_log_link_org() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM audit_org_lock(NEW.clerk_id);
    UPDATE audit_log SET
        organization_id        = NEW.id,
        organization_clerk_id  = '',
        target_organization_id = CASE WHEN target = NEW.clerk_id THEN NEW.id ELSE target_organization_id END,
        target                 = CASE WHEN target = NEW.clerk_id THEN '' ELSE target END
    WHERE organization_clerk_id = NEW.clerk_id AND organization_id IS NULL;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

-- Entries that an earlier race left unlinked.
UPDATE audit_log a SET
    organization_id        = o.id,
    organization_clerk_id  = '',
    target_organization_id = CASE WHEN a.target = o.clerk_id THEN o.id ELSE a.target_organization_id END,
    target                 = CASE WHEN a.target = o.clerk_id THEN '' ELSE a.target END
FROM organizations o
WHERE a.organization_id IS NULL AND a.organization_clerk_id <> '' AND o.clerk_id = a.organization_clerk_id;

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION audit_log_fill_org() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.organization_id IS NULL AND NEW.organization_clerk_id <> '' THEN
        SELECT o.id INTO NEW.organization_id FROM organizations o WHERE o.clerk_id = NEW.organization_clerk_id;
    END IF;
    IF NEW.organization_id IS NOT NULL THEN
        NEW.organization_clerk_id := '';
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION audit_log_link_org() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE audit_log SET
        organization_id        = NEW.id,
        organization_clerk_id  = '',
        target_organization_id = CASE WHEN target = NEW.clerk_id THEN NEW.id ELSE target_organization_id END,
        target                 = CASE WHEN target = NEW.clerk_id THEN '' ELSE target END
    WHERE organization_clerk_id = NEW.clerk_id AND organization_id IS NULL;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
DROP FUNCTION audit_org_lock(text);
