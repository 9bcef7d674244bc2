-- +goose Up
-- The org-scoped product: API rate-limit counters and audit-log additions.

-- Rate-limit counters, one row per subject (user or machine) and limit
-- name, reused window after window, so the table stays as small as the set
-- of active subjects. UNLOGGED: a counter is worth nothing after a crash
-- (the limits simply start over), and skipping the WAL keeps the one-row
-- upsert per API request cheap. The low fillfactor leaves room on each page
-- for HOT updates of the same row.
CREATE UNLOGGED TABLE rate_limits (
    key          text        PRIMARY KEY,
    window_start timestamptz NOT NULL,
    hits         integer     NOT NULL
) WITH (fillfactor = 50);

-- Audit entries are written by Clerk organisation id too: an organisation
-- created through the Backend API is audited before its webhook has created
-- the organizations row, and must still show up once it has.
ALTER TABLE audit_log ADD COLUMN organization_clerk_id text NOT NULL DEFAULT '';
UPDATE audit_log a SET organization_clerk_id = o.clerk_id FROM organizations o WHERE o.id = a.organization_id;
CREATE INDEX audit_log_org_clerk ON audit_log (organization_clerk_id, created_at DESC, id DESC);

-- Whoever writes an entry names the organisation one way or the other (the
-- admin screens by row id, the app by Clerk id); these triggers fill in the
-- other, so every reader finds every entry. An entry written before its
-- organisation was synced gets the row id when the organizations row arrives.
-- +goose StatementBegin
CREATE FUNCTION audit_log_fill_org() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.organization_clerk_id = '' AND NEW.organization_id IS NOT NULL THEN
        SELECT o.clerk_id INTO NEW.organization_clerk_id FROM organizations o WHERE o.id = NEW.organization_id;
    ELSIF NEW.organization_id IS NULL AND NEW.organization_clerk_id <> '' THEN
        SELECT o.id INTO NEW.organization_id FROM organizations o WHERE o.clerk_id = NEW.organization_clerk_id;
    END IF;
    RETURN NEW;
END;
$$;
CREATE FUNCTION audit_log_link_org() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE audit_log SET organization_id = NEW.id
    WHERE organization_clerk_id = NEW.clerk_id AND organization_id IS NULL;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_log_fill_org BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_fill_org();
CREATE TRIGGER organizations_link_audit AFTER INSERT ON organizations
    FOR EACH ROW EXECUTE FUNCTION audit_log_link_org();

-- Synced membership changes are audited by a trigger, so the webhook sync
-- needs no knowledge of the audit log: joins, removals and role changes
-- (whoever made them in Clerk) appear on the organisation's dashboard. The
-- actor is "clerk": the webhook does not say who made the change.
-- +goose StatementBegin
CREATE FUNCTION audit_membership_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    act text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.deleted_at IS NOT NULL THEN
            RETURN NULL;
        END IF;
        act := 'member.added';
    ELSIF OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL THEN
        act := 'member.removed';
    ELSIF NEW.deleted_at IS NULL AND OLD.role IS DISTINCT FROM NEW.role THEN
        act := 'member.role_changed';
    ELSE
        RETURN NULL;
    END IF;
    INSERT INTO audit_log (organization_id, organization_clerk_id, actor, action, target, details)
    SELECT o.id, o.clerk_id, 'clerk', act, u.clerk_id, jsonb_build_object('role', NEW.role)
    FROM organizations o, users u
    WHERE o.id = NEW.organization_id AND u.id = NEW.user_id;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER memberships_audit
    AFTER INSERT OR UPDATE OF role, deleted_at ON memberships
    FOR EACH ROW EXECUTE FUNCTION audit_membership_change();

-- +goose Down
DROP TRIGGER memberships_audit ON memberships;
DROP FUNCTION audit_membership_change();
DROP TRIGGER organizations_link_audit ON organizations;
DROP TRIGGER audit_log_fill_org ON audit_log;
DROP FUNCTION audit_log_link_org();
DROP FUNCTION audit_log_fill_org();
DROP INDEX audit_log_org_clerk;
ALTER TABLE audit_log DROP COLUMN organization_clerk_id;
DROP TABLE rate_limits;
