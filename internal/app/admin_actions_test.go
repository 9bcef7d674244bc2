package app_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/saasstarter/saas/internal/routes"
)

// memberRole is a member's role in the app database ("" when not a member).
func memberRole(t *testing.T, ta *testApp, email, slug string) string {
	t.Helper()
	return admDB(t, ta, `SELECT COALESCE((SELECT m.role FROM memberships m JOIN users u ON u.id = m.user_id
		JOIN organizations o ON o.id = m.organization_id
		WHERE u.email = $1 AND o.slug = $2 AND m.deleted_at IS NULL), '')`, email, slug)
}

func TestAdminChangeRole(t *testing.T) {
	t.Parallel()
	ta := start(t)
	ta.synced(t)
	bob := userID(t, ta.Server, "bob@acme.test")
	alice := admAs(t, ta, "alice@acme.test", "acme")

	t.Run("HTMXSwapsThePendingRow", func(t *testing.T) {
		res := admPost(t, ta.URL+"/admin/members/"+bob+"/role", url.Values{"role": {"org:admin"}}, admHX(alice))
		admWant(t, res, http.StatusOK)
		doc := admRows(t, res)
		row := doc.Find(`tr[data-testid="member-row"]`)
		if row.Length() != 1 || doc.Find("header.site-header").Length() != 0 {
			t.Fatal("response is not the member row fragment")
		}
		if row.Find(`[data-autofocus]`).Length() != 1 {
			t.Error("the row's status does not take focus")
		}
		// Either the webhook already landed, or the row says pending and polls.
		if row.Find(`[data-testid="pending"]`).Length() == 1 {
			if poll, _ := row.Attr("hx-get"); !strings.Contains(poll, "expect=org%3Aadmin") {
				t.Errorf("pending row polls %q", poll)
			}
		}
		ta.synced(t)
		if got := memberRole(t, ta, "bob@acme.test", "acme"); got != "org:admin" {
			t.Fatalf("database role = %q, want org:admin", got)
		}
		// The poll now answers the settled row: no pending badge, no polling.
		poll := admRows(t, get(t, ta.URL+"/admin/members/"+bob+"?expect=org:admin&try=1", admHX(alice)))
		if poll.Find(`[data-testid="pending"]`).Length() != 0 || poll.Find(`tr[hx-get]`).Length() != 0 {
			t.Fatal("settled row still pending")
		}
		if got := strings.TrimSpace(poll.Find(`[data-testid="member-role"] .badge`).First().Text()); got != "Admin" {
			t.Fatalf("row role = %q", got)
		}
	})
	t.Run("NoJSPostRedirectsWithFlash", func(t *testing.T) {
		cookie := admCookie(t, ta, "alice@acme.test", "acme")
		tok, h := admCSRF(t, ta, routes.AdminMembers, cookie)
		res := admPost(t, ta.URL+"/admin/members/"+bob+"/role", url.Values{"role": {"org:member"}, "_csrf": {tok}}, h)
		admWant(t, res, http.StatusSeeOther)
		if loc := res.Header.Get("Location"); loc != routes.AdminMembers {
			t.Fatalf("Location = %q", loc)
		}
		var flash string
		for _, c := range res.Cookies() {
			if strings.Contains(c.Name, "app_session") {
				flash = c.Name + "=" + c.Value
			}
		}
		page := parse(t, get(t, ta.URL+routes.AdminMembers, map[string]string{"Cookie": h["Cookie"] + "; " + flash}))
		if !strings.Contains(page.Find(`[data-testid="flash"]`).Text(), "Role change to Member sent") {
			t.Fatalf("flash = %q", page.Find(`[data-testid="flash"]`).Text())
		}
		ta.synced(t)
		if got := memberRole(t, ta, "bob@acme.test", "acme"); got != "org:member" {
			t.Fatalf("database role = %q", got)
		}
	})
	t.Run("UnknownRoleRefused", func(t *testing.T) {
		res := admPost(t, ta.URL+"/admin/members/"+bob+"/role", url.Values{"role": {"org:owner"}}, admHX(alice))
		admWant(t, res, http.StatusBadRequest)
		if res.Header.Get("HX-Retarget") != "#flash" {
			t.Error("HTMX error not retargeted to #flash")
		}
	})
	t.Run("AuditLogShowsIt", func(t *testing.T) {
		doc := parse(t, get(t, ta.URL+routes.AdminAudit, alice))
		if !strings.Contains(doc.Find(`[data-testid="audit-sentence"]`).Text(), "changed Bob Baker's role to") {
			t.Fatal("no role change entry")
		}
		// The stored events are for operators; an admin reads sentences.
		if n := doc.Find(`[data-testid="audit-raw"]`).Length(); n != 0 {
			t.Errorf("an admin who is not an operator is shown %d raw events", n)
		}
		// Dave runs the deployment (operator) and administers Globex.
		ops := parse(t, get(t, ta.URL+routes.AdminAudit, admAs(t, ta, "dave@example.test", "globex")))
		raw := ops.Find(`[data-testid="audit-raw"]`)
		if raw.Length() == 0 || raw.Length() != ops.Find(`[data-testid="audit-row"]`).Length() {
			t.Errorf("operator sees %d raw events for %d entries", raw.Length(), ops.Find(`[data-testid="audit-row"]`).Length())
		}
	})
}

func TestAdminLastAdminAndRemoval(t *testing.T) {
	t.Parallel()
	ta := start(t)
	ta.synced(t)
	alice := admAs(t, ta, "alice@acme.test", "acme")
	aliceID, bob := userID(t, ta.Server, "alice@acme.test"), userID(t, ta.Server, "bob@acme.test")

	t.Run("LastAdminCannotBeDemoted", func(t *testing.T) {
		res := admPost(t, ta.URL+"/admin/members/"+aliceID+"/role", url.Values{"role": {"org:member"}}, admHX(alice))
		admWant(t, res, http.StatusConflict)
		if res.Header.Get("HX-Retarget") != "#flash" || parse(t, res).Find(`[data-testid="error-fragment"]`).Length() != 1 {
			t.Fatal("refusal is not an inline error in #flash")
		}
	})
	t.Run("LastAdminCannotBeRemoved", func(t *testing.T) {
		admWant(t, admPost(t, ta.URL+"/admin/members/"+aliceID+"/remove", nil, admHX(alice)), http.StatusConflict)
		ta.synced(t)
		if got := memberRole(t, ta, "alice@acme.test", "acme"); got != "org:admin" {
			t.Fatalf("alice's role = %q", got)
		}
	})
	t.Run("RemoveMember", func(t *testing.T) {
		res := admPost(t, ta.URL+"/admin/members/"+bob+"/remove", nil, admHX(alice))
		admWant(t, res, http.StatusOK)
		ta.synced(t)
		if got := memberRole(t, ta, "bob@acme.test", "acme"); got != "" {
			t.Fatalf("bob is still %q", got)
		}
		// The pending row's poll now answers nothing: the row disappears.
		poll := get(t, ta.URL+"/admin/members/"+bob+"?expect=removed&try=1", admHX(alice))
		admWant(t, poll, http.StatusOK)
		if doc := admRows(t, poll); doc.Find("tr").Length() != 0 {
			t.Fatal("removed member's row still rendered")
		}
		if n := parse(t, get(t, ta.URL+routes.AdminMembers+"?q=bob", alice)).Find(`[data-testid="member-row"]`).Length(); n != 0 {
			t.Fatalf("bob still listed (%d rows)", n)
		}
	})
	t.Run("NowTwoAdminsOneMayStepDown", func(t *testing.T) {
		dave := userID(t, ta.Server, "dave@example.test")
		admWant(t, admPost(t, ta.URL+"/admin/members/"+dave+"/role", url.Values{"role": {"org:admin"}}, admHX(alice)), http.StatusOK)
		admWant(t, admPost(t, ta.URL+"/admin/members/"+aliceID+"/role", url.Values{"role": {"org:member"}}, admHX(alice)), http.StatusOK)
		ta.synced(t)
		// Alice's token still says admin, but the database no longer does:
		// the screens close at once.
		admWant(t, get(t, ta.URL+routes.AdminMembers, alice), http.StatusForbidden)
	})
}

func TestAdminInviteAcceptRevoke(t *testing.T) {
	t.Parallel()
	ta := start(t)
	ta.synced(t)
	alice := admAs(t, ta, "alice@acme.test", "acme")
	acme := admOrg(t, ta, "acme")

	res := admPost(t, ta.URL+routes.AdminInvitations, url.Values{"email": {"erin@new.test"}, "role": {"org:member"}}, admHX(alice))
	admWant(t, res, http.StatusOK)
	if !strings.Contains(parse(t, res).Find(`[data-testid="invite-notice"]`).Text(), "erin@new.test") {
		t.Fatal("no notice for the invitation")
	}
	admWant(t, admPost(t, ta.URL+routes.AdminInvitations, url.Values{"email": {"not an email"}, "role": {"org:member"}}, admHX(alice)), http.StatusBadRequest)
	admWant(t, admPost(t, ta.URL+routes.AdminInvitations, url.Values{"email": {"bob@acme.test"}, "role": {"org:member"}}, admHX(alice)), http.StatusBadRequest)
	ta.synced(t)
	doc := parse(t, get(t, ta.URL+routes.AdminInvitations, alice))
	if !strings.Contains(doc.Find(`[data-testid="invitation-email"]`).Text(), "erin@new.test") {
		t.Fatal("invitation not listed after its webhook")
	}

	// Erin accepts through the emulator's invitation page (the link Clerk
	// would have emailed).
	var invs struct {
		Data []struct {
			ID, URL, EmailAddress string `json:"-"`
			RawID                 string `json:"id"`
			RawURL                string `json:"url"`
			RawEmail              string `json:"email_address"`
		} `json:"data"`
	}
	bapi(t, ta.Server, http.MethodGet, "/organizations/"+acme+"/invitations?status=pending", nil, &invs)
	if len(invs.Data) != 1 {
		t.Fatalf("%d pending invitations in Clerk", len(invs.Data))
	}
	u, _ := url.Parse(invs.Data[0].RawURL)
	accept := admPost(t, ta.URL+"/__clerk/accept-invitation", url.Values{
		"token": {u.Query().Get("token")}, "password": {"password123"}, "first_name": {"Erin"}, "last_name": {"Example"},
	}, nil)
	admWant(t, accept, http.StatusSeeOther)
	ta.synced(t)
	if got := memberRole(t, ta, "erin@new.test", "acme"); got != "org:member" {
		t.Fatalf("erin's role = %q after accepting", got)
	}
	if n := parse(t, get(t, ta.URL+routes.AdminInvitations, alice)).Find(`[data-testid="invitation-row"]`).Length(); n != 0 {
		t.Fatalf("accepted invitation still pending (%d rows)", n)
	}

	// Frank's invitation is revoked before he accepts.
	admWant(t, admPost(t, ta.URL+routes.AdminInvitations, url.Values{"email": {"frank@new.test"}, "role": {"org:admin"}}, admHX(alice)), http.StatusOK)
	ta.synced(t)
	row := parse(t, get(t, ta.URL+routes.AdminInvitations, alice)).Find(`[data-testid="invitation-row"]`)
	id, _ := row.Attr("data-invitation-id")
	if row.Length() != 1 || id == "" {
		t.Fatalf("frank's invitation: %d rows", row.Length())
	}
	if confirm, _ := row.Find(`form[hx-confirm]`).Attr("hx-confirm"); !strings.Contains(confirm, "frank@new.test") {
		t.Errorf("revoke has no confirmation naming the invitee: %q", confirm)
	}
	admWant(t, admPost(t, ta.URL+"/admin/invitations/"+id+"/revoke", nil, admHX(alice)), http.StatusOK)
	ta.synced(t)
	if n := parse(t, get(t, ta.URL+routes.AdminInvitations, alice)).Find(`[data-testid="invitation-row"]`).Length(); n != 0 {
		t.Fatal("revoked invitation still listed")
	}
	if got := admDB(t, ta, "SELECT status FROM invitations WHERE clerk_id = $1", id); got != "revoked" {
		t.Fatalf("invitation status = %q", got)
	}
}

// claims decodes a JWT's payload without verifying it (the app verified it).
func claims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestAdminSettings(t *testing.T) {
	t.Parallel()
	ta := start(t)
	ta.synced(t)
	alice := admAs(t, ta, "alice@acme.test", "acme")
	form := url.Values{
		"name": {`Acme <script>alert(1)</script>`}, "slug": {"acme-corp"}, "logo_url": {"https://cdn.example/logo.png"},
	}
	res := admPost(t, ta.URL+routes.AdminSettings, form, admHX(alice))
	admWant(t, res, http.StatusOK)
	status := parse(t, res).Find(`[data-testid="settings-status"]`)
	if st, _ := status.Attr("data-state"); st != "pending" && st != "saved" {
		t.Fatalf("status after save = %q", st)
	}
	ta.synced(t)
	if got := admDB(t, ta, "SELECT name || '|' || slug || '|' || plan || '|' || (public_metadata->>'logo_url') FROM organizations WHERE clerk_id = $1", admOrg(t, ta, "acme-corp")); got != `Acme <script>alert(1)</script>|acme-corp|enterprise|https://cdn.example/logo.png` {
		t.Fatalf("organisation row = %q", got)
	}
	// The poll of the pending status now says saved.
	poll, _ := status.Attr("hx-get")
	if poll != "" {
		st := parse(t, get(t, ta.URL+poll, admHX(alice))).Find(`[data-testid="settings-status"]`).AttrOr("data-state", "")
		if st != "saved" {
			t.Fatalf("status after webhook = %q", st)
		}
	}
	// The name is text, never markup.
	page := parse(t, get(t, ta.URL+routes.AdminSettings, alice))
	if page.Find("main script").Length() != 0 || page.Find(`[data-testid="settings-name"]`).AttrOr("value", "") != `Acme <script>alert(1)</script>` {
		t.Fatal("organisation name not escaped")
	}
	for name, bad := range map[string]url.Values{
		"BadSlug":       {"name": {"Acme"}, "slug": {"Not A Slug"}},
		"JavaScriptURL": {"name": {"Acme"}, "slug": {"acme"}, "logo_url": {"javascript:alert(1)"}},
		"EmptyName":     {"name": {" "}, "slug": {"acme"}},
	} {
		t.Run(name, func(t *testing.T) {
			admWant(t, admPost(t, ta.URL+routes.AdminSettings, bad, admHX(admAs(t, ta, "alice@acme.test", "acme-corp"))), http.StatusBadRequest)
		})
	}
}
