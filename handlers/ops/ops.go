// Package ops serves the operator console under /ops: sync health, the
// reconcile trigger, a directory of users and organisations, each
// organisation's plan and plan-gated feature flags, and every
// organisation's webhook deliveries with replay.
//
// Plans are set here, or by a billing integration, never by the
// organisation's own admins: a plan unlocks paid features.
//
// Operators are the people who run this deployment, not customers. They are
// identified by the custom session claim "operator", which the session-token
// template maps from the user's public metadata:
//
//	{"operator": "{{user.public_metadata.operator}}"}
//
// and which is set on a user with PATCH /v1/users/{id}/metadata
// {"public_metadata": {"operator": true}}. Like every other check it reads
// the claim (auth.Auth.Operator), never the database.
package ops

import (
	"context"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"

	"github.com/saasstarter/saas/db/store"
	"github.com/saasstarter/saas/handlers/admin"
	"github.com/saasstarter/saas/internal/apperr"
	"github.com/saasstarter/saas/internal/auth"
	"github.com/saasstarter/saas/internal/clerksync"
	"github.com/saasstarter/saas/internal/identity"
	"github.com/saasstarter/saas/internal/pagecursor"
	"github.com/saasstarter/saas/internal/render"
	"github.com/saasstarter/saas/internal/routes"
	"github.com/saasstarter/saas/views/pages"
)

// MsgOperatorsOnly is the 403 message for signed-in non-operators.
const MsgOperatorsOnly = "Only operators of this deployment can open the operator console"

// Handlers serves the operator console.
type Handlers struct {
	Render *render.Renderer
	Pool   *pgxpool.Pool
	Syncer *clerksync.Syncer
	// Backend is where reconcile reads Clerk's state from.
	Backend clerksync.Backend
	// Directory sets plans and features in the identity provider's
	// organisation metadata, where session claims read them.
	Directory identity.Directory
	Logger    *slog.Logger
}

// Routes registers the console, all behind RequireOperator.
func (h *Handlers) Routes(e *echo.Echo) {
	g := e.Group(routes.Ops, RequireOperator(), admin.Private)
	g.GET("", h.overview)
	g.POST(strings.TrimPrefix(routes.OpsReconcile, routes.Ops), h.reconcile)
	g.GET(strings.TrimPrefix(routes.OpsWebhooks, routes.Ops), h.webhooks)
	g.GET(strings.TrimPrefix(routes.OpsWebhook, routes.Ops), h.webhook)
	g.POST(strings.TrimPrefix(routes.OpsReplay, routes.Ops), h.replay)
	g.GET(strings.TrimPrefix(routes.OpsOrg, routes.Ops), h.orgScreen)
	g.POST(strings.TrimPrefix(routes.OpsOrgPlan, routes.Ops), h.setPlan)
}

// RequireOperator lets only operators through: signed-out callers are
// answered like the route policy does, everyone else gets a 403.
func RequireOperator() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			a := auth.From(c.Request().Context())
			if !a.SignedIn() {
				return auth.Unauthenticated(c)
			}
			if !a.Operator {
				return apperr.New(apperr.Forbidden, MsgOperatorsOnly)
			}
			return next(c)
		}
	}
}

func (h *Handlers) overview(c echo.Context) error {
	p, err := h.page(c)
	if err != nil {
		return err
	}
	return h.Render.Page(c, http.StatusOK, "Operator console", pages.Ops(p))
}

// page reads the overview: health and the directory for ?q=.
func (h *Handlers) page(c echo.Context) (pages.OpsPage, error) {
	ctx := c.Request().Context()
	db := store.New(h.Pool)
	hr, err := db.OpsSyncHealth(ctx)
	if err != nil {
		return pages.OpsPage{}, err
	}
	p := pages.OpsPage{CSRF: render.CSRFToken(c), Health: pages.SyncHealth{
		DeliveriesLastHour: hr.DeliveriesLastHour, FailedLastHour: hr.FailedLastHour, FailedTotal: hr.FailedTotal,
		MaxLag: seconds(hr.MaxLagSeconds), AvgLag: seconds(hr.AvgLagSeconds),
	}}
	if hr.LastReceivedAt.Valid && hr.LastReceivedAt.Time.Unix() > 0 {
		p.Health.LastReceived = hr.LastReceivedAt.Time
	}
	q := c.QueryParam("q")
	// The search is matched case-insensitively as a substring of the
	// lower-cased search columns, and exactly against Clerk ids.
	search := dirSearch{id: strings.TrimSpace(q), pattern: strings.ToLower(admin.LikePattern(q))}
	p.Directory.Query = q
	base := routes.Ops
	if q != "" {
		base += "?q=" + url.QueryEscape(q)
	}
	uc, err := directoryCursor(c, "users_after", "directory-users")
	if err != nil {
		return pages.OpsPage{}, err
	}
	users, err := directoryUsers(ctx, db, search, uc)
	if err != nil {
		return pages.OpsPage{}, err
	}
	next := ""
	if len(users) > directoryPage {
		users = users[:directoryPage]
		last := users[directoryPage-1]
		next = encodeDirectory("directory-users", last.Live, last.SortAt, last.ID)
	}
	p.Directory.UsersPager = admin.PagerIn(c, "users_after", base, "#directory-results", next)
	for _, u := range users {
		name := strings.TrimSpace(u.FirstName + " " + u.LastName)
		p.Directory.Users = append(p.Directory.Users, pages.DirectoryUser{
			ID: u.ClerkID, Name: name, Email: u.Email, Orgs: u.Orgs, Operator: u.Operator, Stub: u.Stub,
			Deleted: u.DeletedAt.Valid, CreatedAt: u.ClerkCreatedAt.Time,
		})
	}
	oc, err := directoryCursor(c, "orgs_after", "directory-orgs")
	if err != nil {
		return pages.OpsPage{}, err
	}
	orgs, err := directoryOrgs(ctx, db, search, oc)
	if err != nil {
		return pages.OpsPage{}, err
	}
	next = ""
	if len(orgs) > directoryPage {
		orgs = orgs[:directoryPage]
		last := orgs[directoryPage-1]
		next = encodeDirectory("directory-orgs", last.Live, last.SortAt, last.ID)
	}
	p.Directory.OrgsPager = admin.PagerIn(c, "orgs_after", base, "#directory-results", next)
	for _, o := range orgs {
		p.Directory.Orgs = append(p.Directory.Orgs, pages.DirectoryOrg{
			ID: o.ClerkID, Name: o.Name, Slug: o.Slug, Plan: o.Plan, Members: o.Members, Stub: o.Stub,
			Deleted: o.DeletedAt.Valid, CreatedAt: o.ClerkCreatedAt.Time,
		})
	}
	return p, nil
}

// dirSearch is the directory's search: a Clerk id, and the same text as a
// lower-cased LIKE pattern.
type dirSearch struct{ id, pattern string }

// directoryUsers reads a page of users: the listing, or a search (two
// statements, each with a plan of its own; db/query/ops.sql).
func directoryUsers(ctx context.Context, db *store.Queries, search dirSearch, cur dirCursor) ([]store.OpsSearchUsersRow, error) {
	if search.pattern != "" {
		return db.OpsSearchUsers(ctx, store.OpsSearchUsersParams{
			ID: search.id, Search: search.pattern, BeforeLive: cur.live, BeforeAt: cur.at, BeforeID: cur.id,
		})
	}
	rows, err := db.OpsListUsers(ctx, store.OpsListUsersParams{BeforeLive: cur.live, BeforeAt: cur.at, BeforeID: cur.id})
	out := make([]store.OpsSearchUsersRow, len(rows))
	for i, r := range rows {
		out[i] = store.OpsSearchUsersRow(r)
	}
	return out, err
}

// directoryOrgs is directoryUsers for organisations.
func directoryOrgs(ctx context.Context, db *store.Queries, search dirSearch, cur dirCursor) ([]store.OpsSearchOrganizationsRow, error) {
	if search.pattern != "" {
		return db.OpsSearchOrganizations(ctx, store.OpsSearchOrganizationsParams{
			ID: search.id, Search: search.pattern, BeforeLive: cur.live, BeforeAt: cur.at, BeforeID: cur.id,
		})
	}
	rows, err := db.OpsListOrganizations(ctx, store.OpsListOrganizationsParams{BeforeLive: cur.live, BeforeAt: cur.at, BeforeID: cur.id})
	out := make([]store.OpsSearchOrganizationsRow, len(rows))
	for i, r := range rows {
		out[i] = store.OpsSearchOrganizationsRow(r)
	}
	return out, err
}

// directoryPage is the number of rows per page of each directory table;
// the statements read one more (LIMIT 26 in db/query/ops.sql).
const directoryPage = 25

// dirCursor is a position in a directory table's order: live rows first,
// then newest first (stubs, with no creation time, as -infinity), then id.
type dirCursor struct {
	live bool
	at   pgtype.Timestamptz
	id   int64
}

// directoryCursor reads the cursor of a directory table from param; the
// start of the table when there is none.
func directoryCursor(c echo.Context, param, list string) (dirCursor, error) {
	cur := dirCursor{live: true, at: pgtype.Timestamptz{InfinityModifier: pgtype.Infinity, Valid: true}, id: math.MaxInt64}
	parts, err := admin.CursorIn(c, param, list, 3)
	if err != nil || parts == nil {
		return cur, err
	}
	bad := apperr.New(apperr.Invalid, admin.MsgBadCursor)
	switch parts[0] {
	case "1", "0":
		cur.live = parts[0] == "1"
	default:
		return cur, bad
	}
	if parts[1] == "-inf" {
		cur.at = pgtype.Timestamptz{InfinityModifier: pgtype.NegativeInfinity, Valid: true}
	} else {
		t, err := pagecursor.ParseTime(parts[1])
		if err != nil {
			return cur, bad
		}
		cur.at = pgtype.Timestamptz{Time: t, Valid: true}
	}
	if cur.id, err = pagecursor.ParseID(parts[2]); err != nil {
		return cur, bad
	}
	return cur, nil
}

func encodeDirectory(list string, live bool, at pgtype.Timestamptz, id int64) string {
	l, t := "0", "-inf"
	if live {
		l = "1"
	}
	if at.InfinityModifier == pgtype.Finite {
		t = pagecursor.Time(at.Time)
	}
	return pagecursor.Encode(list, l, t, strconv.FormatInt(id, 10))
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func (h *Handlers) reconcile(c echo.Context) error {
	started := time.Now()
	rep, err := clerksync.Reconcile(c.Request().Context(), h.Pool, h.Backend)
	if err != nil {
		return apperr.Wrap(apperr.Unavailable, "Reconcile failed: Clerk or the database did not answer; nothing was left half-done", err)
	}
	counts := func(x clerksync.Counts) pages.ReconcileCounts {
		return pages.ReconcileCounts{Created: x.Created, Updated: x.Updated, Deleted: x.Deleted}
	}
	res := &pages.ReconcileResult{
		Users: counts(rep.Users), Organizations: counts(rep.Organizations), Memberships: counts(rep.Memberships),
		Took: time.Since(started), Focus: true,
	}
	return admin.Done(c, h.Render, routes.Ops, "Reconcile finished: "+rep.String()+".", func() error {
		return render.Component(c, http.StatusOK, pages.ReconcileResultView(res))
	})
}

func (h *Handlers) webhooks(c echo.Context) error {
	l, err := admin.DeliveryLog(c, h.Syncer, routes.OpsWebhooks, "")
	if err != nil {
		return err
	}
	return h.Render.Page(c, http.StatusOK, "Webhook deliveries", pages.OpsWebhooks(l))
}

func (h *Handlers) delivery(c echo.Context) (clerksync.Delivery, error) {
	id, err := admin.DeliveryID(c)
	if err != nil {
		return clerksync.Delivery{}, err
	}
	return h.Syncer.Delivery(c.Request().Context(), id)
}

func (h *Handlers) webhook(c echo.Context) error {
	d, err := h.delivery(c)
	if err != nil {
		return err
	}
	return h.Render.Page(c, http.StatusOK, "Webhook delivery", pages.OpsWebhook(admin.DeliveryDetail(c, d, routes.OpsWebhooks)))
}

func (h *Handlers) replay(c echo.Context) error {
	d, err := h.delivery(c)
	if err != nil {
		return err
	}
	res, err := h.Syncer.Replay(c.Request().Context(), d.ID)
	if err != nil {
		return err
	}
	return admin.ReplayResponse(c, h.Render, h.Syncer, routes.OpsWebhooks, d, res)
}
