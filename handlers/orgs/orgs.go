// Package orgs serves /orgs: the caller's organisations from the database,
// switching (in the browser, through Clerk), creating an organisation
// through Clerk's Backend API, and leaving the active one. Organisations
// created elsewhere (Clerk's <OrganizationSwitcher/>) show as pending until
// their webhook lands, like those created here. Those Backend API calls and
// the browser's switching are the directory and browser-script seams of
// internal/identity.
package orgs

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"

	"github.com/saasstarter/saas/db/store"
	"github.com/saasstarter/saas/internal/apperr"
	"github.com/saasstarter/saas/internal/appsession"
	"github.com/saasstarter/saas/internal/audit"
	"github.com/saasstarter/saas/internal/auth"
	"github.com/saasstarter/saas/internal/identity"
	"github.com/saasstarter/saas/internal/lastadmin"
	"github.com/saasstarter/saas/internal/render"
	"github.com/saasstarter/saas/internal/routes"
	"github.com/saasstarter/saas/internal/tenant"
	"github.com/saasstarter/saas/internal/web"
	"github.com/saasstarter/saas/views/pages"
)

// Public messages.
const (
	MsgNameRequired = "Name is required"
	MsgNameInvalid  = "Name must be at most 100 characters, without control characters"
	MsgCreateFailed = "The organisation could not be created; try another name"
	MsgClerkDown    = "Clerk could not be reached; try again in a moment"
	MsgLastAdmin    = "You are the last admin of this organisation: make someone else admin before you leave"
)

// newOrgMetadata starts an organisation on the free plan. The plan and its
// features live in Clerk (public metadata here; Clerk Billing in a real
// deployment) so that they reach the session token as claims.
var newOrgMetadata = []byte(`{"plan":"free","features":[]}`)

// Handlers serves the organisation pages.
type Handlers struct {
	Render *render.Renderer
	Pool   *pgxpool.Pool
	// Directory makes changes in the identity provider (Clerk or the
	// emulator: clerkdir.Directory).
	Directory identity.Directory
	// Guard serialises leaving with the admin screens' role changes, so
	// that no organisation is left without an admin.
	Guard  *lastadmin.Guard
	Logger *slog.Logger
}

// Routes registers /orgs. Listing and creating need only a session (this is
// where users without an organisation are sent); leaving acts on the active
// organisation from the session's claims.
func (h *Handlers) Routes(e *echo.Echo) {
	e.GET(routes.Orgs, h.list, auth.RequireSignedIn(), tenant.NoStore())
	e.POST(routes.Orgs, h.create, auth.RequireSignedIn(), tenant.NoStore())
	e.POST(routes.OrgsLeave, h.leave, auth.RequireOrg(), tenant.NoStore())
}

func (h *Handlers) list(c echo.Context) error {
	ctx := c.Request().Context()
	a := auth.From(ctx)
	rows, err := store.New(h.Pool).ListMyMemberships(ctx, a.UserID)
	if err != nil {
		return err
	}
	p := pages.OrgsProps{CSRFToken: render.CSRFToken(c)}
	synced := make(map[string]bool, len(rows))
	for _, r := range rows {
		active := a.HasOrg() && r.ClerkID == a.OrgID
		synced[r.ClerkID] = true
		p.Orgs = append(p.Orgs, pages.OrgItem{ClerkID: r.ClerkID, Name: r.Name, Slug: r.Slug, ImageURL: r.ImageUrl,
			Plan: r.Plan, Role: r.Role, MembersCount: r.MembersCount, Active: active})
		p.CanLeave = p.CanLeave || active
		if active && r.Role == lastadmin.RoleAdmin {
			// The only admin cannot leave (lastadmin refuses it): do not
			// offer it, say what to do instead.
			n, err := store.New(h.Pool).CountOrgAdmins(ctx, r.ClerkID)
			if err != nil {
				return err
			}
			p.SoleAdmin = n <= 1
			p.CanLeave = !p.SoleAdmin
		}
	}
	pending := h.pending(c, a, synced)
	if a.HasOrg() && !synced[a.OrgID] && !slices.ContainsFunc(pending, func(po pendingOrg) bool { return po.ID == a.OrgID }) {
		// The session is already in an organisation the database has not
		// heard of: one just created through Clerk's own components, whose
		// webhook is on its way.
		name := a.OrgName
		if name == "" {
			name = a.OrgSlug
		}
		pending = append(pending, pendingOrg{ID: a.OrgID, Name: name})
	}
	for _, po := range pending {
		p.Pending = append(p.Pending, pages.PendingOrg{ClerkID: po.ID, Name: po.Name})
	}
	return h.Render.Page(c, http.StatusOK, "Organisations", pages.Orgs(p))
}

// validName trims an organisation name and checks it.
func validName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", apperr.New(apperr.Invalid, MsgNameRequired)
	case !utf8.ValidString(name) || utf8.RuneCountInString(name) > 100 || strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "", apperr.New(apperr.Invalid, MsgNameInvalid)
	}
	return name, nil
}

// create makes an organisation through the Backend API with the caller as
// creator, so Clerk makes them its admin. The webhook brings it into the
// database shortly after; until then /orgs shows it as pending.
func (h *Handlers) create(c echo.Context) error {
	ctx := c.Request().Context()
	a := auth.From(ctx)
	name, err := validName(c.FormValue("name"))
	if err != nil {
		return h.back(c, err)
	}
	org, err := h.Directory.CreateOrganization(ctx, name, a.UserID, json.RawMessage(newOrgMetadata))
	if err != nil {
		return h.back(c, clerkError(err, MsgCreateFailed))
	}
	if err := audit.Record(ctx, store.New(h.Pool), a, audit.Entry{
		OrgID: org.ID, Action: audit.OrgCreated, TargetOrg: org.ID, Details: map[string]string{"name": org.Name},
	}); err != nil {
		// The organisation exists in Clerk either way; a missing audit entry
		// must not turn the creation into an error the user retries.
		h.Logger.Error("audit organization.created", "org", org.ID, "err", err)
	}
	h.addPending(c, a, pendingOrg{ID: org.ID, Name: org.Name})
	_ = h.Render.Sessions.AddFlash(c, appsession.FlashSuccess, "Created “"+org.Name+"”. It is being set up and will be ready in a moment.")
	return web.Redirect(c, routes.Orgs)
}

// leave removes the caller from the active organisation through the Backend
// API. The last admin may not leave: the organisation would have nobody to
// manage it.
func (h *Handlers) leave(c echo.Context) error {
	ctx := c.Request().Context()
	a := auth.From(ctx)
	q := store.New(h.Pool)
	org, err := tenant.Load(ctx, q, a)
	if err != nil {
		return err
	}
	// The last-admin rule is checked against Clerk, and under the
	// organisation's lock: two admins leaving at once must not both go.
	err = h.Guard.Do(ctx, a.OrgID, a.UserID, func(ctx context.Context, m lastadmin.Membership) error {
		if m.LastAdmin {
			return apperr.New(apperr.Conflict, MsgLastAdmin)
		}
		return h.Directory.RemoveMember(ctx, a.OrgID, a.UserID)
	})
	var ae *apperr.Error
	switch {
	case errors.Is(err, lastadmin.ErrNotMember):
		return h.back(c, apperr.New(apperr.NotFound, "You are not a member of this organisation any more"))
	case errors.Is(err, lastadmin.ErrBusy):
		return h.back(c, apperr.Wrap(apperr.Conflict, "Another change to this organisation's members is in progress; try again in a moment", err))
	case errors.As(err, &ae):
		return h.back(c, ae)
	case err != nil:
		return h.back(c, clerkError(err, "You could not be removed from this organisation"))
	}
	if err := audit.Record(ctx, q, a, audit.Entry{OrgID: a.OrgID, Action: audit.OrgLeft, TargetUser: a.UserID}); err != nil {
		h.Logger.Error("audit organization.left", "org", a.OrgID, "err", err)
	}
	_ = h.Render.Sessions.AddFlash(c, appsession.FlashSuccess, "You left “"+org.Name+"”.")
	return web.Redirect(c, routes.Orgs)
}

// back answers a failed form: HTMX and API callers get the error itself; a
// plain form post goes back to /orgs with the message as a flash, so the
// page keeps working without JavaScript.
func (h *Handlers) back(c echo.Context, err error) error {
	var ae *apperr.Error
	if web.IsHTMX(c) || !errors.As(err, &ae) || ae.Code == apperr.Internal {
		return err
	}
	_ = h.Render.Sessions.AddFlash(c, appsession.FlashError, ae.Message)
	return web.Redirect(c, routes.Orgs)
}

// clerkError maps a Backend API failure: Clerk refusing the input is the
// caller's problem (message), anything else is Clerk being unavailable.
func clerkError(err error, message string) error {
	var api *clerk.APIErrorResponse
	if errors.As(err, &api) && api.HTTPStatusCode >= 400 && api.HTTPStatusCode < 500 {
		return apperr.Wrap(apperr.Invalid, message, err)
	}
	return apperr.Wrap(apperr.Unavailable, MsgClerkDown, err)
}
