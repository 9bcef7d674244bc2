package app_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/saasstarter/saas/internal/browsertest"
)

// These journeys drive Clerk's own ClerkJS and @clerk/ui bundles (the pinned
// ones the emulator serves, as Clerk's Frontend API does in production):
// <SignIn/>, <SignUp/>, <UserButton/> and <OrganizationSwitcher/>, selected
// by the cl-* class names Clerk documents for styling them.

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

// waitPath waits until the browser is on want (path and query).
func waitPath(t *testing.T, b *browsertest.Browser, want string) {
	t.Helper()
	waitJS(t, b, "the browser at "+want, `location.pathname + location.search === `+jsString(want))
}

func jsString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// The console errors a journey may expect: Chromium logs every 4xx answer
// to a fetch, and the Frontend API answers a wrong password with 422 and a
// revoked session's token request with 401, as Clerk's does.
const (
	wrongPassword = "Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"
	signedOut     = "Failed to load resource: the server responded with a status of 401 (Unauthorized)"
)

// noProblems fails the test on any console error or CSP violation other
// than the expected ones, each of which must have occurred. A problem
// matches an expected text it contains: browsertest appends the resource's
// URL when Chromium's message names none.
func noProblems(t *testing.T, b *browsertest.Browser, expected ...string) {
	t.Helper()
	seen := map[string]bool{}
	for _, p := range b.Problems() {
		i := slices.IndexFunc(expected, func(e string) bool { return strings.Contains(p, e) })
		if i < 0 {
			t.Errorf("browser problem: %s", p)
			continue
		}
		seen[expected[i]] = true
	}
	for _, e := range expected {
		if !seen[e] {
			t.Errorf("expected %q in the console, did not see it", e)
		}
	}
}

// clerkSignIn signs in through <SignIn/> on the current page: the email
// address, then the password on the factor-one step. It returns once the
// password is submitted.
func clerkSignIn(t *testing.T, b *browsertest.Browser, email, password string) {
	t.Helper()
	b.Run(t, "enter the email address in <SignIn/>",
		chromedp.WaitVisible(chromedp.CSS(`.cl-signIn-root #identifier-field`)),
		chromedp.SendKeys(chromedp.CSS(`.cl-signIn-root #identifier-field`), email),
		chromedp.Click(chromedp.CSS(`.cl-signIn-root .cl-formButtonPrimary`)),
	)
	waitJS(t, b, "the password step of <SignIn/>", `location.pathname === "/sign-in/factor-one" && !!document.querySelector(".cl-signIn-password #password-field")`)
	clerkPassword(t, b, password)
}

// clerkPassword replaces what the password field of <SignIn/> holds and
// submits it.
func clerkPassword(t *testing.T, b *browsertest.Browser, password string) {
	t.Helper()
	sel := chromedp.CSS(`.cl-signIn-password #password-field`)
	b.Run(t, "enter the password in <SignIn/>",
		chromedp.WaitVisible(sel),
		chromedp.Evaluate[chromedp.Void](`document.querySelector(".cl-signIn-password #password-field").select()`),
		chromedp.SendKeys(sel, password),
		chromedp.Click(chromedp.CSS(`.cl-signIn-password .cl-formButtonPrimary`)),
	)
}

// clerkSignOut signs out through <UserButton/>'s menu.
func clerkSignOut(t *testing.T, b *browsertest.Browser) {
	t.Helper()
	b.Run(t, "sign out through <UserButton/>",
		chromedp.WaitVisible(chromedp.CSS(`.cl-userButtonTrigger`)),
		chromedp.Click(chromedp.CSS(`.cl-userButtonTrigger`)),
		chromedp.WaitVisible(chromedp.CSS(`.cl-userButtonPopoverActionButton__signOut`)),
		chromedp.Click(chromedp.CSS(`.cl-userButtonPopoverActionButton__signOut`)),
	)
}

// sessionStatus is the emulator's status of a user's newest session.
func sessionStatus(t *testing.T, ta *testApp, userID string) string {
	t.Helper()
	var list struct {
		Data []struct {
			Status string `json:"status"`
		} `json:"data"`
	}
	bapi(t, ta.Server, http.MethodGet, "/sessions?paginated=true&user_id="+userID, nil, &list)
	if len(list.Data) == 0 {
		t.Fatalf("%s has no sessions", userID)
	}
	return list.Data[0].Status
}

// TestAuthJourneyInBrowser: a new user signs up through <SignUp/>, signs
// out through <UserButton/> (the session ends at Clerk, and protected pages
// close), is added to an organisation, and signs in through <SignIn/> with
// a wrong, then the right password, landing on the dashboard they asked for.
func TestAuthJourneyInBrowser(t *testing.T) {
	t.Parallel()
	b := browsertest.New(t, 120*time.Second)
	ta := start(t)
	ta.synced(t)

	b.Run(t, "open sign-up", chromedp.Navigate(ta.URL+"/sign-up"))
	b.Run(t, "sign up through <SignUp/>",
		chromedp.WaitVisible(chromedp.CSS(`.cl-signUp-root #emailAddress-field`)),
		chromedp.SendKeys(chromedp.CSS(`.cl-signUp-root #firstName-field`), "Erin"),
		chromedp.SendKeys(chromedp.CSS(`.cl-signUp-root #lastName-field`), "Newcomer"),
		chromedp.SendKeys(chromedp.CSS(`.cl-signUp-root #emailAddress-field`), "erin@new.test"),
		chromedp.SendKeys(chromedp.CSS(`.cl-signUp-root #password-field`), "a-long-password"),
		chromedp.Click(chromedp.CSS(`.cl-signUp-root .cl-formButtonPrimary`)),
	)
	// Without an organisation the dashboard sends her to /orgs, signed in.
	waitPath(t, b, "/orgs")
	waitText(t, b, `.cl-userButtonOuterIdentifier`, "Erin Newcomer")
	ta.synced(t)
	if n := dbCount(t, ta, "SELECT count(*) FROM users WHERE email = 'erin@new.test' AND first_name = 'Erin'"); n != 1 {
		t.Fatalf("signed-up user in the app database: %d rows", n)
	}
	erin := userID(t, ta.Server, "erin@new.test")

	clerkSignOut(t, b)
	waitPath(t, b, "/")
	b.Run(t, "signed out: the landing page offers sign-in", chromedp.WaitVisible(chromedp.CSS(`.nav-end a[href="/sign-in"]`)))
	if s := sessionStatus(t, ta, erin); s != "removed" {
		t.Fatalf("session after sign-out is %q at the emulator, want removed", s)
	}
	b.Run(t, "protected pages are closed", chromedp.Navigate(ta.URL+"/dashboard"))
	waitPath(t, b, "/sign-in?redirect_url=/dashboard")

	// An admin adds her to Acme while she is away.
	bapi(t, ta.Server, http.MethodPost, "/organizations/"+admOrg(t, ta, "acme")+"/memberships",
		map[string]any{"user_id": erin, "role": "org:member"}, nil)
	ta.synced(t)

	waitSettled(t, b, `.cl-signIn-root #identifier-field`)
	admShot(t, b, "sign-in.png")
	clerkSignIn(t, b, "erin@new.test", "not-her-password")
	waitText(t, b, `#error-password`, "Password is incorrect. Try again, or use another method.")
	clerkPassword(t, b, "a-long-password")
	waitPath(t, b, "/dashboard")
	waitText(t, b, `[data-testid="dashboard"] [data-testid="org-name"]`, "Acme")
	waitText(t, b, `.cl-organizationSwitcherTrigger .cl-organizationPreviewMainIdentifier`, "Acme")
	noProblems(t, b, wrongPassword)
}

// TestSignOutEveryTabInBrowser: signing out in one tab ends the session at
// Clerk, and the other tab of the same browser follows (ClerkJS broadcasts
// the sign-out; the page reloads and the server sends it to sign-in).
func TestSignOutEveryTabInBrowser(t *testing.T) {
	t.Parallel()
	b := browsertest.New(t, 120*time.Second)
	ta := start(t)
	ta.synced(t)

	b.Run(t, "open sign-in", chromedp.Navigate(ta.URL+"/sign-in?redirect_url=/dashboard"))
	clerkSignIn(t, b, "alice@acme.test", "password")
	waitPath(t, b, "/dashboard")

	other, cancel := chromedp.NewContext(b.Ctx)
	defer cancel()
	if _, err := chromedp.Run(other, chromedp.Navigate(ta.URL+"/projects")); err != nil {
		t.Fatal(err)
	}
	second := &browsertest.Browser{Ctx: other}
	waitJS(t, second, "Clerk loaded in the second tab", `!!(window.Clerk && Clerk.loaded && Clerk.user)`)

	clerkSignOut(t, b)
	waitPath(t, b, "/")
	waitPath(t, second, "/sign-in?redirect_url=/projects")
	if s := sessionStatus(t, ta, userID(t, ta.Server, "alice@acme.test")); s != "removed" {
		t.Fatalf("session after sign-out is %q at the emulator, want removed", s)
	}
	noProblems(t, b)
}

// TestRevokedSessionInBrowser: a session revoked through the Backend API
// (an admin, a security tool) signs the open tab out: ClerkJS's next token
// refresh is refused, it reloads its client, and the page follows.
func TestRevokedSessionInBrowser(t *testing.T) {
	t.Parallel()
	b := browsertest.New(t, 120*time.Second)
	ta := start(t, shortTokens())
	ta.synced(t)

	b.Run(t, "open sign-in", chromedp.Navigate(ta.URL+"/sign-in?redirect_url=/projects"))
	clerkSignIn(t, b, "bob@acme.test", "password")
	waitPath(t, b, "/projects")
	waitJS(t, b, "Clerk loaded", `!!(window.Clerk && Clerk.session)`)
	sid, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](`Clerk.session.id`))
	if err != nil || sid == "" {
		t.Fatalf("session id: %q %v", sid, err)
	}
	bapi(t, ta.Server, http.MethodPost, "/sessions/"+sid+"/revoke", map[string]any{}, nil)
	waitPath(t, b, "/sign-in?redirect_url=/projects")
	noProblems(t, b, signedOut)
}

// TestStaleSessionHandshakeInBrowser: a page load with an expired __session
// cookie goes through Clerk's handshake (a 307 to the Frontend API and back
// with fresh cookies) and lands signed in, without ClerkJS's help.
func TestStaleSessionHandshakeInBrowser(t *testing.T) {
	t.Parallel()
	b := browsertest.New(t, 120*time.Second)
	ta := start(t, shortTokens())
	ta.synced(t)

	b.Run(t, "open sign-in", chromedp.Navigate(ta.URL+"/sign-in?redirect_url=/dashboard"))
	clerkSignIn(t, b, "bob@acme.test", "password")
	waitPath(t, b, "/dashboard")

	// Leave the app (no ClerkJS refreshes the cookies any more), wait until
	// the server refuses the last token ClerkJS wrote, and make it the only
	// one the browser holds (ClerkJS writes __session and its suffixed twin).
	b.Run(t, "leave the app", chromedp.Navigate("about:blank"))
	cookies := appCookies(t, b, ta.URL)
	stale := cookies["__session"]
	for name, v := range cookies {
		if strings.HasPrefix(name, "__session_") && tokenClaims(t, v).Exp > tokenClaims(t, stale).Exp {
			stale = v
		}
	}
	waitRefused(t, ta, stale)
	for name := range cookies {
		if strings.HasPrefix(name, "__session") {
			setCookie(t, b, ta.URL, name, stale)
		}
	}

	b.Run(t, "open the dashboard with the expired cookie", chromedp.Navigate(ta.URL+"/dashboard"))
	waitPath(t, b, "/dashboard")
	waitText(t, b, `[data-testid="dashboard"] [data-testid="org-name"]`, "Acme")
	// The handshake is three redirects, all on the app's origin: to the
	// Frontend API's /v1/client/handshake, back with __clerk_handshake, and
	// to the same page without it once its cookies are set.
	redirects, err := chromedp.Run(b.Ctx, chromedp.Evaluate[int](`performance.getEntriesByType("navigation")[0].redirectCount`))
	if err != nil || redirects != 3 {
		t.Fatalf("the page load made %d redirects (%v), want the handshake's 3", redirects, err)
	}
	if fresh := appCookies(t, b, ta.URL)["__session"]; fresh == "" || fresh == stale {
		t.Fatal("the handshake did not replace the expired cookie")
	}
	noProblems(t, b)
}

// waitSettled waits until sel is in the page and no animation runs (Clerk's
// components fade in), so a screenshot shows them as a user sees them.
func waitSettled(t *testing.T, b *browsertest.Browser, sel string) {
	t.Helper()
	waitJS(t, b, sel+" settled", `!!document.querySelector(`+jsString(sel)+`) &&
		document.getAnimations().every(function (a) { return a.playState !== "running"; })`)
}

// clickWithText clicks the element matching sel whose text contains text.
func clickWithText(t *testing.T, b *browsertest.Browser, step, sel, text string) {
	t.Helper()
	found, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](`(function () {
		var el = Array.from(document.querySelectorAll(`+jsString(sel)+`)).find(function (e) { return e.textContent.indexOf(`+jsString(text)+`) >= 0; });
		if (el) el.setAttribute("data-test-target", "");
		return !!el;
	})()`))
	if err != nil || !found {
		t.Fatalf("%s: no %s with %q (%v)", step, sel, text, err)
	}
	b.Run(t, step, chromedp.Click(chromedp.CSS(`[data-test-target]`)))
}

// openOrgSwitcher opens <OrganizationSwitcher/>'s popover.
func openOrgSwitcher(t *testing.T, b *browsertest.Browser) {
	t.Helper()
	b.Run(t, "open <OrganizationSwitcher/>",
		chromedp.WaitVisible(chromedp.CSS(`.cl-organizationSwitcherTrigger`)),
		chromedp.Click(chromedp.CSS(`.cl-organizationSwitcherTrigger`)),
		chromedp.WaitVisible(chromedp.CSS(`.cl-organizationSwitcherPopoverCard`)),
	)
}

// TestOrgSwitcherJourneyInBrowser: with <OrganizationSwitcher/> in the
// header, a member of two organisations switches to the other and sees its
// dashboard, creates an organisation through Clerk's flow and finds it in
// /orgs once its webhook has landed, then signs out through <UserButton/>;
// after a reload the dashboard sends them to sign-in.
func TestOrgSwitcherJourneyInBrowser(t *testing.T) {
	t.Parallel()
	b := browsertest.New(t, 150*time.Second)
	ta := start(t)
	ta.synced(t)

	b.Run(t, "open sign-in", chromedp.Navigate(ta.URL+"/sign-in?redirect_url=/dashboard"))
	clerkSignIn(t, b, "dave@example.test", "password")
	waitPath(t, b, "/dashboard")
	waitText(t, b, `[data-testid="dashboard"] [data-testid="org-name"]`, "Acme")
	waitText(t, b, `.cl-organizationSwitcherTrigger .cl-organizationPreviewMainIdentifier`, "Acme")
	waitText(t, b, `.cl-userButtonOuterIdentifier`, "Dave Dunn")
	waitJS(t, b, "the server-rendered names hidden once Clerk's components render",
		`["user-name", "active-org"].every(function (id) { return getComputedStyle(document.querySelector('[data-testid="' + id + '"]')).display === "none"; })`)
	shot(t, b, "header.png", chromedp.Screenshot(chromedp.CSS(`header.site-header`)))

	openOrgSwitcher(t, b)
	waitSettled(t, b, `.cl-organizationSwitcherPopoverCard`)
	shot(t, b, "org-switcher.png", chromedp.CaptureScreenshot())
	clickWithText(t, b, "switch to Globex", `.cl-organizationSwitcherPreviewButton`, "Globex")
	waitPath(t, b, "/dashboard")
	waitText(t, b, `[data-testid="dashboard"] [data-testid="org-name"]`, "Globex")
	// The server-rendered fallback names the new organisation too (hidden,
	// so read as textContent, once Clerk's switcher has rendered).
	waitJS(t, b, "the header's server-rendered organisation is Globex",
		`(function () { var e = document.querySelector('[data-testid="active-org"]'); return e && e.textContent.trim() === "Globex"; })()`)

	openOrgSwitcher(t, b)
	b.Run(t, "create an organisation through Clerk's flow",
		chromedp.Click(chromedp.CSS(`.cl-organizationSwitcherPopoverActionButton__createOrganization`)),
		chromedp.WaitVisible(chromedp.CSS(`.cl-createOrganization-root #name-field`)),
		chromedp.SendKeys(chromedp.CSS(`.cl-createOrganization-root #name-field`), "Initech"),
		chromedp.Click(chromedp.CSS(`.cl-createOrganization-root .cl-formButtonPrimary`)),
		// Clerk offers to invite members next; this journey skips it.
		chromedp.WaitVisible(chromedp.CSS(`.cl-createOrganization-root .cl-formButtonReset`)),
		chromedp.Click(chromedp.CSS(`.cl-createOrganization-root .cl-formButtonReset`)),
	)
	waitPath(t, b, "/orgs")
	// The new organisation is active at once; the page shows it once its
	// webhook has brought it into the database.
	waitJS(t, b, "Initech listed as the active organisation",
		`Array.from(document.querySelectorAll('[data-testid="org-row"].active [data-testid="org-name"]')).some(function (n) { return n.textContent.trim() === "Initech"; })`)
	ta.synced(t)
	if n := dbCount(t, ta, `SELECT count(*) FROM memberships m JOIN users u ON u.id = m.user_id JOIN organizations o ON o.id = m.organization_id
		WHERE u.email = 'dave@example.test' AND o.name = 'Initech' AND m.role = 'org:admin' AND m.deleted_at IS NULL`); n != 1 {
		t.Fatalf("dave's Initech membership in the app database: %d rows", n)
	}

	clerkSignOut(t, b)
	waitPath(t, b, "/")
	b.Run(t, "reload the dashboard", chromedp.Navigate(ta.URL+"/dashboard"))
	waitPath(t, b, "/sign-in?redirect_url=/dashboard")
	noProblems(t, b)
}
