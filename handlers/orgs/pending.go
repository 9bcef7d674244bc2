package orgs

import (
	"encoding/json"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/saasstarter/saas/internal/auth"
)

// Organisations the caller just created are remembered in the app session
// until the webhook has brought them into the database, so /orgs can show
// them as pending. This is display state the server wrote itself (the
// session cookie is encrypted and signed); it grants nothing: switching is
// Clerk's decision and every read joins the caller's membership.

const (
	pendingKey = "pending_orgs"
	// pendingTTL bounds how long a pending entry is shown if its webhook
	// never arrives (reconcile will bring the organisation in).
	pendingTTL = 5 * time.Minute
	maxPending = 5
)

type pendingOrg struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	UserID  string    `json:"user"`
	Created time.Time `json:"created"`
}

func (h *Handlers) loadPending(c echo.Context) []pendingOrg {
	raw, _ := h.Render.Sessions.Get(c.Request()).Values[pendingKey].(string)
	var list []pendingOrg
	_ = json.Unmarshal([]byte(raw), &list)
	return list
}

func (h *Handlers) savePending(c echo.Context, list []pendingOrg) {
	sess := h.Render.Sessions.Get(c.Request())
	if len(list) == 0 {
		delete(sess.Values, pendingKey)
	} else {
		b, _ := json.Marshal(list)
		sess.Values[pendingKey] = string(b)
	}
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		h.Logger.Warn("app session save failed", "err", err)
	}
}

func (h *Handlers) addPending(c echo.Context, a *auth.Auth, po pendingOrg) {
	po.UserID, po.Created = a.UserID, time.Now()
	list := append(h.loadPending(c), po)
	if len(list) > maxPending {
		list = list[len(list)-maxPending:]
	}
	h.savePending(c, list)
}

// pending returns the caller's organisations that are still being set up,
// and forgets those that are synced, expired, or were created by another
// user of this browser.
func (h *Handlers) pending(c echo.Context, a *auth.Auth, synced map[string]bool) []pendingOrg {
	list := h.loadPending(c)
	if len(list) == 0 {
		return nil
	}
	keep := list[:0:0]
	for _, po := range list {
		if po.UserID == a.UserID && !synced[po.ID] && time.Since(po.Created) < pendingTTL {
			keep = append(keep, po)
		}
	}
	if len(keep) != len(list) {
		h.savePending(c, keep)
	}
	return keep
}
