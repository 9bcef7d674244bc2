package app_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/saasstarter/saas/internal/routes"
)

// TestOpsAccess: the console is for operators (the operator claim from the
// user's public metadata, through the session-token template) only.
func TestOpsAccess(t *testing.T) {
	t.Parallel()
	ta := start(t)
	ta.synced(t)
	t.Run("SignedOutGoesToSignIn", func(t *testing.T) {
		res := get(t, ta.URL+routes.Ops, nil)
		admWant(t, res, http.StatusSeeOther)
		if loc := res.Header.Get("Location"); loc != "/sign-in?redirect_url=/ops" {
			t.Fatalf("Location = %q", loc)
		}
	})
	t.Run("NonOperatorGets403", func(t *testing.T) {
		for _, p := range []string{routes.Ops, routes.OpsWebhooks} {
			res := get(t, ta.URL+p, admAs(t, ta, "alice@acme.test", "acme"))
			admWant(t, res, http.StatusForbidden)
			if parse(t, res).Find(`[data-testid="error-page"]`).Length() != 1 {
				t.Errorf("%s: no 403 page", p)
			}
		}
		admWant(t, admPost(t, ta.URL+routes.OpsReconcile, nil, admAs(t, ta, "alice@acme.test", "acme")), http.StatusForbidden)
	})
	t.Run("SeededOperator", func(t *testing.T) {
		// Dave's public metadata holds operator: true in the seed.
		res := get(t, ta.URL+routes.Ops, admAs(t, ta, "dave@example.test", "acme"))
		admWant(t, res, http.StatusOK)
		if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control = %q", cc)
		}
		doc := parse(t, res)
		if doc.Find(`[data-testid="ops"]`).Length() != 1 || doc.Find(`nav.nav a[href="/ops"]`).Length() != 1 {
			t.Fatal("no console, or no Ops link in the navigation")
		}
	})
	t.Run("MetadataMakesAnOperator", func(t *testing.T) {
		bob := userID(t, ta.Server, "bob@acme.test")
		admWant(t, get(t, ta.URL+routes.Ops, admAs(t, ta, "bob@acme.test", "acme")), http.StatusForbidden)
		bapi(t, ta.Server, http.MethodPatch, "/users/"+bob+"/metadata", map[string]any{"public_metadata": map[string]any{"operator": true}}, nil)
		// The next token carries the claim; nothing in the app database is read.
		admWant(t, get(t, ta.URL+routes.Ops, admAs(t, ta, "bob@acme.test", "acme")), http.StatusOK)
	})
}

func TestOpsConsole(t *testing.T) {
	t.Parallel()
	ta := start(t)
	ta.synced(t)
	dave := admAs(t, ta, "dave@example.test", "")
	failed := failDelivery(t, ta, admOrg(t, ta, "globex"))

	t.Run("HealthCountsFailures", func(t *testing.T) {
		doc := parse(t, get(t, ta.URL+routes.Ops, dave))
		if got := doc.Find(`[data-testid="health-failed"]`).Text(); got != "1" {
			t.Errorf("failed last hour = %q, want 1", got)
		}
		if got := doc.Find(`[data-testid="health-deliveries"]`).Text(); got == "0" {
			t.Error("no deliveries counted")
		}
	})
	t.Run("DirectorySearch", func(t *testing.T) {
		doc := parse(t, get(t, ta.URL+routes.Ops+"?q=glob", admHX(dave)))
		if orgs := doc.Find(`[data-testid="directory-org"]`); orgs.Length() != 1 || !strings.Contains(orgs.Text(), "Globex") {
			t.Fatalf("search glob: %d orgs", orgs.Length())
		}
		if users := doc.Find(`[data-testid="directory-user"]`); users.Length() != 1 || !strings.Contains(users.Text(), "carol@globex.test") {
			t.Fatalf("search glob: %d users %q", users.Length(), users.Text())
		}
		input := doc.Find(`[data-testid="directory-search"]`)
		if trig := input.AttrOr("hx-trigger", ""); !strings.Contains(trig, "input changed delay:300ms") {
			t.Errorf("hx-trigger = %q", trig)
		}
	})
	t.Run("DeliveriesAcrossOrgsAndReplay", func(t *testing.T) {
		doc := parse(t, get(t, ta.URL+routes.OpsWebhooks+"?status=failed", dave))
		if rows := doc.Find(`[data-testid="delivery-row"]`); rows.Length() != 1 {
			t.Fatalf("%d failed deliveries listed", rows.Length())
		}
		res := admPost(t, ta.URL+routes.OpsWebhooks+"/"+strconv.FormatInt(failed, 10)+"/replay", nil, dave)
		admWant(t, res, http.StatusSeeOther)
		if got := admDB(t, ta, "SELECT status FROM webhook_events WHERE id = $1", failed); got == "failed" {
			t.Fatal("still failed after replay")
		}
	})
	t.Run("Reconcile", func(t *testing.T) {
		// Drift: a user the database lost.
		if _, err := ta.App.Pool().Exec(t.Context(), "UPDATE users SET first_name = 'Drifted' WHERE email = 'bob@acme.test'"); err != nil {
			t.Fatal(err)
		}
		res := admPost(t, ta.URL+routes.OpsReconcile, nil, admHX(dave))
		admWant(t, res, http.StatusOK)
		doc := parse(t, res)
		if doc.Find(`[data-testid="reconcile-row"]`).Length() != 3 {
			t.Fatal("no reconcile counts")
		}
		if got := admDB(t, ta, "SELECT first_name FROM users WHERE email = 'bob@acme.test'"); got != "Bob" {
			t.Fatalf("drift not repaired: %q", got)
		}
	})
}
