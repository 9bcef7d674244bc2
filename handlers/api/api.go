// Package api serves the JSON API of the contract: /api/me, /api/org,
// /api/org/members, /api/org/export and the projects resource. Identity and
// the active organisation come from the session's claims only; organisation
// data is read through queries that join the caller's live membership.
// Errors are {"error": "..."} from the app's error handler.
package api

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"

	"github.com/saasstarter/saas/db/store"
	"github.com/saasstarter/saas/internal/audit"
	"github.com/saasstarter/saas/internal/auth"
	"github.com/saasstarter/saas/internal/projects"
	"github.com/saasstarter/saas/internal/routes"
	"github.com/saasstarter/saas/internal/tenant"
)

// Contract messages of the export gates.
const (
	MsgAdminRequired      = "Admin required"
	MsgEnterpriseRequired = "Enterprise plan required"
)

// maxMembers caps /api/org/members; total_count always has the real number.
const maxMembers = 500

// Handlers serves the JSON API.
type Handlers struct {
	Pool     *pgxpool.Pool
	Projects *projects.Service
	Logger   *slog.Logger
}

// Routes registers the API. The guards on each route are the contract's
// rules, in its order. Rate limiting is wired app-wide for every /api route
// (ratelimit.Limiter.APIMiddleware), machine routes included.
func (h *Handlers) Routes(e *echo.Echo) {
	signedIn := []echo.MiddlewareFunc{tenant.NoStore(), auth.RequireSignedIn()}
	org := []echo.MiddlewareFunc{tenant.NoStore(), auth.RequireOrg()}
	with := func(ms ...echo.MiddlewareFunc) []echo.MiddlewareFunc { return append(org[:len(org):len(org)], ms...) }
	e.GET(routes.APIMe, h.me, signedIn...)
	e.GET(routes.APIOrg, h.org, org...)
	e.GET(routes.APIOrgMembers, h.members, org...)
	e.POST(routes.APIOrgExport, h.export, with(
		auth.RequireRole("org:admin", MsgAdminRequired),
		auth.RequirePlan("enterprise", MsgEnterpriseRequired))...)
	e.GET(routes.APIProjects, h.listProjects, org...)
	e.POST(routes.APIProjects, h.createProject, with(tenant.RequireAny(msgCreate, tenant.CreateProjects))...)
	e.GET(routes.APIProject, h.getProject, org...)
	e.PATCH(routes.APIProject, h.renameProject, with(tenant.RequireAny(msgManage, tenant.ManageProjects))...)
	e.DELETE(routes.APIProject, h.deleteProject, with(tenant.RequireAny(msgManage, tenant.ManageProjects))...)
}

// Messages of the projects permission guards.
const (
	msgCreate = "Permission org:projects:create required"
	msgManage = "Permission org:projects:manage required"
)

// User is the synced user in /api/me.
type User struct {
	ID        string `json:"id"`
	Email     string `json:"email"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	ImageURL  string `json:"image_url"`
}

// Me is /api/me: the session's claims, and the user from the database (nil
// until the webhook has synced it). Absent organisation values are null, as
// in Clerk's auth() object; the arrays are never null.
type Me struct {
	UserID         string   `json:"user_id"`
	SessionID      string   `json:"session_id"`
	OrgID          *string  `json:"org_id"`
	OrgRole        *string  `json:"org_role"`
	OrgSlug        *string  `json:"org_slug"`
	OrgPermissions []string `json:"org_permissions"`
	Plan           *string  `json:"plan"`
	Features       []string `json:"features"`
	User           *User    `json:"user"`
}

func (h *Handlers) me(c echo.Context) error {
	ctx := c.Request().Context()
	a := auth.From(ctx)
	out := Me{
		UserID: a.UserID, SessionID: a.SessionID,
		OrgID: orNull(a.OrgID), OrgRole: orNull(a.OrgRole), OrgSlug: orNull(a.OrgSlug), Plan: orNull(a.Plan),
		OrgPermissions: nonNil(a.OrgPermissions), Features: nonNil(a.Features),
	}
	u, err := store.New(h.Pool).GetUserByClerkID(ctx, a.UserID)
	switch {
	case err == nil:
		out.User = &User{ID: u.ClerkID, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName, ImageURL: u.ImageUrl}
	case !errors.Is(err, pgx.ErrNoRows):
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// Org is /api/org.
type Org struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	Slug         string    `json:"slug"`
	ImageURL     string    `json:"image_url"`
	Plan         string    `json:"plan"`
	MembersCount int64     `json:"members_count"`
	CreatedAt    time.Time `json:"created_at"`
}

func (h *Handlers) org(c echo.Context) error {
	ctx := c.Request().Context()
	o, err := tenant.Load(ctx, store.New(h.Pool), auth.From(ctx))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, Org{ID: o.ClerkID, Name: o.Name, Slug: o.Slug, ImageURL: o.ImageURL,
		Plan: o.Plan, MembersCount: o.MembersCount, CreatedAt: o.CreatedAt.UTC()})
}

// Member is one entry of /api/org/members.
type Member struct {
	UserID    string `json:"user_id"`
	Email     string `json:"email"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Role      string `json:"role"`
}

// List is the envelope of list responses, as in Clerk's Backend API.
type List[T any] struct {
	Data       []T    `json:"data"`
	TotalCount int64  `json:"total_count"`
	NextCursor string `json:"next_cursor,omitempty"`
}

func (h *Handlers) members(c echo.Context) error {
	ctx := c.Request().Context()
	a := auth.From(ctx)
	q := store.New(h.Pool)
	o, err := tenant.Load(ctx, q, a)
	if err != nil {
		return err
	}
	rows, err := q.ListOrgMembers(ctx, store.ListOrgMembersParams{UserClerkID: a.UserID, OrgClerkID: a.OrgID, MaxRows: maxMembers})
	if err != nil {
		return err
	}
	out := List[Member]{Data: make([]Member, 0, len(rows)), TotalCount: o.MembersCount}
	for _, r := range rows {
		out.Data = append(out.Data, Member{UserID: r.UserClerkID, Email: r.Email, FirstName: r.FirstName,
			LastName: r.LastName, Role: r.Role})
	}
	return c.JSON(http.StatusOK, out)
}

// export is the contract's admin- and plan-gated example action. The guards
// have checked the claims; the membership is checked here, and the action
// is audited.
func (h *Handlers) export(c echo.Context) error {
	ctx := c.Request().Context()
	a := auth.From(ctx)
	err := pgx.BeginFunc(ctx, h.Pool, func(tx pgx.Tx) error {
		q := store.New(tx)
		if _, err := tenant.Load(ctx, q, a); err != nil {
			return err
		}
		return audit.Record(ctx, q, a, audit.Entry{OrgID: a.OrgID, Action: audit.OrgExported})
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]bool{"success": true})
}

func orNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
