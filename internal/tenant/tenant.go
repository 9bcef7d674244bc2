// Package tenant resolves the caller's active organisation: the organisation
// id comes from the verified session's claims (auth.From), and the database
// confirms a live membership on every request, so a member removed by webhook
// loses access at once rather than when the 60-second token expires.
package tenant

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/saasstarter/saas/db/store"
	"github.com/saasstarter/saas/internal/apperr"
	"github.com/saasstarter/saas/internal/auth"
	"github.com/saasstarter/saas/internal/secure"
)

// Public messages of the organisation states, shared by pages and the API.
const (
	MsgOrgNotFound = "Organisation not found"
	MsgNotMember   = "You are not a member of this organisation"
)

// ErrNotSynced marks an organisation (or the caller's membership in it) that
// Clerk knows and the webhook has not yet brought into the database. Pages
// show a "setting up" screen for it; the API answers 404.
var ErrNotSynced = errors.New("organisation not synced yet")

// Org is the active organisation as the database knows it, with the caller's
// role there and its member count.
type Org struct {
	ID           int64
	ClerkID      string
	Name         string
	Slug         string
	ImageURL     string
	Plan         string
	Role         string
	CreatedAt    time.Time
	MembersCount int64
}

// Load returns the caller's active organisation. Errors are *apperr.Error:
// 403 "Must be in an org" without an active organisation, 404 "Organisation
// not found" when it is deleted or not synced yet (wrapping ErrNotSynced in
// the second case), 403 MsgNotMember when the caller's membership is gone.
func Load(ctx context.Context, q *store.Queries, a *auth.Auth) (Org, error) {
	if !a.HasOrg() {
		return Org{}, apperr.New(apperr.Forbidden, auth.MsgNoOrg)
	}
	row, err := q.GetOrgForMember(ctx, store.GetOrgForMemberParams{UserClerkID: a.UserID, OrgClerkID: a.OrgID})
	if errors.Is(err, pgx.ErrNoRows) {
		return Org{}, Missing(ctx, q, a)
	}
	if err != nil {
		return Org{}, err
	}
	return Org{
		ID: row.ID, ClerkID: row.ClerkID, Name: row.Name, Slug: row.Slug, ImageURL: row.ImageUrl,
		Plan: row.Plan, Role: row.Role, CreatedAt: row.CreatedAt.Time, MembersCount: row.MembersCount,
	}, nil
}

// Missing is the error Load returns when its membership-joined query of the
// active organisation found no row; other queries that load the active
// organisation with the caller's membership (the dashboard's) answer the
// same way through it. It runs one more query.
func Missing(ctx context.Context, q *store.Queries, a *auth.Auth) error {
	if err := Diagnose(ctx, q, a); err != nil {
		return err
	}
	// Became a member between the two queries: rare enough to ask the
	// caller to try again rather than query once more.
	return apperr.Wrap(apperr.NotFound, MsgOrgNotFound, ErrNotSynced)
}

// Diagnose explains why a membership-joined query of the active
// organisation found nothing, as the error Load documents, or returns nil
// when the caller is a live member (the query just matched no row). Call it
// only after such a query came back empty; it runs one more query.
func Diagnose(ctx context.Context, q *store.Queries, a *auth.Auth) error {
	access, err := q.GetOrgAccess(ctx, store.GetOrgAccessParams{UserClerkID: a.UserID, OrgClerkID: a.OrgID})
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return apperr.Wrap(apperr.NotFound, MsgOrgNotFound, ErrNotSynced)
	case err != nil:
		return err
	case access.OrgDeleted:
		return apperr.New(apperr.NotFound, MsgOrgNotFound)
	case access.LiveMember:
		return nil
	case access.EverMember:
		// A tombstoned membership: removed (or the user deleted) in Clerk.
		return apperr.New(apperr.Forbidden, MsgNotMember)
	default:
		// The organisation is here but this membership has not arrived yet.
		return apperr.Wrap(apperr.NotFound, MsgOrgNotFound, ErrNotSynced)
	}
}

// Permission checks for the example resource. Clerk's has() reads
// permissions only (a role does not imply them), so "or org:admin" is spelled
// out here.
var (
	// CreateProjects may create projects.
	CreateProjects = []auth.Check{{Permission: "org:projects:create"}, {Role: "org:admin"}}
	// ManageProjects may rename and delete projects.
	ManageProjects = []auth.Check{{Permission: "org:projects:manage"}, {Role: "org:admin"}}
)

// Can reports whether any of checks holds for a.
func Can(a *auth.Auth, checks []auth.Check) bool {
	for _, c := range checks {
		if a.Has(c) {
			return true
		}
	}
	return false
}

// RequireAny is a route guard that lets through callers for whom any of
// checks holds, else 403 with message. Put auth.RequireOrg() before it.
func RequireAny(message string, checks []auth.Check) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if !Can(auth.From(c.Request().Context()), checks) {
				return apperr.New(apperr.Forbidden, message)
			}
			return next(c)
		}
	}
}

// ParseID validates a row id taken from a path before any database call
// (checklist A-08): only a canonical positive decimal int64 is accepted, so
// encodings, signs, spaces, leading zeros and overflow are all refused.
func ParseID(s string) (int64, bool) {
	if s == "" || len(s) > 19 || s[0] < '1' || s[0] > '9' {
		return 0, false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil
}

// NoStore is route middleware for authenticated, tenant-specific responses:
// no shared or browser cache may keep them (checklist T-08). Pages rendered
// by render.Page add Vary: HX-Request themselves.
func NoStore() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			secure.NoStore(c.Response().Header())
			return next(c)
		}
	}
}
