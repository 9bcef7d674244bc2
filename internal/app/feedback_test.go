package app_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/saasstarter/saas/internal/routes"
)

// TestDuplicateInvitationRefused: a second pending invitation to the same
// address (in any case) is refused with 409 and a clear message, and
// nothing more is sent to Clerk or stored.
func TestDuplicateInvitationRefused(t *testing.T) {
	t.Parallel()
	ta := start(t)
	ta.synced(t)
	alice := admAs(t, ta, "alice@acme.test", "acme")
	admWant(t, admPost(t, ta.URL+routes.AdminInvitations, url.Values{"email": {"frank@new.test"}, "role": {"org:member"}}, admHX(alice)), http.StatusOK)
	ta.synced(t)

	res := admPost(t, ta.URL+routes.AdminInvitations, url.Values{"email": {"Frank@New.test"}, "role": {"org:admin"}}, admHX(alice))
	admWant(t, res, http.StatusConflict)
	if got := parse(t, res).Find(`[data-testid="error-fragment"]`).Text(); !strings.Contains(got, "already has a pending invitation") {
		t.Errorf("error fragment = %q", got)
	}
	ta.synced(t)
	if n := dbCount(t, ta, `SELECT count(*) FROM invitations WHERE lower(email) = 'frank@new.test' AND status = 'pending'`); n != 1 {
		t.Fatalf("%d pending invitations to frank@new.test, want 1", n)
	}
	t.Run("AnotherAddressStillWorks", func(t *testing.T) {
		admWant(t, admPost(t, ta.URL+routes.AdminInvitations, url.Values{"email": {"grace@new.test"}, "role": {"org:member"}}, admHX(alice)), http.StatusOK)
	})
}

// TestHistoryReadsAsSentences: the audit log and the dashboard's activity
// say who did what with names, and a role change shows the new role.
func TestHistoryReadsAsSentences(t *testing.T) {
	t.Parallel()
	ta := start(t)
	ta.synced(t)
	alice := admAs(t, ta, "alice@acme.test", "acme")
	bob := userID(t, ta.Server, "bob@acme.test")
	admWant(t, admPost(t, ta.URL+"/admin/members/"+bob+"/role", url.Values{"role": {"org:admin"}}, admHX(alice)), http.StatusOK)
	admWant(t, admPost(t, ta.URL+routes.AdminSettings, url.Values{"name": {"Acme Inc"}, "slug": {"acme"}}, admHX(alice)), http.StatusOK)
	ta.synced(t)

	audit := parse(t, get(t, ta.URL+routes.AdminAudit, alice))
	sentences := textsOf(audit, `[data-testid="audit-sentence"]`)
	for _, want := range []string{
		"Alice Anders changed Bob Baker's role to Admin",
		"Alice Anders updated the organisation settings: name Acme → Acme Inc",
		"Bob Baker's role is now Admin",
	} {
		if !slices.Contains(sentences, want) {
			t.Errorf("audit log lacks %q: %q", want, sentences)
		}
	}
	// The raw entry is one click away for operators only
	// (TestAdminChangeRole/AuditLogShowsIt shows an operator's view).
	if audit.Find(`[data-testid="audit-row"] details pre`).Length() != 0 {
		t.Error("an admin who is not an operator is shown raw events")
	}

	dash := parse(t, get(t, ta.URL+routes.Dashboard, alice))
	activity := textsOf(dash, `[data-testid="activity-sentence"]`)
	if !slices.Contains(activity, "Alice Anders changed Bob Baker's role to Admin") {
		t.Errorf("dashboard activity = %q", activity)
	}
	for _, s := range activity {
		if strings.Contains(s, "user_") || strings.Contains(s, "org_") || strings.Contains(s, "organization.") {
			t.Errorf("activity shows raw data: %q", s)
		}
	}
}

// TestSettingsSaveUpdatesHeading: once a saved name reaches the database,
// the settings answer carries the admin heading with it, swapped out of
// band (the browser test sees it change in place).
func TestSettingsSaveUpdatesHeading(t *testing.T) {
	t.Parallel()
	ta := start(t)
	ta.synced(t)
	alice := admAs(t, ta, "alice@acme.test", "acme")
	res := admPost(t, ta.URL+routes.AdminSettings, url.Values{"name": {"Acme Inc"}, "slug": {"acme"}}, admHX(alice))
	admWant(t, res, http.StatusOK)
	ta.synced(t)
	doc := parse(t, get(t, ta.URL+routes.AdminSettings+"?expect=x", admHX(alice)))
	if got := textsOf(doc, `#admin-org-name[hx-swap-oob="true"]`); !slices.Equal(got, []string{"· Acme Inc"}) {
		t.Fatalf("out-of-band heading = %q", got)
	}
}

// TestAdminForbiddenOffersTheWayOut: a member opening the admin screens
// gets a 403 that says why; one who administers another organisation is
// offered the switch to it, the others are told to ask an admin.
func TestAdminForbiddenOffersTheWayOut(t *testing.T) {
	t.Parallel()
	ta := start(t)
	s := seedProduct(t, ta)
	page := map[string]string{"Accept": "text/html", "Sec-Fetch-Dest": "document"}
	t.Run("AdminElsewhereIsOfferedTheSwitch", func(t *testing.T) {
		res, doc := pageReq(t, ta, hreq{path: routes.AdminMembers, token: s.tok["dave@example.test/acme"], header: page})
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("status %d, want 403", res.StatusCode)
		}
		sw := doc.Find(`[data-testid="forbidden-switch"]`)
		if sw.Length() != 1 || sw.AttrOr("data-clerk-set-active-org", "") != s.org["globex"] || !strings.Contains(sw.Text(), "Switch to Globex") {
			t.Fatalf("switch offered: %d %q", sw.Length(), sw.Text())
		}
		if sw.AttrOr("data-redirect-url", "") != routes.AdminMembers {
			t.Errorf("after the switch the page goes to %q", sw.AttrOr("data-redirect-url", ""))
		}
	})
	t.Run("OthersAreToldToAskAnAdmin", func(t *testing.T) {
		res, doc := pageReq(t, ta, hreq{path: routes.AdminMembers, token: s.tok["bob@acme.test/acme"], header: page})
		if res.StatusCode != http.StatusForbidden || doc.Find(`[data-testid="forbidden-switch"]`).Length() != 0 {
			t.Fatalf("status %d, switch offered %d times", res.StatusCode, doc.Find(`[data-testid="forbidden-switch"]`).Length())
		}
		if got := doc.Find(`[data-testid="forbidden-ask"]`).Text(); !strings.Contains(got, "Ask an admin of Acme") {
			t.Errorf("advice = %q", got)
		}
	})
	t.Run("HTMXStillGetsTheFragment", func(t *testing.T) {
		res, doc := pageReq(t, ta, hreq{path: routes.AdminMembers, token: s.tok["bob@acme.test/acme"], header: hxHeaders})
		if res.StatusCode != http.StatusForbidden || doc.Find(`[data-testid="error-fragment"]`).Length() != 1 {
			t.Fatalf("status %d", res.StatusCode)
		}
	})
}

// TestOnlyPossibleActionsAreOffered: nobody is offered Remove on their own
// row, the only admin is not offered Leave, and a member who cannot create
// projects is told so.
func TestOnlyPossibleActionsAreOffered(t *testing.T) {
	t.Parallel()
	ta := start(t)
	s := seedProduct(t, ta)
	alice := s.tok["alice@acme.test/acme"]
	_, doc := pageReq(t, ta, hreq{path: routes.AdminMembers, token: alice})
	self := doc.Find(`[data-testid="member-row"]`).FilterFunction(func(_ int, r *goquery.Selection) bool {
		return strings.TrimSpace(r.Find(`[data-testid="member-name"]`).Text()) == "Alice Anders"
	})
	if self.Length() != 1 || self.Find(`[data-testid="remove-member"]`).Length() != 0 || self.Find(`[data-testid="member-self-hint"]`).Length() != 1 {
		t.Errorf("own row: %d rows, remove offered %d times", self.Length(), self.Find(`[data-testid="remove-member"]`).Length())
	}
	if n := doc.Find(`[data-testid="remove-member"]`).Length(); n != 2 {
		t.Errorf("remove offered for %d members, want 2 (Bob and Dave)", n)
	}

	_, doc = pageReq(t, ta, hreq{path: routes.Orgs, token: alice})
	if doc.Find(`[data-testid="org-leave"]`).Length() != 0 || doc.Find(`[data-testid="org-sole-admin"]`).Length() != 1 {
		t.Error("the only admin of Acme is offered Leave")
	}
	_, doc = pageReq(t, ta, hreq{path: routes.Orgs, token: s.tok["bob@acme.test/acme"]})
	if doc.Find(`[data-testid="org-leave"]`).Length() != 1 {
		t.Error("a member is not offered Leave")
	}

	_, doc = pageReq(t, ta, hreq{path: routes.Projects, token: s.tok["bob@acme.test/acme"]})
	if got := doc.Find(`[data-testid="projects-empty"]`).Text(); !strings.Contains(got, "cannot create projects") {
		t.Errorf("empty state for a member = %q", got)
	}
}

// TestProjectDeleteConfirmationPage: without JavaScript, Delete opens a
// confirmation page whose form deletes; nothing is deleted by opening it.
// (With JavaScript, TestFeedbackWhereItHappenedInBrowser.)
func TestProjectDeleteConfirmationPage(t *testing.T) {
	t.Parallel()
	ta := start(t)
	s := seedProduct(t, ta)
	alice := s.tok["alice@acme.test/acme"]
	res, doc := pageReq(t, ta, hreq{method: "POST", path: routes.Projects, token: alice, header: hxHeaders, body: "name=Apollo&return=projects"})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("create = %d", res.StatusCode)
	}
	// The row's form is what a browser without JavaScript submits: a GET
	// of the confirmation page with its fields. htmx posts it instead,
	// after asking in the layout's dialog.
	ask := doc.Find(`[data-testid="project-delete"]`).Closest("form")
	action := ask.AttrOr("action", "")
	if ask.AttrOr("method", "") != "get" || !strings.HasSuffix(action, "/delete") || ask.AttrOr("hx-post", "") != action ||
		!strings.Contains(ask.AttrOr("hx-confirm", ""), "Delete project “Apollo”?") {
		t.Fatalf("delete form: method %q, action %q, hx-post %q, hx-confirm %q", ask.AttrOr("method", ""), action,
			ask.AttrOr("hx-post", ""), ask.AttrOr("hx-confirm", ""))
	}
	if ret := ask.Find(`input[name="return"]`).AttrOr("value", ""); ret != "projects" {
		t.Fatalf("delete form's return = %q", ret)
	}
	href := action + "?return=projects"
	res, page := pageReq(t, ta, hreq{path: href, token: alice})
	if res.StatusCode != http.StatusOK || !strings.Contains(page.Find("h1").Text(), "Delete project “Apollo”?") {
		t.Fatalf("confirmation page = %d %q", res.StatusCode, page.Find("h1").Text())
	}
	if n := dbCount(t, ta, `SELECT count(*) FROM projects WHERE name = 'Apollo'`); n != 1 {
		t.Fatalf("opening the confirmation deleted the project (%d left)", n)
	}
	form := page.Find(`form[data-testid="project-delete-form"]`)
	if form.AttrOr("method", "") != "post" || form.AttrOr("hx-post", "") != "" {
		t.Fatalf("confirmation form: method %q, hx-post %q", form.AttrOr("method", ""), form.AttrOr("hx-post", ""))
	}
	res, _ = sendReq(t, ta, hreq{method: "POST", path: form.AttrOr("action", ""), token: alice, body: "return=projects"})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != routes.Projects {
		t.Fatalf("confirmed delete = %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if n := dbCount(t, ta, `SELECT count(*) FROM projects WHERE name = 'Apollo'`); n != 0 {
		t.Fatal("the project is still there")
	}
	t.Run("MembersWhoCannotManageGet403", func(t *testing.T) {
		res, _ := sendReq(t, ta, hreq{path: href, token: s.tok["bob@acme.test/acme"]})
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("status %d", res.StatusCode)
		}
	})
}

// TestAdminConfirmationPages: without JavaScript, Remove and Revoke open a
// confirmation page (their row forms are GET forms; htmx posts them after
// its dialog), whose form posts the action; opening it changes nothing.
func TestAdminConfirmationPages(t *testing.T) {
	t.Parallel()
	ta := start(t)
	ta.synced(t)
	alice := admAs(t, ta, "alice@acme.test", "acme")
	bob := userID(t, ta.Server, "bob@acme.test")
	admWant(t, admPost(t, ta.URL+routes.AdminInvitations, url.Values{"email": {"frank@new.test"}, "role": {"org:member"}}, admHX(alice)), http.StatusOK)
	ta.synced(t)

	members := parse(t, get(t, ta.URL+routes.AdminMembers, alice))
	row := members.Find(`tr[data-user-id="` + bob + `"] [data-testid="remove-member"]`).Closest("form")
	target := "/admin/members/" + bob + "/remove"
	if row.AttrOr("method", "") != "get" || row.AttrOr("action", "") != target || row.AttrOr("hx-post", "") != target || row.AttrOr("hx-confirm", "") == "" {
		t.Fatalf("Bob's remove form: method %q action %q hx-post %q", row.AttrOr("method", ""), row.AttrOr("action", ""), row.AttrOr("hx-post", ""))
	}
	res := get(t, ta.URL+target, alice)
	admWant(t, res, http.StatusOK)
	page := parse(t, res)
	if got := page.Find(`[data-testid="admin-confirm"] h2`).Text(); got != "Remove Bob Baker from Acme?" {
		t.Errorf("question = %q", got)
	}
	if f := page.Find(`form[data-testid="admin-confirm-form"]`); f.AttrOr("method", "") != "post" || f.AttrOr("action", "") != target || f.Find(`input[name="_csrf"]`).Length() != 1 {
		t.Errorf("confirming form: method %q action %q", f.AttrOr("method", ""), f.AttrOr("action", ""))
	}
	if got := memberRole(t, ta, "bob@acme.test", "acme"); got != "org:member" {
		t.Fatalf("opening the confirmation changed Bob's membership: %q", got)
	}

	inv := admDB(t, ta, `SELECT clerk_id FROM invitations WHERE email = 'frank@new.test'`)
	res = get(t, ta.URL+"/admin/invitations/"+inv+"/revoke", alice)
	admWant(t, res, http.StatusOK)
	if got := parse(t, res).Find(`[data-testid="admin-confirm"] h2`).Text(); got != "Revoke the invitation to frank@new.test?" {
		t.Errorf("question = %q", got)
	}
	if n := dbCount(t, ta, `SELECT count(*) FROM invitations WHERE email = 'frank@new.test' AND status = 'pending'`); n != 1 {
		t.Fatal("opening the confirmation revoked the invitation")
	}
	t.Run("MembersGet403", func(t *testing.T) {
		res := get(t, ta.URL+target, admAs(t, ta, "bob@acme.test", "acme"))
		admWant(t, res, http.StatusForbidden)
	})
}
