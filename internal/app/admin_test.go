package app_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/saasstarter/saas/internal/routes"
)

// TestAdminAccessByRole is the contract's /admin/* row: signed out → sign-in,
// no active org → /orgs, members → 403 page, org admins → the screens,
// uncacheable and varying by HX-Request.
func TestAdminAccessByRole(t *testing.T) {
	t.Parallel()
	ta := start(t)
	ta.synced(t)
	var loner struct {
		ID string `json:"id"`
	}
	bapi(t, ta.Server, http.MethodPost, "/users", map[string]any{"email_address": []string{"loner@example.test"}, "password": "password"}, &loner)
	ta.synced(t)

	alice := admAs(t, ta, "alice@acme.test", "acme")
	t.Run("SignedOutGoesToSignIn", func(t *testing.T) {
		res := get(t, ta.URL+routes.AdminMembers, nil)
		admWant(t, res, http.StatusSeeOther)
		if loc := res.Header.Get("Location"); loc != "/sign-in?redirect_url=/admin/members" {
			t.Fatalf("Location = %q", loc)
		}
	})
	t.Run("NoOrgGoesToOrgs", func(t *testing.T) {
		res := get(t, ta.URL+routes.AdminMembers, admAs(t, ta, "loner@example.test", ""))
		admWant(t, res, http.StatusSeeOther)
		if loc := res.Header.Get("Location"); loc != routes.Orgs {
			t.Fatalf("Location = %q", loc)
		}
	})
	t.Run("MemberGets403Page", func(t *testing.T) {
		for _, p := range []string{routes.Admin, routes.AdminMembers, routes.AdminSettings, routes.AdminWebhooks, "/admin/no-such-page"} {
			res := get(t, ta.URL+p, admAs(t, ta, "bob@acme.test", "acme"))
			admWant(t, res, http.StatusForbidden)
			if parse(t, res).Find(`[data-testid="error-page"]`).Length() != 1 {
				t.Errorf("%s: no error page", p)
			}
		}
	})
	t.Run("MemberPostIs403", func(t *testing.T) {
		bob := userID(t, ta.Server, "bob@acme.test")
		res := admPost(t, ta.URL+"/admin/members/"+bob+"/role", url.Values{"role": {"org:admin"}}, admAs(t, ta, "bob@acme.test", "acme"))
		admWant(t, res, http.StatusForbidden)
	})
	t.Run("AdminOfAnotherOrgIsMemberHere", func(t *testing.T) {
		// Dave is admin of Globex and member of Acme: his Acme session is refused.
		admWant(t, get(t, ta.URL+routes.AdminMembers, admAs(t, ta, "dave@example.test", "acme")), http.StatusForbidden)
		admWant(t, get(t, ta.URL+routes.AdminMembers, admAs(t, ta, "dave@example.test", "globex")), http.StatusOK)
	})
	t.Run("AdminRedirectsToMembers", func(t *testing.T) {
		res := get(t, ta.URL+routes.Admin, alice)
		admWant(t, res, http.StatusSeeOther)
		if loc := res.Header.Get("Location"); loc != routes.AdminMembers {
			t.Fatalf("Location = %q", loc)
		}
	})
	for _, p := range []string{routes.AdminMembers, routes.AdminInvitations, routes.AdminSettings, routes.AdminWebhooks, routes.AdminAudit} {
		t.Run("AdminGets"+p, func(t *testing.T) {
			res := get(t, ta.URL+p, alice)
			admWant(t, res, http.StatusOK)
			if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", cc)
			}
			if v := strings.Join(res.Header.Values("Vary"), ","); !strings.Contains(v, "HX-Request") {
				t.Errorf("Vary = %q, want HX-Request", v)
			}
			doc := parse(t, res)
			tab := strings.TrimPrefix(p, "/admin/")
			if doc.Find(`[data-testid="admin-`+tab+`"]`).Length() != 1 {
				t.Fatalf("no admin-%s section", tab)
			}
			if got := doc.Find(`[data-testid="tab-`+tab+`"]`).AttrOr("aria-current", ""); got != "page" {
				t.Errorf("tab aria-current = %q", got)
			}
		})
	}
	t.Run("HTMXGetsFragment", func(t *testing.T) {
		res := get(t, ta.URL+routes.AdminMembers, admHX(alice))
		admWant(t, res, http.StatusOK)
		doc := parse(t, res)
		if doc.Find("header.site-header").Length() != 0 || doc.Find(`[data-testid="members-results"]`).Length() != 1 {
			t.Fatal("HTMX request did not get the bare fragment")
		}
	})
	t.Run("MembersSearch", func(t *testing.T) {
		doc := parse(t, get(t, ta.URL+routes.AdminMembers+"?q=bob", alice))
		rows := doc.Find(`[data-testid="member-row"]`)
		if rows.Length() != 1 || !strings.Contains(rows.Find(`[data-testid="member-email"]`).Text(), "bob@acme.test") {
			t.Fatalf("search for bob found %d rows", rows.Length())
		}
		// LIKE wildcards match literally.
		if n := parse(t, get(t, ta.URL+routes.AdminMembers+"?q=%25", alice)).Find(`[data-testid="member-row"]`).Length(); n != 0 {
			t.Errorf("search for %% matched %d rows", n)
		}
	})
	t.Run("FormsCarryCSRF", func(t *testing.T) {
		// A cookie session (a browser without JavaScript) gets the token in
		// every unsafe form and in the body's hx-headers.
		cookie := admCookie(t, ta, "alice@acme.test", "acme")
		for _, p := range []string{routes.AdminMembers, routes.AdminInvitations, routes.AdminSettings} {
			res := get(t, ta.URL+p, cookie)
			admWant(t, res, http.StatusOK)
			doc := parse(t, res)
			forms := doc.Find(`form[method="post"]`)
			if forms.Length() == 0 {
				t.Fatalf("%s: no forms", p)
			}
			hx, _ := doc.Find("body").Attr("hx-headers")
			for i := range forms.Length() {
				v, _ := forms.Eq(i).Find(`input[name="_csrf"]`).Attr("value")
				if v == "" || !strings.Contains(hx, v) {
					t.Errorf("%s form %d: _csrf %q, hx-headers %q", p, i, v, hx)
				}
			}
		}
	})
}
