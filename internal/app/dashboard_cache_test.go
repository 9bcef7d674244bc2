package app_test

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/saasstarter/saas/internal/routes"
)

// TestDashboardCacheShowsEveryChange: the dashboard keeps each
// organisation's data between requests (handlers/dashboard.Cache), checked
// against the organisation's stamp on every request. After each kind of
// change it shows, through the paths that make it (the JSON API, the
// identity provider's webhooks, an audit-only action), the next dashboard
// shows it at once; between changes, repeated loads agree.
func TestDashboardCacheShowsEveryChange(t *testing.T) {
	t.Parallel()
	ta := start(t)
	s := seedProduct(t, ta)
	alice := s.tok["alice@acme.test/acme"]
	acme := s.org["acme"]
	dashboard := func(t *testing.T) *goquery.Document {
		t.Helper()
		res, doc := pageReq(t, ta, hreq{path: routes.Dashboard, token: alice})
		if res.StatusCode != http.StatusOK {
			t.Fatalf("dashboard = %d", res.StatusCode)
		}
		return doc
	}
	text := func(doc *goquery.Document, testID string) []string {
		return textsOf(doc, `[data-testid="`+testID+`"]`)
	}
	dashboard(t) // primes the cache
	if again := dashboard(t); !slices.Equal(text(again, "org-name"), []string{"Acme"}) {
		t.Fatalf("org name from the cache = %q", text(again, "org-name"))
	}

	var created string
	t.Run("ProjectCreated", func(t *testing.T) {
		res, body := sendReq(t, ta, hreq{method: http.MethodPost, path: routes.APIProjects, token: alice,
			body: `{"name":"Cache probe"}`, header: map[string]string{"Content-Type": "application/json"}})
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("create = %d %s", res.StatusCode, body)
		}
		id, _ := jsonObject(t, body)["id"].(float64)
		created = strconv.FormatInt(int64(id), 10)
		doc := dashboard(t)
		if got := text(doc, "project-name"); !slices.Contains(got, "Cache probe") {
			t.Errorf("projects = %q, want the new one", got)
		}
		if got := text(doc, "stat-projects"); !slices.Equal(got, []string{"1"}) {
			t.Errorf("projects count = %q, want 1", got)
		}
	})
	t.Run("ProjectRenamed", func(t *testing.T) {
		res, body := sendReq(t, ta, hreq{method: http.MethodPatch, path: "/api/projects/" + created, token: alice,
			body: `{"name":"Cache probe renamed"}`, header: map[string]string{"Content-Type": "application/json"}})
		if res.StatusCode != http.StatusOK {
			t.Fatalf("rename = %d %s", res.StatusCode, body)
		}
		if got := text(dashboard(t), "project-name"); !slices.Contains(got, "Cache probe renamed") {
			t.Errorf("projects = %q, want the new name", got)
		}
	})
	t.Run("AuditOnlyAction", func(t *testing.T) {
		before := text(dashboard(t), "stat-activity")
		res, body := sendReq(t, ta, hreq{method: http.MethodPost, path: routes.APIOrgExport, token: alice})
		if res.StatusCode != http.StatusOK {
			t.Fatalf("export = %d %s", res.StatusCode, body)
		}
		doc := dashboard(t)
		if got := text(doc, "stat-activity"); slices.Equal(got, before) {
			t.Errorf("activity count = %q, unchanged by the export", got)
		}
		if got := text(doc, "activity-sentence"); len(got) == 0 || !strings.Contains(strings.ToLower(got[0]), "export") {
			t.Errorf("newest activity = %q, want the export", got)
		}
	})
	t.Run("OrganisationRenamedByWebhook", func(t *testing.T) {
		bapi(t, ta.Server, http.MethodPatch, "/organizations/"+acme, map[string]any{"name": "Acme Renamed"}, nil)
		ta.synced(t)
		if got := text(dashboard(t), "org-name"); !slices.Equal(got, []string{"Acme Renamed"}) {
			t.Errorf("org name = %q, want the new one", got)
		}
	})
	t.Run("RoleChangedByWebhook", func(t *testing.T) {
		countAdmins := func(doc *goquery.Document) int {
			return strings.Count(doc.Find(`[data-testid="members"]`).Text(), "Admin")
		}
		before := countAdmins(dashboard(t))
		bapi(t, ta.Server, http.MethodPatch, "/organizations/"+acme+"/memberships/"+userID(t, ta.Server, "bob@acme.test"),
			map[string]string{"role": "org:admin"}, nil)
		ta.synced(t)
		if after := countAdmins(dashboard(t)); after != before+1 {
			t.Errorf("admins in the members preview: %d, then %d after bob's promotion", before, after)
		}
	})
	t.Run("MemberRemovedByWebhook", func(t *testing.T) {
		bapi(t, ta.Server, http.MethodDelete, "/organizations/"+acme+"/memberships/"+userID(t, ta.Server, "bob@acme.test"), nil, nil)
		ta.synced(t)
		doc := dashboard(t)
		if got := text(doc, "stat-members"); !slices.Equal(got, []string{"2"}) {
			t.Errorf("members count = %q, want 2", got)
		}
		for _, name := range text(doc, "member-name") {
			if strings.Contains(name, "Bob") || strings.Contains(name, "bob@") {
				t.Errorf("members preview still shows %q", name)
			}
		}
	})
	t.Run("DeletedOrganisationIsNotServedFromTheCache", func(t *testing.T) {
		if _, err := ta.App.Pool().Exec(context.Background(),
			`UPDATE organizations SET deleted_at = now() WHERE clerk_id = $1`, acme); err != nil {
			t.Fatal(err)
		}
		res, _ := sendReq(t, ta, hreq{path: routes.Dashboard, token: alice})
		if res.StatusCode == http.StatusOK {
			t.Errorf("dashboard of a deleted organisation = 200")
		}
	})
}
