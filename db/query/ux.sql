-- name: UserNames :many
-- Display names of the people an organisation's audit entries are about,
-- by the identity provider's id; the caller passes only ids read from that
-- organisation's own log.
SELECT clerk_id, COALESCE(NULLIF(trim(first_name || ' ' || last_name), ''), email, '')::text AS name
FROM users
WHERE clerk_id = ANY(sqlc.arg(clerk_ids)::text[]);

-- name: AdminPendingInvitationExists :one
-- Whether the organisation already has a pending invitation to email
-- (compared without case, as mailboxes are).
SELECT EXISTS (
    SELECT 1 FROM invitations
    WHERE organization_id = sqlc.arg(org_id) AND status = 'pending' AND lower(email) = lower(sqlc.arg(email)::text)
);

-- name: CountOrgAdmins :one
-- Live admins of an organisation, to know whether the caller is its only
-- one (who cannot leave it).
SELECT count(*) FROM memberships m
JOIN organizations o ON o.id = m.organization_id
WHERE o.clerk_id = sqlc.arg(org_clerk_id) AND m.deleted_at IS NULL AND m.role = 'org:admin';
