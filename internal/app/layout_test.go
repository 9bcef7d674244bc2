package app_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/saasstarter/saas/internal/clerkjs"
)

// TestLayoutLoadsClerk: every page loads @clerk/ui, then ClerkJS, from the
// Frontend API (the emulator's, through the proxy URL), with the page's
// nonce; the sign-in and sign-up pages (and every path below them, for
// Clerk's path routing) mount Clerk's components; signed in, the header has
// the mount points of <OrganizationSwitcher/> and <UserButton/> with the
// session's organisation and user names shown until they render.
func TestLayoutLoadsClerk(t *testing.T) {
	t.Parallel()
	ta := start(t)
	ta.synced(t)
	proxy := ta.App.Emulator.ProxyURL()

	for _, tc := range []struct{ path, mount string }{
		{"/sign-in", "sign-in"}, {"/sign-in/factor-one", "sign-in"}, {"/sign-up", "sign-up"}, {"/sign-up/continue", "sign-up"},
	} {
		res, doc := pageReq(t, ta, hreq{path: tc.path})
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", tc.path, res.StatusCode)
		}
		nonce := cspNonce(res.Header.Get("Content-Security-Policy"))
		scripts := doc.Find(`script[crossorigin="anonymous"]`)
		ui, _ := scripts.Eq(0).Attr("src")
		cjs, _ := scripts.Eq(1).Attr("src")
		key, _ := scripts.Eq(1).Attr("data-clerk-publishable-key")
		proxyAttr, _ := scripts.Eq(1).Attr("data-clerk-proxy-url")
		if scripts.Length() != 2 || ui != proxy+"/npm/@clerk/ui@"+pinned(t, clerkjs.UIPackage)+"/dist/ui.browser.js" ||
			cjs != proxy+"/npm/@clerk/clerk-js@"+pinned(t, clerkjs.ClerkJSPackage)+"/dist/clerk.browser.js" ||
			key != ta.App.Clerk.PublishableKey || proxyAttr != proxy {
			t.Fatalf("%s loads %q and %q (key %q, proxy %q)", tc.path, ui, cjs, key, proxyAttr)
		}
		doc.Find("script").Each(func(_ int, s *goquery.Selection) {
			if n, _ := s.Attr("nonce"); n != nonce {
				t.Errorf("%s: a script without the page's nonce", tc.path)
			}
		})
		mount := doc.Find(`[data-clerk-mount="` + tc.mount + `"]`)
		if p, _ := mount.Attr("data-path"); mount.Length() != 1 || p != "/"+tc.mount {
			t.Errorf("%s: mount %d, path %q", tc.path, mount.Length(), p)
		}
	}

	_, doc := pageReq(t, ta, hreq{path: "/dashboard", token: sessionToken(t, ta.Server, "dave@example.test", "")})
	switcher := doc.Find(`.site-header [data-clerk-mount="organization-switcher"]`)
	after, _ := switcher.Attr("data-after-select-url")
	create, _ := switcher.Attr("data-after-create-url")
	if got := strings.TrimSpace(switcher.Find(`[data-testid="active-org"]`).Text()); got != "Acme" || after != "/dashboard" || create != "/orgs" {
		t.Errorf("organisation switcher: %q, after select %q, after create %q", got, after, create)
	}
	if got := strings.TrimSpace(doc.Find(`.site-header [data-clerk-mount="user-button"] [data-testid="user-name"]`).Text()); got != "Dave Dunn" {
		t.Errorf("user button fallback = %q, want Dave Dunn", got)
	}
}
