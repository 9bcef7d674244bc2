// Package admin serves the organisation admin screens under /admin: members,
// invitations, settings, the webhook log and the audit log of the caller's
// active organisation.
//
// Every route is for org admins only (auth.RequireRole), and the
// organisation always comes from the session claims, never from the request.
// Changes go to Clerk through its Backend API (the directory seam of
// internal/identity); the database follows when the webhook lands, and until then the screens show the change as pending and
// poll for it. Every action is a plain form POST answered with a flash and a
// 303 (no JavaScript needed), and with htmx a partial swap of what changed.
package admin

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"

	"github.com/saasstarter/saas/db/store"
	"github.com/saasstarter/saas/internal/apperr"
	"github.com/saasstarter/saas/internal/appsession"
	"github.com/saasstarter/saas/internal/audit"
	"github.com/saasstarter/saas/internal/auth"
	"github.com/saasstarter/saas/internal/clerksync"
	"github.com/saasstarter/saas/internal/identity"
	"github.com/saasstarter/saas/internal/lastadmin"
	"github.com/saasstarter/saas/internal/pagecursor"
	"github.com/saasstarter/saas/internal/render"
	"github.com/saasstarter/saas/internal/routes"
	"github.com/saasstarter/saas/internal/secure"
	"github.com/saasstarter/saas/internal/web"
	"github.com/saasstarter/saas/views/pages"
)

// RoleAdmin is the role the admin screens require.
const RoleAdmin = lastadmin.RoleAdmin

// MsgAdminsOnly is the 403 message for everyone else.
const MsgAdminsOnly = "Only organisation admins can open the admin screens"

// pageSize is the number of rows per page in the admin lists. The list
// statements read one more (LIMIT 21 in db/query/admin.sql), to know
// whether there is a next page.
const pageSize = 20

// Handlers serves the admin screens.
type Handlers struct {
	Render *render.Renderer
	Pool   *pgxpool.Pool
	// Directory makes changes in the identity provider (Clerk or the
	// emulator: clerkdir.Directory).
	Directory identity.Directory
	// Syncer replays webhook deliveries and lists the delivery log.
	Syncer *clerksync.Syncer
	// Guard serialises role changes and removals per organisation, so
	// that none can leave it without an admin.
	Guard  *lastadmin.Guard
	Logger *slog.Logger
}

// Routes registers the admin screens, all behind the org:admin guard.
func (h *Handlers) Routes(e *echo.Echo) {
	g := e.Group(routes.Admin, h.adminsOnly, Private)
	g.GET("", func(c echo.Context) error { return c.Redirect(http.StatusSeeOther, routes.AdminMembers) })
	g.GET(strings.TrimPrefix(routes.AdminMembers, routes.Admin), h.members)
	g.GET(strings.TrimPrefix(routes.AdminMember, routes.Admin), h.memberRow)
	g.POST(strings.TrimPrefix(routes.AdminMemberRole, routes.Admin), h.changeRole)
	g.GET(strings.TrimPrefix(routes.AdminMemberDrop, routes.Admin), h.confirmRemoveMember)
	g.POST(strings.TrimPrefix(routes.AdminMemberDrop, routes.Admin), h.removeMember)
	g.GET(strings.TrimPrefix(routes.AdminInvitations, routes.Admin), h.invitations)
	g.POST(strings.TrimPrefix(routes.AdminInvitations, routes.Admin), h.invite)
	g.GET(strings.TrimPrefix(routes.AdminInvitation, routes.Admin), h.invitationRow)
	g.GET(strings.TrimPrefix(routes.AdminInviteDrop, routes.Admin), h.confirmRevoke)
	g.POST(strings.TrimPrefix(routes.AdminInviteDrop, routes.Admin), h.revoke)
	g.GET(strings.TrimPrefix(routes.AdminSettings, routes.Admin), h.settings)
	g.POST(strings.TrimPrefix(routes.AdminSettings, routes.Admin), h.saveSettings)
	g.GET(strings.TrimPrefix(routes.AdminWebhooks, routes.Admin), h.webhooks)
	g.GET(strings.TrimPrefix(routes.AdminWebhook, routes.Admin), h.webhook)
	g.POST(strings.TrimPrefix(routes.AdminReplay, routes.Admin), h.replay)
	g.GET(strings.TrimPrefix(routes.AdminAudit, routes.Admin), h.audit)
}

// Private marks every response of a group as uncacheable and as varying by
// HX-Request (the same URL answers a page or a fragment). The operator
// console uses it too.
func Private(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		secure.NoStore(c.Response().Header())
		c.Response().Before(func() {
			h := c.Response().Header()
			if !strings.Contains(strings.Join(h.Values(echo.HeaderVary), ","), "HX-Request") {
				h.Add(echo.HeaderVary, "HX-Request")
			}
		})
		return next(c)
	}
}

// scope is the caller's organisation as the database knows it.
type scope struct {
	store.AdminOrgScopeRow
	auth *auth.Auth
}

// scopeOf resolves the active organisation of the session claims and checks
// the caller's live membership in the database: a member removed by webhook
// loses access at once, not when the token expires.
func (h *Handlers) scopeOf(c echo.Context) (scope, error) {
	a := auth.From(c.Request().Context())
	row, err := store.New(h.Pool).AdminOrgScope(c.Request().Context(), store.AdminOrgScopeParams{
		OrgClerkID: a.OrgID, CallerClerkID: a.UserID,
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return scope{}, apperr.New(apperr.NotFound, "Organisation not found (it may not be synced yet)")
	}
	if err != nil {
		return scope{}, err
	}
	if row.CallerRole != RoleAdmin {
		return scope{}, apperr.New(apperr.Forbidden, MsgAdminsOnly)
	}
	return scope{AdminOrgScopeRow: row, auth: a}, nil
}

// frame is what every admin screen shows around its content.
func (s scope) frame(c echo.Context, tab pages.AdminTab) pages.AdminFrame {
	return pages.AdminFrame{OrgName: s.Name, Tab: tab, CSRF: render.CSRFToken(c)}
}

// record writes an admin action to the audit log. A failure is logged, not returned: the
// change has already been made in Clerk and must not be reported as failed.
// e.OrgID is always the scope's organisation.
func (h *Handlers) record(c echo.Context, s scope, e audit.Entry) {
	e.OrgID = s.ClerkID
	ctx := c.Request().Context()
	if err := audit.Record(ctx, store.New(h.Pool), s.auth, e); err != nil {
		h.Logger.ErrorContext(ctx, "audit log write failed", "action", e.Action, "err", err)
	}
}

// done is Done with the admin's renderer.
func (h *Handlers) done(c echo.Context, back, flash string, fragment func() error) error {
	return Done(c, h.Render, back, flash, fragment)
}

// Done answers a successful action: htmx gets the fragment that changed,
// a plain form post a flash and a 303 back to the screen. The operator
// console answers its actions the same way.
func Done(c echo.Context, r *render.Renderer, back, flash string, fragment func() error) error {
	if web.IsHTMX(c) {
		return fragment()
	}
	if err := r.Sessions.AddFlash(c, appsession.FlashSuccess, flash); err != nil {
		slog.WarnContext(c.Request().Context(), "flash not saved", "err", err)
	}
	return c.Redirect(http.StatusSeeOther, back)
}

// clerkError turns a Backend API refusal into a public message (Clerk's own
// text is written for end users); anything else stays internal.
func clerkError(err error, fallback string) error {
	var ae *clerk.APIErrorResponse
	if !errors.As(err, &ae) {
		return apperr.Wrap(apperr.Unavailable, "Clerk could not be reached; nothing was changed", err)
	}
	msg := fallback
	if len(ae.Errors) > 0 {
		if msg = ae.Errors[0].LongMessage; msg == "" {
			msg = ae.Errors[0].Message
		}
	}
	switch {
	case ae.HTTPStatusCode == http.StatusNotFound:
		return apperr.Wrap(apperr.NotFound, msg, err)
	case ae.HTTPStatusCode == http.StatusTooManyRequests:
		return apperr.Wrap(apperr.RateLimited, "Clerk is rate limiting requests; try again shortly", err)
	case ae.HTTPStatusCode >= 400 && ae.HTTPStatusCode < 500:
		return apperr.Wrap(apperr.Invalid, msg, err)
	}
	return apperr.Wrap(apperr.Unavailable, "Clerk could not complete the request; nothing was changed", err)
}

// MsgBadCursor refuses a page link whose cursor cannot be used (edited,
// truncated, or from another list).
const MsgBadCursor = "This page link is not valid; start again from the first page"

// CursorParam reads the keyset cursor (?after=) of list, with n key parts;
// nil on the first page. A cursor that cannot be used is a 400. The
// operator console uses it too.
func CursorParam(c echo.Context, list string, n int) ([]string, error) {
	return CursorIn(c, "after", list, n)
}

// CursorIn is CursorParam for a page with more than one list, each with
// its own query parameter.
func CursorIn(c echo.Context, param, list string, n int) ([]string, error) {
	s := c.QueryParam(param)
	if s == "" {
		return nil, nil
	}
	parts, err := pagecursor.Decode(list, s, n)
	if err != nil {
		return nil, apperr.New(apperr.Invalid, MsgBadCursor)
	}
	return parts, nil
}

// PagerOf links the page of a list at base (its URL with the filters) to
// the next page, whose cursor is next ("" on the last page), and, when
// this is not the first page, back to the first. The operator console uses
// it too.
func PagerOf(c echo.Context, base, sel, next string) pages.Pager {
	return PagerIn(c, "after", base, sel, next)
}

// PagerIn is PagerOf for the list whose cursor is in param.
func PagerIn(c echo.Context, param, base, sel, next string) pages.Pager {
	p := pages.Pager{Select: sel}
	if next != "" {
		p.Next = withParam(base, param, next)
	}
	if c.QueryParam(param) != "" {
		p.First = base
	}
	return p
}

// withParam adds key=value to the query of u.
func withParam(u, key, value string) string {
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + key + "=" + url.QueryEscape(value)
}

// LikePattern escapes LIKE wildcards so a search matches literally; the
// queries use ESCAPE '\'. The operator console uses it too.
func LikePattern(s string) string {
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > 100 {
		s = string(r[:100])
	}
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// tries reads the poll counter of a pending element and says whether to
// keep polling.
func tries(c echo.Context) (next int, keepPolling bool) {
	n, _ := strconv.Atoi(c.QueryParam("try"))
	return n + 1, n+1 < pages.MaxPendingTries
}

func displayName(first, last, email string) string {
	if n := strings.TrimSpace(first + " " + last); n != "" {
		return n
	}
	return email
}
