package app_test

import (
	_ "embed"
	"encoding/json"
	"fmt"
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
			t.Errorf("%s at %s: the page is %d px wide in a %d px viewport (too wide: %s)", s.path, vp.name, widths[0], widths[1], wide)
		}
		for _, v := range axeViolations(t, b) {
			t.Errorf("%s at %s: axe: %s", s.path, vp.name, v)
		}
		if s.shot != "" {
			shot(t, b, s.shot+"-"+vp.name+".png", chromedp.FullScreenshot(100))
		}
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

	t.Run("SignedOut", func(t *testing.T) {
		t.Parallel()
		b := browsertest.New(t, 120*time.Second)
		for _, s := range []screen{
			{path: routes.Home, ready: `main h1`},
			{path: routes.SignIn, ready: `.cl-signIn-root`},
			{path: routes.SignUp, ready: `.cl-signUp-root`},
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
			{path: routes.AdminMembers, ready: `[data-testid="admin-members"]`, shot: "members"},
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
