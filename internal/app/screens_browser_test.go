package app_test

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/saasstarter/saas/internal/browsertest"
	"github.com/saasstarter/saas/internal/routes"
)

// axeSource is axe-core 4.10.3 (npm package axe-core, MPL-2.0), vendored for
// tests only: the test evaluates it in the page through DevTools, which is
// not subject to the page's CSP; the app never serves it.
//
//go:embed testdata/axe/axe.min.js
var axeSource string

// viewports are the two sizes every screen must fit: a phone and a laptop.
var viewports = []struct {
	name          string
	width, height int64
}{
	{"phone", 390, 844},
	{"desktop", 1280, 800},
}

// screen is one page of the product as one seeded user sees it.
type screen struct {
	path string
	// ready is a CSS selector present once the page has rendered.
	ready string
	// shot, when set, names the screenshot saved under SCREENSHOTS=1.
	shot string
}

// checkScreen opens s at both viewports and fails if the page scrolls
// sideways or axe-core reports any violation.
func checkScreen(t *testing.T, b *browsertest.Browser, base string, s screen) {
	t.Helper()
	for _, vp := range viewports {
		b.Run(t, fmt.Sprintf("open %s at %dx%d", s.path, vp.width, vp.height),
			chromedp.EmulateViewport(vp.width, vp.height),
			chromedp.Navigate(base+s.path),
			chromedp.WaitVisible(chromedp.CSS(s.ready)),
		)
		// Clerk's components mount after the page loads and change the
		// layout; wait until every mount point has rendered.
		admWaitJS(t, b, "Clerk's components to mount", `(() => {
			const mounts = [...document.querySelectorAll('[data-clerk-mount]')];
			return mounts.every(m => m.classList.contains('cl-rootBox') || m.querySelector('[class*="cl-"]'));
		})()`)
		checkFit(t, b, s.path, vp.name)
		// Every page, the emulator's too, takes the design tokens of the
		// app's one stylesheet.
		accent, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](`getComputedStyle(document.documentElement).getPropertyValue("--accent").trim()`))
		if err != nil || accent == "" {
			t.Errorf("%s: no design tokens (--accent = %q, %v)", s.path, accent, err)
		}
		for _, v := range axeViolations(t, b) {
			t.Errorf("%s at %s: axe: %s", s.path, vp.name, v)
		}
		if s.shot != "" {
			shot(t, b, s.shot+"-"+vp.name+".png", chromedp.FullScreenshot(100))
		}
		// On a phone, the header's menu open too.
		open, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](`(() => {
			const m = document.querySelector('.site-menu');
			if (!m || getComputedStyle(m.querySelector('summary')).display === 'none') return false;
			m.open = true;
			return true;
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		if open {
			checkFit(t, b, s.path+" (menu open)", vp.name)
			for _, v := range axeViolations(t, b) {
				t.Errorf("%s at %s with the menu open: axe: %s", s.path, vp.name, v)
			}
		}
	}
}

// checkFit fails the test if the page is wider than the viewport, naming
// the elements that stick out.
func checkFit(t *testing.T, b *browsertest.Browser, what, viewport string) {
	t.Helper()
	widths, err := chromedp.Run(b.Ctx, chromedp.Evaluate[[]int64](`[document.documentElement.scrollWidth, document.documentElement.clientWidth]`))
	if err != nil {
		t.Fatal(err)
	}
	if widths[0] > widths[1] {
		wide, _ := chromedp.Run(b.Ctx, chromedp.Evaluate[string](`(() => {
			const w = document.documentElement.clientWidth;
			return [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > w + 1)
				.slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).replace(/ /g, '.') : '') + ' ' + Math.round(e.getBoundingClientRect().right)).join(', ');
		})()`))
		t.Errorf("%s at %s: the page is %d px wide in a %d px viewport (too wide: %s)", what, viewport, widths[0], widths[1], wide)
	}
}

// axeViolations runs axe-core on the current page and describes each
// violation with the first few elements it concerns.
func axeViolations(t *testing.T, b *browsertest.Browser) []string {
	t.Helper()
	if _, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](`typeof window.axe === "object" || (function () { `+axeSource+`; return true; })()`)); err != nil {
		t.Fatalf("inject axe-core: %v", err)
	}
	raw, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](`axe.run(document, { resultTypes: ["violations"] }).then(r => JSON.stringify(r.violations.map(v => ({
		id: v.id, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(" ") + ": " + n.failureSummary.replace(/\s+/g, " ")),
	}))))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("axe.run: %v", err)
	}
	var vs []struct {
		ID, Help string
		Nodes    []string
	}
	if err := json.Unmarshal([]byte(raw), &vs); err != nil {
		t.Fatal(err)
	}
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		out = append(out, v.ID+" ("+v.Help+"): "+strings.Join(v.Nodes, " | "))
	}
	return out
}

// TestEveryScreenFitsAndPassesAxeInBrowser visits every page of the
// product, signed out and as each seeded user whose role opens it, on a
// phone and on a laptop.
func TestEveryScreenFitsAndPassesAxeInBrowser(t *testing.T) {
	t.Parallel()
	ta := start(t)
	ta.synced(t)
	acmeDelivery := strconv.FormatInt(failDelivery(t, ta, admOrg(t, ta, "acme")), 10)
	globex := admOrg(t, ta, "globex")
	globexDelivery := strconv.FormatInt(failDelivery(t, ta, globex), 10)
	// A project, so that the lists, their delete dialogs and the delete
	// confirmation page are on the screens.
	res, body := sendReq(t, ta, hreq{method: http.MethodPost, path: routes.APIProjects,
		token: sessionToken(t, ta.Server, "alice@acme.test", admOrg(t, ta, "acme")), body: `{"name":"Apollo"}`})
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("create a project: %d %s", res.StatusCode, body)
	}
	project := strconv.FormatInt(int64(jsonObject(t, body)["id"].(float64)), 10)
	// An invitation, for the emulator's page that accepts it.
	var inv struct {
		URL string `json:"url"`
	}
	bapi(t, ta.Server, http.MethodPost, "/organizations/"+admOrg(t, ta, "acme")+"/invitations",
		map[string]string{"email_address": "erin@new.test", "role": "org:member"}, &inv)
	accept, err := url.Parse(inv.URL)
	if err != nil || accept.Path == "" {
		t.Fatalf("invitation URL %q: %v", inv.URL, err)
	}

	t.Run("SignedOut", func(t *testing.T) {
		t.Parallel()
		b := browsertest.New(t, 120*time.Second)
		for _, s := range []screen{
			{path: routes.Home, ready: `main h1`},
			{path: routes.SignIn, ready: `.cl-signIn-root`},
			{path: routes.SignUp, ready: `.cl-signUp-root`},
			{path: accept.RequestURI(), ready: `[data-testid="clerk-accept-invitation"] form`},
			{path: "/no/such/page", ready: `.error-page`},
		} {
			checkScreen(t, b, ta.URL, s)
		}
	})
	t.Run("Admin", func(t *testing.T) {
		t.Parallel()
		b := browsertest.New(t, 180*time.Second)
		admSignIn(t, b, ta.URL, "alice@acme.test", routes.Dashboard)
		waitPath(t, b, routes.Dashboard)
		for _, s := range []screen{
			{path: routes.Dashboard, ready: `[data-testid="dashboard"]`, shot: "dashboard"},
			{path: routes.Orgs, ready: `[data-testid="org-row"]`},
			{path: routes.Projects, ready: `[data-testid="projects"]`},
			{path: "/projects/" + project + "/delete?return=projects", ready: `[data-testid="project-delete-page"]`},
			{path: routes.AdminMembers, ready: `[data-testid="admin-members"]`, shot: "members"},
			{path: "/admin/members/" + userID(t, ta.Server, "bob@acme.test") + "/remove", ready: `[data-testid="admin-confirm"]`},
			{path: routes.AdminInvitations, ready: `[data-testid="invite-form"]`},
			{path: routes.AdminSettings, ready: `[data-testid="settings-form"]`},
			{path: routes.AdminWebhooks, ready: `[data-testid="delivery-row"]`, shot: "webhooks"},
			{path: routes.AdminWebhooks + "/" + acmeDelivery, ready: `main h1`},
			{path: routes.AdminAudit, ready: `main h1`},
			{path: "/no/such/page", ready: `.error-page`},
		} {
			checkScreen(t, b, ta.URL, s)
		}
	})
	t.Run("Member", func(t *testing.T) {
		t.Parallel()
		b := browsertest.New(t, 120*time.Second)
		admSignIn(t, b, ta.URL, "bob@acme.test", routes.Dashboard)
		waitPath(t, b, routes.Dashboard)
		for _, s := range []screen{
			{path: routes.Dashboard, ready: `[data-testid="dashboard"]`},
			{path: routes.Projects, ready: `[data-testid="projects"]`},
			{path: routes.AdminMembers, ready: `.error-page`},
		} {
			checkScreen(t, b, ta.URL, s)
		}
	})
	t.Run("Operator", func(t *testing.T) {
		t.Parallel()
		b := browsertest.New(t, 150*time.Second)
		admSignIn(t, b, ta.URL, "dave@example.test", routes.Dashboard)
		waitPath(t, b, routes.Dashboard)
		for _, s := range []screen{
			{path: routes.Ops, ready: `[data-testid="sync-health"]`, shot: "ops"},
			{path: routes.OpsWebhooks, ready: `main h1`, shot: "ops-webhooks"},
			{path: routes.OpsWebhooks + "/" + globexDelivery, ready: `main h1`},
			{path: "/ops/orgs/" + globex, ready: `main h1`},
			{path: routes.Admin, ready: `.error-page`},
		} {
			checkScreen(t, b, ta.URL, s)
		}
	})
}

// TestFeedbackWhereItHappenedInBrowser: deleting a project asks in a styled
// <dialog> (Cancel keeps it), then updates the count and the dashboard's
// statistic in place and moves the focus to the notice; a settings save
// updates the admin heading without a reload; on the 403 of the admin
// screens, the switch button opens them in the organisation one
// administers.
func TestFeedbackWhereItHappenedInBrowser(t *testing.T) {
	t.Parallel()
	ta := start(t)
	ta.synced(t)

	t.Run("DeleteAndSettings", func(t *testing.T) {
		t.Parallel()
		b := browsertest.New(t, 120*time.Second)
		admSignIn(t, b, ta.URL, "alice@acme.test", routes.Dashboard)
		waitPath(t, b, routes.Dashboard)
		b.Run(t, "create a project",
			chromedp.WaitVisible(chromedp.CSS(`#project-name`)),
			chromedp.SendKeys(chromedp.CSS(`#project-name`), "Apollo"),
			chromedp.Click(chromedp.CSS(`[data-testid="project-create"] button[type="submit"]`)),
		)
		waitText(t, b, `[data-testid="projects-total"]`, "1")
		waitText(t, b, `#stat-projects`, "1")
		// The section was swapped in by the create: wait for htmx to take
		// over its forms (a click before would submit natively).
		admWaitHTMX(t, b, `form:has([data-testid="project-delete"])`)
		b.Run(t, "ask to delete it, then cancel",
			chromedp.Click(chromedp.CSS(`[data-testid="project-delete"]`)),
			chromedp.WaitVisible(chromedp.CSS(`dialog[open] [data-testid="confirm-dialog-cancel"]`)),
		)
		waitText(t, b, `[data-testid="confirm-dialog-text"]`, "Delete project “Apollo”? It is removed for everyone in the organisation. This cannot be undone.")
		b.Run(t, "cancel", chromedp.Click(chromedp.CSS(`dialog[open] [data-testid="confirm-dialog-cancel"]`)))
		admWaitJS(t, b, "the dialog to close with the project kept", `!document.querySelector('dialog[open]') && document.querySelectorAll('[data-testid="project-row"]').length === 1`)
		b.Run(t, "delete it",
			chromedp.Click(chromedp.CSS(`[data-testid="project-delete"]`)),
			chromedp.WaitVisible(chromedp.CSS(`dialog[open] [data-testid="confirm-dialog-ok"]`)),
			chromedp.Click(chromedp.CSS(`dialog[open] [data-testid="confirm-dialog-ok"]`)),
		)
		waitText(t, b, `[data-testid="projects-total"]`, "0")
		waitText(t, b, `#stat-projects`, "0")
		admWaitJS(t, b, "focus on the notice", `document.activeElement && document.activeElement.dataset.testid === "projects-notice"`)
		waitText(t, b, `[data-testid="projects-notice"]`, "Project “Apollo” deleted.")
		if path(t, b) != routes.Dashboard {
			t.Fatalf("the delete navigated to %s", path(t, b))
		}

		b.Run(t, "rename the organisation",
			chromedp.Navigate(ta.URL+routes.AdminSettings),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="settings-name"]`)),
			chromedp.SetValue(chromedp.CSS(`[data-testid="settings-name"]`), "Acme Inc"),
			chromedp.Click(chromedp.CSS(`[data-testid="settings-submit"]`)),
		)
		waitText(t, b, `[data-testid="admin-org-name"]`, "· Acme Inc")

		// A refused action answers next to its form, not in the banner.
		invite := func() {
			admWaitHTMX(t, b, `[data-testid="invite-form"]`)
			b.Run(t, "invite frank@new.test",
				chromedp.WaitVisible(chromedp.CSS(`[data-testid="invite-email"]`)),
				chromedp.SetValue(chromedp.CSS(`[data-testid="invite-email"]`), "frank@new.test"),
				chromedp.Click(chromedp.CSS(`[data-testid="invite-submit"]`)),
			)
		}
		b.Run(t, "invitations", chromedp.Click(chromedp.CSS(`[data-testid="tab-invitations"]`)))
		invite()
		admWaitJS(t, b, "the invitation to be listed", `[...document.querySelectorAll('[data-testid="invitation-email"]')].some(e => e.textContent === "frank@new.test") && !document.querySelector('[data-testid="invite-pending"]')`)
		invite()
		admWaitJS(t, b, "the refusal next to the form", `(() => {
			const e = document.querySelector('[data-testid="invite-form"] + [data-inline-error] [data-testid="error-fragment"]');
			return !!e && e.textContent.includes("already has a pending invitation") && document.getElementById("flash").children.length === 0;
		})()`)
		// Chromium logs every 4xx answer; that one is expected.
		noProblems(t, b, "status of 409 (Conflict) ("+ta.URL+routes.AdminInvitations+")")
	})
	t.Run("ForbiddenOffersTheSwitch", func(t *testing.T) {
		t.Parallel()
		b := browsertest.New(t, 120*time.Second)
		admSignIn(t, b, ta.URL, "dave@example.test", routes.Dashboard)
		// Dave's active organisation is Acme, where he is a member (its
		// name may already be "Acme Inc": the other subtest renames it).
		waitPath(t, b, routes.Dashboard)
		b.Run(t, "open the admin screens as a member of Acme",
			chromedp.Navigate(ta.URL+routes.AdminMembers),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="forbidden-switch"]`)),
			chromedp.Click(chromedp.CSS(`[data-testid="forbidden-switch"]`)),
		)
		waitPath(t, b, routes.AdminMembers)
		b.Run(t, "the members of Globex", chromedp.WaitVisible(chromedp.CSS(`[data-testid="admin-members"]`)))
		waitText(t, b, `[data-testid="admin-org-name"]`, "· Globex")
	})
}

// TestSignInLooksLikeTheAppInBrowser: Clerk's <SignIn/> takes the app's
// primary colour and font from the stylesheet's tokens (app.js hands them
// over as appearance variables).
func TestSignInLooksLikeTheAppInBrowser(t *testing.T) {
	t.Parallel()
	ta := start(t)
	b := browsertest.New(t, 60*time.Second)
	b.Run(t, "open sign-in", chromedp.Navigate(ta.URL+routes.SignIn), chromedp.WaitVisible(chromedp.CSS(`.cl-signIn-root .cl-formButtonPrimary`)))
	got, err := chromedp.Run(b.Ctx, chromedp.Evaluate[[]string](`(() => {
		const probe = document.createElement("span");
		probe.style.color = getComputedStyle(document.documentElement).getPropertyValue("--accent");
		document.body.append(probe);
		const accent = getComputedStyle(probe).color;
		probe.remove();
		const button = getComputedStyle(document.querySelector(".cl-signIn-root .cl-formButtonPrimary"));
		return [accent, button.backgroundColor, button.fontFamily, getComputedStyle(document.body).fontFamily];
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("accent %s, button %s, button font %s, page font %s", got[0], got[1], got[2], got[3])
	if got[1] != got[0] {
		t.Errorf("the sign-in button is %s, the app's primary colour %s", got[1], got[0])
	}
	if got[2] != got[3] {
		t.Errorf("the sign-in button's font is %q, not the app's %q", got[2], got[3])
	}
}
