-- +goose Up
-- The audit log refers to people and organisations by the app's own ids
-- (users.id, organizations.id), not by the identity provider's: an entry
-- must still name the right person after the provider's ids change (a move
-- to another Clerk instance or to another provider, docs/MIGRATION.md).
-- Screens show the provider's current id (or, better, the name) by joining
-- the rows, so what they display does not change with this migration.
--
-- The text columns remain for what is not a person or organisation of this
-- app: actor "clerk" (a change the webhook sync applied), a target that is a
-- project, invitation or webhook delivery. They also hold the provider's id
-- of a person or organisation that has not been synced yet when the entry
-- is written (an organisation audited right after the Backend API created
-- it); the triggers below replace it by the row's id when the row arrives.
ALTER TABLE audit_log
    ADD COLUMN actor_id               bigint REFERENCES users (id) ON DELETE SET NULL,
    ADD COLUMN impersonator_id        bigint REFERENCES users (id) ON DELETE SET NULL,
    ADD COLUMN target_user_id         bigint REFERENCES users (id) ON DELETE SET NULL,
    ADD COLUMN target_organization_id bigint REFERENCES organizations (id) ON DELETE SET NULL;
-- No index on the new id columns: users and organisations are tombstoned,
-- never deleted, so the foreign keys are never checked from that side.

-- Existing entries: every provider id that names a known row becomes that
-- row's id. The Clerk ids of users, organisations, invitations and webhook
-- deliveries have distinct prefixes, so an equal id is the same object.
UPDATE audit_log a SET actor_id = u.id, actor = '' FROM users u WHERE a.actor <> '' AND u.clerk_id = a.actor;
UPDATE audit_log a SET impersonator_id = u.id, impersonator = '' FROM users u WHERE a.impersonator <> '' AND u.clerk_id = a.impersonator;
UPDATE audit_log a SET target_user_id = u.id, target = '' FROM users u WHERE a.target <> '' AND u.clerk_id = a.target;
UPDATE audit_log a SET target_organization_id = o.id, target = '' FROM organizations o WHERE a.target <> '' AND o.clerk_id = a.target;
UPDATE audit_log SET organization_clerk_id = '' WHERE organization_id IS NOT NULL;

-- Readers select by organisation row id, newest first; the Clerk-id index
-- gives way to one for entries still waiting for their organisation.
DROP INDEX audit_log_org;
DROP INDEX audit_log_org_clerk;
CREATE INDEX audit_log_org ON audit_log (organization_id, created_at DESC, id DESC);
CREATE INDEX audit_log_org_pending ON audit_log (organization_clerk_id) WHERE organization_id IS NULL;
CREATE INDEX audit_log_actor_pending ON audit_log (actor) WHERE actor_id IS NULL;
CREATE INDEX audit_log_impersonator_pending ON audit_log (impersonator) WHERE impersonator_id IS NULL AND impersonator <> '';
CREATE INDEX audit_log_target_pending ON audit_log (target)
    WHERE target_user_id IS NULL AND target_organization_id IS NULL AND target <> '';

-- An entry names its organisation by row id, or by the provider's id when
-- the row may not exist yet; the provider's id is kept only until then.
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

-- An organisation that arrives links the entries written before it. Its
-- own creation is such an entry, and names it as the target too.
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

-- A user who arrives links the entries that named them before they were
-- synced, as actor, impersonator or target.
CREATE FUNCTION audit_log_link_user() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE audit_log SET actor_id = NEW.id, actor = ''
    WHERE actor = NEW.clerk_id AND actor_id IS NULL;
    UPDATE audit_log SET impersonator_id = NEW.id, impersonator = ''
    WHERE impersonator = NEW.clerk_id AND impersonator_id IS NULL AND impersonator <> '';
    UPDATE audit_log SET target_user_id = NEW.id, target = ''
    WHERE target = NEW.clerk_id AND target_user_id IS NULL AND target_organization_id IS NULL AND target <> '';
    RETURN NULL;
END;
$$;

-- Synced membership changes name the member and the organisation by row id.
CREATE OR REPLACE FUNCTION audit_membership_change() RETURNS trigger
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
    INSERT INTO audit_log (organization_id, actor, action, target_user_id, details)
    VALUES (NEW.organization_id, 'clerk', act, NEW.user_id, jsonb_build_object('role', NEW.role));
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER users_link_audit AFTER INSERT ON users
    FOR EACH ROW EXECUTE FUNCTION audit_log_link_user();

-- +goose Down
DROP TRIGGER users_link_audit ON users;
DROP FUNCTION audit_log_link_user();
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION audit_log_fill_org() RETURNS trigger
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
CREATE OR REPLACE FUNCTION audit_log_link_org() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE audit_log SET organization_id = NEW.id
    WHERE organization_clerk_id = NEW.clerk_id AND organization_id IS NULL;
    RETURN NULL;
END;
$$;
CREATE OR REPLACE FUNCTION audit_membership_change() RETURNS trigger
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
UPDATE audit_log a SET organization_clerk_id = o.clerk_id FROM organizations o WHERE o.id = a.organization_id;
UPDATE audit_log a SET actor = u.clerk_id FROM users u WHERE u.id = a.actor_id;
UPDATE audit_log a SET impersonator = u.clerk_id FROM users u WHERE u.id = a.impersonator_id;
UPDATE audit_log a SET target = u.clerk_id FROM users u WHERE u.id = a.target_user_id;
UPDATE audit_log a SET target = o.clerk_id FROM organizations o WHERE o.id = a.target_organization_id;
DROP INDEX audit_log_target_pending;
DROP INDEX audit_log_impersonator_pending;
DROP INDEX audit_log_actor_pending;
DROP INDEX audit_log_org_pending;
DROP INDEX audit_log_org;
CREATE INDEX audit_log_org ON audit_log (organization_id, created_at DESC);
CREATE INDEX audit_log_org_clerk ON audit_log (organization_clerk_id, created_at DESC, id DESC);
ALTER TABLE audit_log
    DROP COLUMN target_organization_id,
    DROP COLUMN target_user_id,
    DROP COLUMN impersonator_id,
    DROP COLUMN actor_id;
