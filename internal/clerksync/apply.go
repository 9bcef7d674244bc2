package clerksync

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/saasstarter/saas/db/store"
)

// Status is what became of a delivery.
type Status string

// Delivery statuses. Duplicate is only ever returned by Ingest: the stored
// row keeps the status of its first processing and counts the attempt.
const (
	StatusApplied   Status = "applied"
	StatusDuplicate Status = "duplicate"
	StatusStale     Status = "stale"
	StatusIgnored   Status = "ignored"
	StatusFailed    Status = "failed"
)

// change is one decoded event, ready to apply inside a transaction.
type change struct {
	objectID string // Clerk id of the object the event is about
	orgID    string // Clerk organisation id, for the per-org delivery log
	apply    func(ctx context.Context, q *store.Queries) (Status, error)
	// revoked is the session a session.revoked/ended/removed event ends,
	// and when; Options.Revoked hears of it once the event is committed.
	revoked   string
	revokedAt time.Time
}

// decode turns an event into a change. The error is always permanent.
func decode(ev Event) (change, error) {
	at := ev.Timestamp
	if at.IsZero() {
		at = time.Now().UTC()
	}
	kind, action, _ := strings.Cut(ev.Type, ".")
	switch kind {
	case "user":
		if action == "deleted" {
			return deleteChange(ev, "user", func(ctx context.Context, q *store.Queries, id string) (Status, error) {
				return deleteUser(ctx, q, id, at)
			})
		}
		if action == "created" || action == "updated" {
			var d userData
			if err := decodeData(ev.Data, &d); err != nil {
				return change{}, err
			}
			u, err := d.row(ev.Timestamp)
			if err != nil {
				return change{}, err
			}
			return change{objectID: u.ClerkID, apply: func(ctx context.Context, q *store.Queries) (Status, error) {
				return upsertUser(ctx, q, u)
			}}, nil
		}
	case "organization":
		if action == "deleted" {
			c, err := deleteChange(ev, "organization", func(ctx context.Context, q *store.Queries, id string) (Status, error) {
				return deleteOrg(ctx, q, id, at)
			})
			c.orgID = c.objectID
			return c, err
		}
		if action == "created" || action == "updated" {
			var d orgData
			if err := decodeData(ev.Data, &d); err != nil {
				return change{}, err
			}
			o, err := d.row(ev.Timestamp)
			if err != nil {
				return change{}, err
			}
			return change{objectID: o.ClerkID, orgID: o.ClerkID, apply: func(ctx context.Context, q *store.Queries) (Status, error) {
				return upsertOrg(ctx, q, o)
			}}, nil
		}
	case "organizationMembership":
		if action == "created" || action == "updated" || action == "deleted" {
			var d membershipData
			if err := decodeData(ev.Data, &d); err != nil {
				return change{}, err
			}
			m, err := d.row(ev.Timestamp)
			if err != nil {
				return change{}, err
			}
			if action == "deleted" {
				m.DeletedAt = at
			}
			return change{objectID: m.ClerkID, orgID: m.Org.ClerkID, apply: func(ctx context.Context, q *store.Queries) (Status, error) {
				return upsertMembership(ctx, q, m)
			}}, nil
		}
	case "organizationInvitation":
		return invitationChange(ev, action)
	case "session":
		if action == "revoked" || action == "ended" || action == "removed" {
			var d sessionData
			if err := decodeData(ev.Data, &d); err != nil {
				return change{}, err
			}
			id, err := cleanID("session", d.ID)
			if err != nil {
				return change{}, err
			}
			p := store.RecordRevokedSessionParams{
				SessionID:   id,
				UserClerkID: clean(d.UserID, maxID),
				Reason:      action,
				RevokedAt:   tz(firstNonZero(d.UpdatedAt.Time, at)),
			}
			return change{objectID: id, revoked: id, revokedAt: p.RevokedAt.Time, apply: func(ctx context.Context, q *store.Queries) (Status, error) {
				st, err := changed(q.RecordRevokedSession(ctx, p))
				if err != nil {
					return st, err
				}
				// Announced even when already recorded: a replay then reaches
				// an instance that missed the first announcement.
				return st, q.NotifySessionRevoked(ctx, id)
			}}, nil
		}
	}
	return ignoredChange(ev), nil
}

// ignoredChange is an event we do not handle (Clerk adds types over time):
// it is logged with whatever ids it carries and answered with 2xx.
func ignoredChange(ev Event) change {
	var ids struct {
		ID             string `json:"id"`
		OrganizationID string `json:"organization_id"`
	}
	_ = json.Unmarshal(ev.Data, &ids) // best effort: the ids only label the log row
	return change{
		objectID: clean(ids.ID, maxID),
		orgID:    clean(ids.OrganizationID, maxID),
		apply: func(context.Context, *store.Queries) (Status, error) {
			return StatusIgnored, nil
		},
	}
}

// deleteChange decodes a deleted event, whose data is only {id, deleted}.
func deleteChange(ev Event, kind string, del func(context.Context, *store.Queries, string) (Status, error)) (change, error) {
	var d struct {
		ID string `json:"id"`
	}
	if err := decodeData(ev.Data, &d); err != nil {
		return change{}, err
	}
	id, err := cleanID(kind, d.ID)
	if err != nil {
		return change{}, err
	}
	return change{objectID: id, apply: func(ctx context.Context, q *store.Queries) (Status, error) {
		return del(ctx, q, id)
	}}, nil
}

func invitationChange(ev Event, action string) (change, error) {
	var d invitationData
	if err := decodeData(ev.Data, &d); err != nil {
		return change{}, err
	}
	id, err := cleanID("invitation", d.ID)
	if err != nil {
		return change{}, err
	}
	org := orgData{ID: d.OrganizationID}
	if d.PublicOrganizationData != nil {
		org = *d.PublicOrganizationData
		if d.OrganizationID != "" {
			org.ID = d.OrganizationID
		}
	}
	o, err := org.row(time.Time{})
	if err != nil {
		return change{}, err
	}
	status := clean(d.Status, maxShort)
	if status == "" {
		status = map[string]string{"accepted": "accepted", "revoked": "revoked"}[action]
		if status == "" {
			status = "pending"
		}
	}
	p := store.UpsertInvitationParams{
		ClerkID:             id,
		OrganizationClerkID: o.ClerkID,
		Email:               clean(strings.TrimSpace(d.EmailAddress), maxShort),
		Role:                normalizeRole(d.Role),
		Status:              status,
		ClerkCreatedAt:      tz(d.CreatedAt.Time),
		ClerkUpdatedAt:      tz(firstNonZero(d.UpdatedAt.Time, d.CreatedAt.Time, ev.Timestamp)),
	}
	return change{objectID: id, orgID: o.ClerkID, apply: func(ctx context.Context, q *store.Queries) (Status, error) {
		if err := ensureOrgStub(ctx, q, o); err != nil {
			return "", err
		}
		return changed(q.UpsertInvitation(ctx, p))
	}}, nil
}

// changed maps the result of a guarded upsert: a row means applied, no row
// means the guard refused (older data, or a tombstone).
func changed[T any](_ T, err error) (Status, error) {
	if errors.Is(err, pgx.ErrNoRows) {
		return StatusStale, nil
	}
	if err != nil {
		return "", err
	}
	return StatusApplied, nil
}

func tz(t time.Time) pgtype.Timestamptz {
	return pgtype.Timestamptz{Time: t, Valid: !t.IsZero()}
}

func upsertUser(ctx context.Context, q *store.Queries, u userRow) (Status, error) {
	return changed(q.UpsertUser(ctx, store.UpsertUserParams{
		ClerkID: u.ClerkID, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName, ImageUrl: u.ImageURL,
		PublicMetadata: u.Metadata, ClerkCreatedAt: tz(u.CreatedAt), ClerkUpdatedAt: tz(u.UpdatedAt),
	}))
}

func upsertOrg(ctx context.Context, q *store.Queries, o orgRow) (Status, error) {
	return changed(q.UpsertOrganization(ctx, store.UpsertOrganizationParams{
		ClerkID: o.ClerkID, Name: o.Name, Slug: o.Slug, ImageUrl: o.ImageURL, Plan: o.Plan,
		PublicMetadata: o.Metadata, ClerkCreatedAt: tz(o.CreatedAt), ClerkUpdatedAt: tz(o.UpdatedAt),
	}))
}

// deleteUser tombstones the user (creating the tombstone if the user was
// never seen, so a late user.created cannot resurrect it), clears its
// personal data and tombstones its memberships.
func deleteUser(ctx context.Context, q *store.Queries, clerkID string, at time.Time) (Status, error) {
	id, err := q.TombstoneUser(ctx, store.TombstoneUserParams{ClerkID: clerkID, DeletedAt: tz(at)})
	if errors.Is(err, pgx.ErrNoRows) {
		return StatusStale, nil
	}
	if err != nil {
		return "", err
	}
	_, err = q.TombstoneUserMemberships(ctx, store.TombstoneUserMembershipsParams{UserID: id, DeletedAt: tz(at)})
	return StatusApplied, err
}

// deleteOrg tombstones the organisation and its memberships.
func deleteOrg(ctx context.Context, q *store.Queries, clerkID string, at time.Time) (Status, error) {
	id, err := q.TombstoneOrganization(ctx, store.TombstoneOrganizationParams{ClerkID: clerkID, DeletedAt: tz(at)})
	if errors.Is(err, pgx.ErrNoRows) {
		return StatusStale, nil
	}
	if err != nil {
		return "", err
	}
	_, err = q.TombstoneOrganizationMemberships(ctx, store.TombstoneOrganizationMembershipsParams{OrganizationID: id, DeletedAt: tz(at)})
	return StatusApplied, err
}

func ensureOrgStub(ctx context.Context, q *store.Queries, o orgRow) error {
	return q.EnsureOrganizationStub(ctx, store.EnsureOrganizationStubParams{
		ClerkID: o.ClerkID, Name: o.Name, Slug: o.Slug, ImageUrl: o.ImageURL, Plan: o.Plan,
	})
}

// upsertMembership applies a membership (or its deletion), creating stub
// rows for a user or organisation we have not seen yet. Stubs are always
// created in the order user, then organisation, so that concurrent
// transactions take their locks in the same order.
func upsertMembership(ctx context.Context, q *store.Queries, m membershipRow) (Status, error) {
	u := m.User
	if err := q.EnsureUserStub(ctx, store.EnsureUserStubParams{
		ClerkID: u.ClerkID, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName, ImageUrl: u.ImageURL,
	}); err != nil {
		return "", err
	}
	if err := ensureOrgStub(ctx, q, m.Org); err != nil {
		return "", err
	}
	parties, err := q.LockMembershipParties(ctx, store.LockMembershipPartiesParams{
		UserClerkID: u.ClerkID, OrganizationClerkID: m.Org.ClerkID,
	})
	if err != nil {
		return "", err
	}
	if m.DeletedAt.IsZero() {
		// A membership of a deleted user or organisation is a late event. It
		// is kept as a tombstone, so that the table ends up as it would have
		// after delivery in order.
		if parties.UserDeleted || parties.OrganizationDeleted {
			m.DeletedAt = time.Now().UTC()
			_, err := upsertMembershipRow(ctx, q, m, parties)
			return StatusStale, err
		}
		newer, err := q.SupersedeMemberships(ctx, store.SupersedeMembershipsParams{
			OrganizationID: parties.OrganizationID, UserID: parties.UserID,
			ClerkID: m.ClerkID, ClerkUpdatedAt: tz(m.UpdatedAt),
		})
		if err != nil {
			return "", err
		}
		if newer > 0 {
			return StatusStale, nil
		}
	}
	return upsertMembershipRow(ctx, q, m, parties)
}

func upsertMembershipRow(ctx context.Context, q *store.Queries, m membershipRow, parties store.LockMembershipPartiesRow) (Status, error) {
	return changed(q.UpsertMembership(ctx, store.UpsertMembershipParams{
		ClerkID: m.ClerkID, OrganizationID: parties.OrganizationID, UserID: parties.UserID,
		Role: m.Role, Permissions: m.Permissions,
		ClerkCreatedAt: tz(m.CreatedAt), ClerkUpdatedAt: tz(m.UpdatedAt), DeletedAt: tz(m.DeletedAt),
	}))
}
