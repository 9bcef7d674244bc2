package app_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/saasstarter/saas/internal/app"
	"github.com/saasstarter/saas/internal/clerkemu"
)

// TestOrgsPage: memberships from the database with roles, the active one
// marked, switch buttons for the others; create (through the Backend API,
// creator becomes admin, pending until the webhook lands); leave, except
// for the last admin.
func TestOrgsPage(t *testing.T) {
	t.Parallel()
	ta := start(t)
	s := seedProduct(t, ta)
	dave := s.tok["dave@example.test/acme"]

	t.Run("ListsMembershipsAndMarksTheActiveOne", func(t *testing.T) {
		_, doc := pageReq(t, ta, hreq{path: "/orgs", token: dave})
		rows := doc.Find(`[data-testid="org-row"]`)
		if rows.Length() != 2 {
			t.Fatalf("%d rows", rows.Length())
		}
		rows.Each(func(_ int, r *goquery.Selection) {
			id, _ := r.Attr("data-org-id")
			active := r.Find(`[data-testid="org-active"]`).Length() == 1
			sw, hasSwitch := r.Find(`[data-testid="org-switch"]`).Attr("data-clerk-set-active-org")
			role := strings.TrimSpace(r.Find(`[data-testid="org-role"]`).Text())
			switch id {
			case s.org["acme"]:
				if !active || hasSwitch || role != "Member" {
					t.Errorf("Acme row: active %v, switch %v, role %q", active, hasSwitch, role)
				}
			case s.org["globex"]:
				if active || sw != s.org["globex"] || role != "Admin" {
					t.Errorf("Globex row: active %v, switch %q, role %q", active, sw, role)
				}
			default:
				t.Errorf("unexpected row %q", id)
			}
		})
	})

	t.Run("WithoutAnOrgShowsTheCreateForm", func(t *testing.T) {
		res, doc := pageReq(t, ta, hreq{path: "/orgs", token: sessionTokenNoOrg(t, ta)})
		if res.StatusCode != http.StatusOK || doc.Find(`[data-testid="orgs-empty"]`).Length() != 1 || doc.Find(`[data-testid="org-create"] form`).Length() != 1 {
			t.Errorf("no-org /orgs: %d, empty %d, form %d", res.StatusCode, doc.Find(`[data-testid="orgs-empty"]`).Length(), doc.Find(`[data-testid="org-create"] form`).Length())
		}
	})

	t.Run("CreatePendingThenReady", func(t *testing.T) {
		tok := sessionTokenNoOrg(t, ta)
		res, _ := sendReq(t, ta, hreq{method: "POST", path: "/orgs", token: tok, body: "name=" + url.QueryEscape("Initech Labs")})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/orgs" {
			t.Fatalf("create = %d %q", res.StatusCode, res.Header.Get("Location"))
		}
		var cookies []string
		for _, c := range res.Cookies() {
			cookies = append(cookies, c.Name+"="+c.Value)
		}
		jar := map[string]string{"Cookie": strings.Join(cookies, "; ")}
		// Whether the webhook has landed yet or not, the new organisation
		// is on the page, pending or listed.
		_, doc := pageReq(t, ta, hreq{path: "/orgs", token: tok, header: jar})
		pending := doc.Find(`[data-testid="org-pending"] [data-testid="org-name"]`).Text()
		listed := doc.Find(`[data-testid="org-row"] [data-testid="org-name"]`).Text()
		if pending != "Initech Labs" && listed != "Initech Labs" {
			t.Fatalf("new organisation neither pending nor listed: %q / %q", pending, listed)
		}
		ta.synced(t)
		_, doc = pageReq(t, ta, hreq{path: "/orgs", token: tok, header: jar})
		row := doc.Find(`[data-testid="org-row"]`)
		if row.Find(`[data-testid="org-name"]`).Text() != "Initech Labs" || strings.TrimSpace(row.Find(`[data-testid="org-role"]`).Text()) != "Admin" {
			t.Fatalf("after sync: %q as %q", row.Find(`[data-testid="org-name"]`).Text(), row.Find(`[data-testid="org-role"]`).Text())
		}
		if doc.Find(`[data-testid="org-pending"]`).Length() != 0 || doc.Find(`[hx-trigger]`).Length() != 0 {
			t.Error("still pending (or polling) after the webhook landed")
		}
		// The creator's next token is for the new organisation; the
		// dashboard shows it, with its creation audited.
		id, _ := row.Attr("data-org-id")
		fresh := sessionToken(t, ta.Server, userEmail(t, ta, tok), id)
		_, doc = pageReq(t, ta, hreq{path: "/dashboard", token: fresh})
		if got := textsOf(doc, `[data-testid="dashboard"] [data-testid="org-name"]`); !slices.Equal(got, []string{"Initech Labs"}) {
			t.Errorf("dashboard = %q", got)
		}
		if !slices.ContainsFunc(textsOf(doc, `[data-testid="activity-row"]`), func(s string) bool { return strings.Contains(s, "created the organisation") }) {
			t.Errorf("activity = %q", textsOf(doc, `[data-testid="activity-row"]`))
		}
	})

	t.Run("CreateRefusesBadNames", func(t *testing.T) {
		for _, name := range []string{"", "   ", strings.Repeat("x", 101), "bad\x00name"} {
			res, _ := sendReq(t, ta, hreq{method: "POST", path: "/orgs", token: dave, body: "name=" + url.QueryEscape(name), header: hxHeaders})
			if res.StatusCode != http.StatusBadRequest {
				t.Errorf("create %q = %d, want 400", name, res.StatusCode)
			}
		}
	})

	t.Run("LastAdminCannotLeave", func(t *testing.T) {
		// Alice is Acme's only admin.
		res, body := sendReq(t, ta, hreq{method: "POST", path: "/orgs/leave", token: s.tok["alice@acme.test/acme"], header: hxHeaders})
		if res.StatusCode != http.StatusConflict || !strings.Contains(string(body), "last admin") {
			t.Errorf("last admin leaving = %d %s, want 409", res.StatusCode, body)
		}
	})

	t.Run("MemberLeaves", func(t *testing.T) {
		res, _ := sendReq(t, ta, hreq{method: "POST", path: "/orgs/leave", token: s.tok["bob@acme.test/acme"]})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("leave = %d", res.StatusCode)
		}
		ta.synced(t)
		if res, _ := sendReq(t, ta, hreq{path: "/api/org", token: s.tok["bob@acme.test/acme"]}); res.StatusCode != http.StatusForbidden {
			t.Errorf("after leaving, /api/org = %d, want 403", res.StatusCode)
		}
	})
}

// TestDashboardSettingUp: with webhook delivery held back, nothing of the
// seed is in the app database yet. Signed in to an organisation Clerk knows,
// the dashboard says it is being set up (and polls itself), /orgs lists it
// as pending under the name in the session (as after creating one through
// Clerk's <OrganizationSwitcher/>), the API answers 404 "Organisation not
// found", and /api/me has "user": null.
func TestDashboardSettingUp(t *testing.T) {
	t.Parallel()
	ta := start(t, app.Options{Emulator: clerkemu.Config{WebhookURL: "-"}})
	var list struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	bapi(t, ta.Server, http.MethodGet, "/organizations", nil, &list)
	if len(list.Data) == 0 {
		t.Fatal("no organisations in the emulator")
	}
	tok := sessionToken(t, ta.Server, "alice@acme.test", "")
	res, doc := pageReq(t, ta, hreq{path: "/dashboard", token: tok})
	if res.StatusCode != http.StatusOK || doc.Find(`[data-testid="dashboard-setting-up"][hx-get="/dashboard"]`).Length() != 1 {
		t.Fatalf("dashboard before sync = %d, setting-up %d", res.StatusCode, doc.Find(`[data-testid="dashboard-setting-up"]`).Length())
	}
	res, doc = pageReq(t, ta, hreq{path: "/orgs", token: tok})
	if pending := doc.Find(`#org-list[hx-trigger] [data-testid="org-pending"] [data-testid="org-name"]`); res.StatusCode != http.StatusOK ||
		pending.Length() != 1 || pending.Text() != "Acme" {
		t.Fatalf("/orgs before sync = %d, pending %q", res.StatusCode, pending.Text())
	}
	for _, path := range []string{"/api/org", "/api/org/members"} {
		res, body := sendReq(t, ta, hreq{path: path, token: tok})
		if res.StatusCode != http.StatusNotFound || strings.TrimSpace(string(body)) != `{"error":"Organisation not found"}` {
			t.Errorf("%s before sync = %d %s", path, res.StatusCode, body)
		}
	}
	_, body := sendReq(t, ta, hreq{path: "/api/me", token: tok})
	if me := jsonObject(t, body); me["user"] != nil || me["user_id"] == "" {
		t.Errorf("/api/me before sync = %s", body)
	}
}

// userEmail returns the email of a token's user through /api/me.
func userEmail(t *testing.T, ta *testApp, tok string) string {
	t.Helper()
	_, body := sendReq(t, ta, hreq{path: "/api/me", token: tok})
	u, _ := jsonObject(t, body)["user"].(map[string]any)
	email, _ := u["email"].(string)
	if email == "" {
		t.Fatalf("no user in %s", body)
	}
	return email
}
