package app_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/saasstarter/saas/internal/routes"
	"github.com/saasstarter/saas/views/pages"
)

// TestPlanIsSetByOperatorsOnly: an organisation admin cannot change the
// plan or the plan-gated feature flags (the settings screen shows them
// read-only and ignores them in a post); operators set them in /ops, and
// the members' claims follow (issue 14, item 8).
func TestPlanIsSetByOperatorsOnly(t *testing.T) {
	t.Parallel()
	ta := start(t)
	ta.synced(t)
	acme := admOrg(t, ta, "acme")
	plan := func() string {
		return admDB(t, ta, "SELECT plan || '|' || COALESCE((public_metadata->'features')::text, '') FROM organizations WHERE clerk_id = $1", acme)
	}
	before := plan()
	alice := admAs(t, ta, "alice@acme.test", "acme")

	t.Run("AdminCannotSetPlan", func(t *testing.T) {
		res := admPost(t, ta.URL+routes.AdminSettings, url.Values{
			"name": {"Acme"}, "slug": {"acme"}, "logo_url": {"https://cdn.example/acme.png"},
			"plan": {"free"}, "features": {"sso", "beta"},
		}, admHX(alice))
		admWant(t, res, http.StatusOK)
		ta.synced(t)
		if got := plan(); got != before {
			t.Fatalf("plan after an admin's post = %q, want %q", got, before)
		}
		page := parse(t, get(t, ta.URL+routes.AdminSettings, alice))
		if page.Find(`[data-testid="settings-form"] [name="plan"], [data-testid="settings-form"] [name="features"]`).Length() != 0 {
			t.Error("the settings form still has plan or feature inputs")
		}
		if got := page.Find(`[data-testid="settings-plan-name"]`).Text(); got != "enterprise" {
			t.Errorf("read-only plan = %q, want enterprise", got)
		}
		for _, r := range []struct{ method, path string }{
			{http.MethodGet, pages.Fill(routes.OpsOrg, acme)},
			{http.MethodPost, pages.Fill(routes.OpsOrgPlan, acme)},
		} {
			res, _ := do(t, r.method, ta.URL+r.path, with(alice, "Content-Type", "application/x-www-form-urlencoded"), nil)
			if res.StatusCode != http.StatusForbidden {
				t.Errorf("admin %s %s = %d, want 403", r.method, r.path, res.StatusCode)
			}
		}
	})

	dave := admAs(t, ta, "dave@example.test", "globex")
	t.Run("OperatorSetsPlan", func(t *testing.T) {
		doc := parse(t, get(t, ta.URL+routes.Ops+"?q=acme", dave))
		href, _ := doc.Find(`[data-testid="directory-org-link"]`).First().Attr("href")
		if href != pages.Fill(routes.OpsOrg, acme) {
			t.Fatalf("directory links Acme to %q", href)
		}
		if got := parse(t, get(t, ta.URL+href, dave)).Find(`[data-testid="plan-select"] option[selected]`).AttrOr("value", ""); got != "enterprise" {
			t.Errorf("plan screen shows %q selected, want enterprise", got)
		}
		res := admPost(t, ta.URL+pages.Fill(routes.OpsOrgPlan, acme), url.Values{"plan": {"pro"}, "features": {"export", "beta"}}, dave)
		admWant(t, res, http.StatusSeeOther)
		ta.synced(t)
		if got := plan(); got != `pro|["beta", "export"]` {
			t.Fatalf("plan after the operator's post = %q", got)
		}
		c := claims(t, sessionToken(t, ta.Server, "alice@acme.test", acme))
		if f, _ := json.Marshal(c["feature_flags"]); c["org_plan"] != "pro" || string(f) != `["beta","export"]` {
			t.Errorf("claims org_plan %v feature_flags %s", c["org_plan"], f)
		}
		if n := dbCount(t, ta, "SELECT count(*) FROM audit_log WHERE action = 'organization.plan_set'"); n != 1 {
			t.Errorf("%d audit entries for the plan change, want 1", n)
		}
		// The admin's logo survived the operator's metadata write.
		if got := admDB(t, ta, "SELECT public_metadata->>'logo_url' FROM organizations WHERE clerk_id = $1", acme); got != "https://cdn.example/acme.png" {
			t.Errorf("logo_url = %q", got)
		}
	})
	t.Run("ErrBadInput", func(t *testing.T) {
		for name, c := range map[string]struct {
			path string
			form url.Values
			want int
		}{
			"UnknownPlan":    {pages.Fill(routes.OpsOrgPlan, acme), url.Values{"plan": {"platinum"}}, http.StatusBadRequest},
			"UnknownFeature": {pages.Fill(routes.OpsOrgPlan, acme), url.Values{"plan": {"pro"}, "features": {"root"}}, http.StatusBadRequest},
			"MalformedOrgID": {"/ops/orgs/org_..%2Fusers/plan", url.Values{"plan": {"pro"}}, http.StatusNotFound},
			"UnknownOrg":     {pages.Fill(routes.OpsOrgPlan, "org_doesnotexist0000"), url.Values{"plan": {"pro"}}, http.StatusNotFound},
		} {
			t.Run(name, func(t *testing.T) {
				admWant(t, admPost(t, ta.URL+c.path, c.form, dave), c.want)
			})
		}
	})
}
