package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/saasstarter/saas/internal/browsertest"
)

// waitText polls until the first element matching sel has text want.
func waitText(t *testing.T, b *browsertest.Browser, sel, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var got string
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.Ctx, 2*time.Second)
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		cancel()
		if got = strings.TrimSpace(s); err == nil && got == want {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s = %q, want %q (at %s; problems: %v)", sel, got, want, path(t, b), b.Problems())
}

// waitJS waits until expr is truthy in the page, across the navigations a
// form post or a reload makes (each one restarts the wait in the new page).
func waitJS(t *testing.T, b *browsertest.Browser, what, expr string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithDeadline(b.Ctx, deadline)
		_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(0)))
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v (at %s; problems: %v)", what, err, path(t, b), b.Problems())
		}
	}
}

// dbCount runs a count query against the app database.
func dbCount(t *testing.T, ta *testApp, q string, args ...any) int {
	t.Helper()
	var n int
	if err := ta.App.Pool().QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// TestProductJourneyInBrowser is the emulator issue's end-to-end journey in
// Chromium, through the real pages, browser script, handshake and webhook
// sync: sign in as a seeded user, see Acme's dashboard, switch to Globex,
// create an organisation, invite someone who accepts, sign out. Session
// tokens live 5 seconds here, so the journey also proves they refresh.
func TestProductJourneyInBrowser(t *testing.T) {
	t.Parallel()
	b := browsertest.New(t, 150*time.Second)
	ta := start(t, shortTokens())
	ta.synced(t)

	b.Run(t, "open the sign-in page", chromedp.Navigate(ta.URL+"/sign-in"))
	clerkSignIn(t, b, "dave@example.test", "password")
	waitPath(t, b, "/dashboard")
	waitText(t, b, `[data-testid="dashboard"] [data-testid="org-name"]`, "Acme")

	// Tokens expire after 5 s; the browser script refreshes them, so pages
	// keep working with no trip through sign-in. Wait until the cookie holds
	// a token issued after the first one expired.
	first := tokenClaims(t, sessionCookie(t, b))
	b.Run(t, "wait for a token issued after the first expired", chromedp.Poll[chromedp.Void](fmt.Sprintf(
		`(function () { var m = document.cookie.match(/(?:^|; )__session=([^;]+)/); if (!m) return false;
		  return JSON.parse(atob(m[1].split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))).iat > %d; })()`, first.Exp),
		chromedp.WithPollingTimeout(30*time.Second)))
	b.Run(t, "open organisations after the first token expired", chromedp.Navigate(ta.URL+"/orgs"))
	waitPath(t, b, "/orgs")
	b.Run(t, "switch to Globex",
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="org-row"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="org-row"]:not(.active) [data-testid="org-switch"]`)),
	)
	waitPath(t, b, "/dashboard")
	waitText(t, b, `[data-testid="dashboard"] [data-testid="org-name"]`, "Globex")

	b.Run(t, "create an organisation",
		chromedp.Navigate(ta.URL+"/orgs"),
		chromedp.WaitVisible(chromedp.CSS(`#org-name`)),
		chromedp.SendKeys(chromedp.CSS(`#org-name`), "Initech"),
		chromedp.Click(chromedp.CSS(`[data-testid="org-create"] button[type="submit"]`)),
	)
	// The new organisation shows as pending until its webhook lands, then
	// as a row the user can switch to.
	waitJS(t, b, "the new organisation appears once synced",
		`Array.from(document.querySelectorAll('[data-testid="org-row"][data-org-id]')).some(function (r) {
		   return r.textContent.indexOf("Initech") >= 0 && r.querySelector('[data-testid="org-switch"]'); })`)
	ta.synced(t)
	if n := dbCount(t, ta, "SELECT count(*) FROM organizations WHERE name = 'Initech' AND deleted_at IS NULL"); n != 1 {
		t.Fatalf("%d organisations named Initech in the app database, want 1", n)
	}
	var initech string
	if err := ta.App.Pool().QueryRow(context.Background(), "SELECT clerk_id FROM organizations WHERE name = 'Initech'").Scan(&initech); err != nil {
		t.Fatal(err)
	}
	b.Run(t, "switch to Initech", chromedp.Click(chromedp.CSS(`[data-org-id="`+initech+`"] [data-testid="org-switch"]`)))
	waitPath(t, b, "/dashboard")
	waitText(t, b, `[data-testid="dashboard"] [data-testid="org-name"]`, "Initech")

	b.Run(t, "invite a colleague as the new organisation's admin",
		chromedp.Navigate(ta.URL+"/admin/invitations"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="invite-email"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="invite-email"]`), "erin@initech.test"),
		chromedp.Click(chromedp.CSS(`[data-testid="invite-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="invite-notice"]`)),
	)
	var invs struct {
		Data []struct {
			URL string `json:"url"`
		} `json:"data"`
	}
	bapi(t, ta.Server, http.MethodGet, "/organizations/"+initech+"/invitations?status=pending", nil, &invs)
	if len(invs.Data) != 1 {
		t.Fatalf("%d pending invitations", len(invs.Data))
	}
	inviteURL, _ := url.Parse(invs.Data[0].URL)

	b.Run(t, "back to the dashboard", chromedp.Navigate(ta.URL+"/dashboard"))
	clerkSignOut(t, b)
	waitPath(t, b, "/")

	b.Run(t, "the colleague accepts the invitation",
		chromedp.Navigate(ta.URL+inviteURL.RequestURI()),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="clerk-accept-invitation"] form`)),
		chromedp.SendKeys(chromedp.CSS(`#first_name`), "Erin"),
		chromedp.SendKeys(chromedp.CSS(`#last_name`), "Initech"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="clerk-password"]`), "a-long-password"),
		chromedp.Click(chromedp.CSS(`[data-testid="clerk-submit"]`)),
	)
	waitPath(t, b, "/dashboard")
	waitText(t, b, `[data-testid="dashboard"] [data-testid="org-name"]`, "Initech")
	ta.synced(t)
	if n := dbCount(t, ta, `SELECT count(*) FROM memberships m JOIN users u ON u.id = m.user_id JOIN organizations o ON o.id = m.organization_id
		WHERE u.email = 'erin@initech.test' AND o.clerk_id = $1 AND m.role = 'org:member' AND m.deleted_at IS NULL`, initech); n != 1 {
		t.Fatalf("erin's Initech membership in the app database: %d rows", n)
	}
	if n := dbCount(t, ta, `SELECT count(*) FROM memberships m JOIN users u ON u.id = m.user_id JOIN organizations o ON o.id = m.organization_id
		WHERE u.email = 'dave@example.test' AND o.clerk_id = $1 AND m.role = 'org:admin' AND m.deleted_at IS NULL`, initech); n != 1 {
		t.Fatalf("dave is not Initech's admin in the app database: %d rows", n)
	}
	noProblems(t, b)
}
