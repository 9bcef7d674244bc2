package app_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/saasstarter/saas/internal/routes"
)

// failDelivery marks the newest applied delivery of an organisation as
// failed, as a delivery the database could not apply is recorded, and
// returns its id.
func failDelivery(t *testing.T, ta *testApp, orgClerkID string) int64 {
	t.Helper()
	var id int64
	err := ta.App.Pool().QueryRow(context.Background(), `UPDATE webhook_events SET status = 'failed', error = 'simulated: database unavailable'
		WHERE id = (SELECT id FROM webhook_events WHERE organization_id = $1 AND status = 'applied' ORDER BY id DESC LIMIT 1)
		RETURNING id`, orgClerkID).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestAdminWebhookLogAndReplay(t *testing.T) {
	t.Parallel()
	ta := start(t)
	ta.synced(t)
	acme, globex := admOrg(t, ta, "acme"), admOrg(t, ta, "globex")
	failed := failDelivery(t, ta, acme)
	other := failDelivery(t, ta, globex)
	alice := admAs(t, ta, "alice@acme.test", "acme")

	t.Run("FilterByStatus", func(t *testing.T) {
		doc := parse(t, get(t, ta.URL+routes.AdminWebhooks+"?status=failed", alice))
		rows := doc.Find(`[data-testid="delivery-row"]`)
		if rows.Length() != 1 || rows.AttrOr("id", "") != "delivery-"+strconv.FormatInt(failed, 10) {
			t.Fatalf("failed filter shows %d rows", rows.Length())
		}
		if !strings.Contains(rows.Find(`[data-testid="delivery-error"]`).Text(), "simulated") {
			t.Error("error not shown")
		}
	})
	t.Run("FilterByType", func(t *testing.T) {
		doc := parse(t, get(t, ta.URL+routes.AdminWebhooks+"?type=organization.created", alice))
		if types := doc.Find(`[data-testid="delivery-type"]`); types.Length() != 1 || types.Text() != "organization.created" {
			t.Fatalf("type filter shows %q", types.Text())
		}
	})
	t.Run("PayloadDetail", func(t *testing.T) {
		doc := parse(t, get(t, ta.URL+routes.AdminWebhooks+"/"+strconv.FormatInt(failed, 10), alice))
		if !strings.Contains(doc.Find(`[data-testid="payload"]`).Text(), `"type"`) {
			t.Fatal("no payload")
		}
	})
	t.Run("OtherOrgsDeliveryIsNotFound", func(t *testing.T) {
		admWant(t, get(t, ta.URL+routes.AdminWebhooks+"/"+strconv.FormatInt(other, 10), alice), http.StatusNotFound)
		admWant(t, admPost(t, ta.URL+routes.AdminWebhooks+"/"+strconv.FormatInt(other, 10)+"/replay", nil, admHX(alice)), http.StatusNotFound)
	})
	t.Run("ReplaySwapsTheRow", func(t *testing.T) {
		res := admPost(t, ta.URL+routes.AdminWebhooks+"/"+strconv.FormatInt(failed, 10)+"/replay", nil, admHX(alice))
		admWant(t, res, http.StatusOK)
		row := admRows(t, res).Find(`tr[data-testid="delivery-row"]`)
		if st := row.AttrOr("data-status", ""); st == "" || st == "failed" {
			t.Fatalf("status after replay = %q", st)
		}
		if row.Find(`[data-autofocus]`).Length() != 1 {
			t.Error("replayed row's status does not take focus")
		}
		if got := admDB(t, ta, "SELECT status FROM webhook_events WHERE id = $1", failed); got == "failed" {
			t.Fatal("database still says failed")
		}
		if !strings.Contains(parse(t, get(t, ta.URL+routes.AdminAudit, alice)).Find(`[data-testid="audit-sentence"]`).Text(), "replayed a") {
			t.Error("replay not in the audit log")
		}
	})
}

// TestAdminUnsafeRequestsNeedCSRF is C-01/C-02 on the admin actions: a
// cookie-authenticated POST from another site, or without a token, or with
// a wrong one, is refused and changes nothing.
func TestAdminUnsafeRequestsNeedCSRF(t *testing.T) {
	t.Parallel()
	ta := start(t)
	ta.synced(t)
	bob := userID(t, ta.Server, "bob@acme.test")
	cookie := admCookie(t, ta, "alice@acme.test", "acme")
	tok, withCSRF := admCSRF(t, ta, routes.AdminMembers, cookie)
	cases := map[string]struct {
		header map[string]string
		form   url.Values
	}{
		"CrossSite":  {map[string]string{"Cookie": withCSRF["Cookie"], "Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, url.Values{"_csrf": {tok}}},
		"SameSite":   {map[string]string{"Cookie": withCSRF["Cookie"], "Sec-Fetch-Site": "same-site"}, nil},
		"NoToken":    {cookie, nil},
		"WrongToken": {withCSRF, url.Values{"_csrf": {"not-the-token"}}},
	}
	actions := []string{"/admin/members/" + bob + "/role", "/admin/members/" + bob + "/remove", routes.AdminInvitations, routes.AdminSettings, "/admin/webhooks/1/replay"}
	for name, tc := range cases {
		for _, action := range actions {
			t.Run(name+action, func(t *testing.T) {
				form := url.Values{"role": {"org:admin"}, "email": {"x@y.test"}}
				for k, v := range tc.form {
					form[k] = v
				}
				res := admPost(t, ta.URL+action, form, tc.header)
				if res.StatusCode != http.StatusForbidden && res.StatusCode != http.StatusBadRequest {
					t.Fatalf("status = %d, want 403 or 400", res.StatusCode)
				}
			})
		}
	}
	t.Run("WithTheTokenItWorks", func(t *testing.T) {
		res := admPost(t, ta.URL+"/admin/members/"+bob+"/role", url.Values{"role": {"org:admin"}, "_csrf": {tok}}, withCSRF)
		admWant(t, res, http.StatusSeeOther)
	})
	ta.synced(t)
	if got := memberRole(t, ta, "bob@acme.test", "acme"); got != "org:admin" {
		t.Fatalf("bob = %q; only the request with the token may have changed it", got)
	}
}
