package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/labstack/echo/v4"

	"github.com/saasstarter/saas/db/store"
	"github.com/saasstarter/saas/internal/apperr"
	"github.com/saasstarter/saas/internal/audit"
	"github.com/saasstarter/saas/internal/auth"
	"github.com/saasstarter/saas/internal/clerksync"
	"github.com/saasstarter/saas/internal/pagecursor"
	"github.com/saasstarter/saas/internal/render"
	"github.com/saasstarter/saas/internal/routes"
	"github.com/saasstarter/saas/views/pages"
)

// EventTypes are the Clerk event types the filters offer: the ones the sync
// handles (CONTRACT.md, Webhooks).
var EventTypes = []string{
	"user.created", "user.updated", "user.deleted",
	"organization.created", "organization.updated", "organization.deleted",
	"organizationMembership.created", "organizationMembership.updated", "organizationMembership.deleted",
	"organizationInvitation.created", "organizationInvitation.accepted", "organizationInvitation.revoked",
	"session.created", "session.ended", "session.removed", "session.revoked",
}

// Statuses are the delivery outcomes the filters offer.
var Statuses = []string{
	string(clerksync.StatusApplied), string(clerksync.StatusFailed), string(clerksync.StatusIgnored),
	string(clerksync.StatusStale), string(clerksync.StatusDuplicate),
}

// DeliveryLog reads a filtered page of the delivery log (type, status and
// page from the query string) for base, the log's URL. orgID limits it to
// one organisation; operators pass "" for every delivery.
func DeliveryLog(c echo.Context, syncer *clerksync.Syncer, base, orgID string) (pages.DeliveryLog, error) {
	typ, status := c.QueryParam("type"), c.QueryParam("status")
	if status != "" && !slices.Contains(Statuses, status) {
		return pages.DeliveryLog{}, apperr.New(apperr.Invalid, "Unknown status")
	}
	f := clerksync.DeliveryFilter{OrganizationID: orgID, Type: typ, Status: clerksync.Status(status), Limit: pageSize}
	cur, err := CursorParam(c, "deliveries", 2)
	if err != nil {
		return pages.DeliveryLog{}, err
	}
	if cur != nil {
		at, terr := pagecursor.ParseTime(cur[0])
		id, ierr := pagecursor.ParseID(cur[1])
		if terr != nil || ierr != nil {
			return pages.DeliveryLog{}, apperr.New(apperr.Invalid, MsgBadCursor)
		}
		f.Before = &clerksync.DeliveryCursor{ReceivedAt: at, ID: id}
	}
	res, err := syncer.ListDeliveries(c.Request().Context(), f)
	if err != nil {
		return pages.DeliveryLog{}, err
	}
	next := ""
	if res.Next != nil {
		next = pagecursor.Encode("deliveries", pagecursor.Time(res.Next.ReceivedAt), strconv.FormatInt(res.Next.ID, 10))
	}
	filtered := base
	if typ != "" || status != "" {
		filtered += "?type=" + url.QueryEscape(typ) + "&status=" + url.QueryEscape(status)
	}
	types := EventTypes
	if typ != "" && !slices.Contains(types, typ) {
		types = append(slices.Clone(types), typ)
	}
	l := pages.DeliveryLog{
		Base: base, CSRF: render.CSRFToken(c), Type: typ, Status: status, Types: types, Statuses: Statuses,
		Pager:   PagerOf(c, filtered, "#deliveries", next),
		ShowOrg: orgID == "",
	}
	for _, d := range res.Deliveries {
		l.Rows = append(l.Rows, DeliveryRow(d))
	}
	return l, nil
}

// DeliveryRow is the table row of a delivery.
func DeliveryRow(d clerksync.Delivery) pages.DeliveryRow {
	return pages.DeliveryRow{
		ID: d.ID, ReceivedAt: d.ReceivedAt, Type: d.Type, ObjectID: d.ObjectID, OrgID: d.OrganizationID,
		Status: string(d.Status), Error: d.Error, Attempts: d.Attempts,
	}
}

// DeliveryDetail is the detail view of a delivery, its payload indented.
func DeliveryDetail(c echo.Context, d clerksync.Delivery, base string) pages.DeliveryDetail {
	var pretty bytes.Buffer
	payload := string(d.Payload)
	if json.Indent(&pretty, d.Payload, "", "  ") == nil {
		payload = pretty.String()
	}
	id := strconv.FormatInt(d.ID, 10)
	return pages.DeliveryDetail{
		Row: DeliveryRow(d), Payload: payload, Back: base, CSRF: render.CSRFToken(c),
		Replay: base + "/" + id + "/replay", EventAt: d.EventAt, SvixID: d.SvixID,
	}
}

// ReplayResponse answers a replay: htmx gets the delivery's row in its new
// state, a form post a flash and a 303 back to the log.
func ReplayResponse(c echo.Context, r *render.Renderer, syncer *clerksync.Syncer, base string, d clerksync.Delivery, res clerksync.Result) error {
	msg := "Delivery " + strconv.FormatInt(d.ID, 10) + " replayed: " + string(res.Status) + "."
	return Done(c, r, base, msg, func() error {
		fresh, err := syncer.Delivery(c.Request().Context(), d.ID)
		if err != nil {
			return err
		}
		row := DeliveryRow(fresh)
		row.Replayed = string(res.Status)
		return render.Component(c, http.StatusOK, pages.DeliveryRowView(base, render.CSRFToken(c), base != routes.AdminWebhooks, row))
	})
}

// DeliveryID parses the :id of a delivery route.
func DeliveryID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.New(apperr.NotFound, "Delivery not found")
	}
	return id, nil
}

// orgDelivery loads a delivery of the caller's organisation; another
// organisation's delivery is "not found", never "forbidden".
func (h *Handlers) orgDelivery(c echo.Context, s scope) (clerksync.Delivery, error) {
	id, err := DeliveryID(c)
	if err != nil {
		return clerksync.Delivery{}, err
	}
	d, err := h.Syncer.Delivery(c.Request().Context(), id)
	if err != nil {
		return clerksync.Delivery{}, err
	}
	if d.OrganizationID != s.ClerkID {
		return clerksync.Delivery{}, apperr.New(apperr.NotFound, "Delivery not found")
	}
	return d, nil
}

func (h *Handlers) webhooks(c echo.Context) error {
	s, err := h.scopeOf(c)
	if err != nil {
		return err
	}
	l, err := DeliveryLog(c, h.Syncer, routes.AdminWebhooks, s.ClerkID)
	if err != nil {
		return err
	}
	return h.Render.Page(c, http.StatusOK, "Webhook log", pages.AdminWebhooks(s.frame(c, pages.TabWebhooks), l))
}

func (h *Handlers) webhook(c echo.Context) error {
	s, err := h.scopeOf(c)
	if err != nil {
		return err
	}
	d, err := h.orgDelivery(c, s)
	if err != nil {
		return err
	}
	return h.Render.Page(c, http.StatusOK, "Webhook delivery", pages.AdminWebhook(s.frame(c, pages.TabWebhooks), DeliveryDetail(c, d, routes.AdminWebhooks)))
}

func (h *Handlers) replay(c echo.Context) error {
	s, err := h.scopeOf(c)
	if err != nil {
		return err
	}
	d, err := h.orgDelivery(c, s)
	if err != nil {
		return err
	}
	res, err := h.Syncer.Replay(c.Request().Context(), d.ID)
	if err != nil {
		return err
	}
	h.record(c, s, audit.Entry{Action: "webhook.replayed", Target: d.SvixID, Details: map[string]any{"type": d.Type, "status": string(res.Status)}})
	return ReplayResponse(c, h.Render, h.Syncer, routes.AdminWebhooks, d, res)
}

func (h *Handlers) audit(c echo.Context) error {
	s, err := h.scopeOf(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	orgID := s.ID
	arg := store.AdminListAuditParams{
		OrgID:    &orgID,
		BeforeAt: pgtype.Timestamptz{InfinityModifier: pgtype.Infinity, Valid: true}, BeforeID: math.MaxInt64,
	}
	cur, err := CursorParam(c, "audit", 2)
	if err != nil {
		return err
	}
	if cur != nil {
		at, terr := pagecursor.ParseTime(cur[0])
		id, ierr := pagecursor.ParseID(cur[1])
		if terr != nil || ierr != nil {
			return apperr.New(apperr.Invalid, MsgBadCursor)
		}
		arg.BeforeAt, arg.BeforeID = pgtype.Timestamptz{Time: at, Valid: true}, id
	}
	db := store.New(h.Pool)
	rows, err := db.AdminListAudit(ctx, arg)
	if err != nil {
		return err
	}
	next := ""
	if len(rows) > pageSize {
		rows = rows[:pageSize]
		last := rows[pageSize-1]
		next = pagecursor.Encode("audit", pagecursor.Time(last.CreatedAt.Time), strconv.FormatInt(last.ID, 10))
	}
	p := pages.AuditPage{Frame: s.frame(c, pages.TabAudit), Pager: PagerOf(c, routes.AdminAudit, "#audit-results", next),
		ShowRaw: auth.From(ctx).Operator}
	items := make([]audit.Item, len(rows))
	for i, r := range rows {
		// What DetailsOf leaves out of the sentence is still in the raw
		// event.
		items[i] = audit.Item{Action: r.Action, Actor: r.Actor, ActorName: r.ActorName, Impersonator: r.Impersonator,
			Target: r.Target, Details: audit.DetailsOf(r.Details), At: r.CreatedAt.Time}
	}
	if err := nameTargets(ctx, db, items); err != nil {
		return err
	}
	for i, r := range rows {
		raw, _ := json.MarshalIndent(map[string]any{
			"action": r.Action, "actor": r.Actor, "impersonator": r.Impersonator, "target": r.Target,
			"details": json.RawMessage(r.Details), "at": r.CreatedAt.Time.UTC(),
		}, "", "  ")
		p.Rows = append(p.Rows, pages.AuditRow{When: r.CreatedAt.Time, Action: r.Action, Sentence: audit.Sentence(items[i]), Raw: string(raw)})
	}
	return h.Render.Page(c, http.StatusOK, "Audit log", pages.AdminAudit(p))
}

// nameTargets fills in the names of the people the entries are about. The
// ids come from the organisation's own log, so no other name is looked up.
func nameTargets(ctx context.Context, db *store.Queries, items []audit.Item) error {
	var ids []string
	for _, it := range items {
		if strings.HasPrefix(it.Target, "user_") {
			ids = append(ids, it.Target)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	names, err := db.UserNames(ctx, ids)
	if err != nil {
		return err
	}
	byID := make(map[string]string, len(names))
	for _, n := range names {
		byID[n.ClerkID] = n.Name
	}
	for i := range items {
		items[i].TargetName = byID[items[i].Target]
	}
	return nil
}
