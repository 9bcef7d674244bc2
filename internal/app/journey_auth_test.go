package app_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/saasstarter/saas/internal/browsertest"
)

// path returns the browser's current path and query.
func path(t *testing.T, b *browsertest.Browser) string {
	t.Helper()
	loc, err := chromedp.Run(b.Ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(loc)
	if u.RawQuery != "" {
		return u.Path + "?" + u.RawQuery
	}
	return u.Path
}

// waitPath polls until the browser is on want (path and query).
func waitPath(t *testing.T, b *browsertest.Browser, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if path(t, b) == want {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("browser at %q, want %q (problems: %v)", path(t, b), want, b.Problems())
}

// signInThroughUI signs in on the sign-in page with email and password.
func signInThroughUI(t *testing.T, b *browsertest.Browser, email string) {
	t.Helper()
	b.Run(t, "fill the sign-in form",
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="clerk-sign-in"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="clerk-sign-in"] [data-testid="clerk-email"]`), email),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="clerk-sign-in"] [data-testid="clerk-password"]`), "password"),
		chromedp.Click(chromedp.CSS(`[data-testid="clerk-sign-in"] [data-testid="clerk-submit"]`)),
	)
}

// TestSignInRedirectAndSignOutInBrowser is issue 3's journey: a signed-out
// visit to a protected page goes to sign-in with redirect_url, signing in
// through the browser script lands there with a verified session, and
// signing out ends it.
func TestSignInRedirectAndSignOutInBrowser(t *testing.T) {
	t.Parallel()
	b := browsertest.New(t, 90*time.Second)
	ta := start(t)
	ta.synced(t)

	b.Run(t, "open a protected page signed out", chromedp.Navigate(ta.URL+"/dashboard"))
	waitPath(t, b, "/sign-in?redirect_url=/dashboard")

	signInThroughUI(t, b, "alice@acme.test")
	waitPath(t, b, "/dashboard")
	b.Run(t, "the layout shows the signed-in user", chromedp.WaitVisible(chromedp.CSS(`[data-testid="clerk-user-button"]`)))
	org, err := chromedp.Run(b.Ctx, chromedp.Text(chromedp.CSS(`[data-testid="active-org"]`)))
	if err != nil || strings.TrimSpace(org) != "acme" {
		t.Fatalf("active org badge = %q, %v; want acme (the server verified the session cookie)", org, err)
	}

	b.Run(t, "sign out through the user button",
		chromedp.Click(chromedp.CSS(`[data-testid="clerk-user-button"] summary`)),
		chromedp.Click(chromedp.CSS(`[data-testid="clerk-sign-out"]`)),
	)
	waitPath(t, b, "/")
	b.Run(t, "signed out: the landing page offers sign-in", chromedp.WaitVisible(chromedp.CSS(`.nav-end a[href="/sign-in"]`)))
	b.Run(t, "protected pages are closed again", chromedp.Navigate(ta.URL+"/dashboard"))
	waitPath(t, b, "/sign-in?redirect_url=/dashboard")
	if p := b.Problems(); len(p) != 0 {
		t.Errorf("browser problems: %v", p)
	}
}

// TestSignUpInBrowser: a new user signs up through the browser script and
// lands on the page they asked for, with their user synced by webhook.
func TestSignUpInBrowser(t *testing.T) {
	t.Parallel()
	b := browsertest.New(t, 90*time.Second)
	ta := start(t)
	ta.synced(t)
	b.Run(t, "sign up",
		chromedp.Navigate(ta.URL+"/sign-up?redirect_url=/"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="clerk-sign-up"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="clerk-first-name"]`), "Erin"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="clerk-last-name"]`), "Newcomer"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="clerk-email"]`), "erin@new.test"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="clerk-password"]`), "a-long-password"),
		chromedp.Click(chromedp.CSS(`[data-testid="clerk-submit"]`)),
	)
	waitPath(t, b, "/")
	b.Run(t, "signed in after sign-up", chromedp.WaitVisible(chromedp.CSS(`[data-testid="clerk-user-button"]`)))
	ta.synced(t)
	var n int
	if err := ta.App.Pool().QueryRow(b.Ctx, "SELECT count(*) FROM users WHERE email = 'erin@new.test' AND first_name = 'Erin'").Scan(&n); err != nil || n != 1 {
		t.Fatalf("signed-up user in the app database: %d, %v", n, err)
	}
}
