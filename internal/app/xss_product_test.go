package app_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// webhookXSSCorpus is checklist X-01: markup, attribute breakouts, script URLs,
// template syntax and htmx attribute injection.
var webhookXSSCorpus = []string{
	`<script>alert(1)</script>`,
	`"><img src=x onerror=alert(1)>`,
	`'><svg onload=alert(1)>`,
	`javascript:alert(1)`,
	`{{7*7}} ${7*7}`,
	`" hx-get="/orgs/leave" hx-trigger="load`,
	`</title><script>alert(1)</script>`,
}

// TestXSSThroughWebhooks is X-04: hostile user and organisation names are
// set in Clerk (the emulator's Backend API), arrive by webhook, and render
// on /orgs and /dashboard as text: no element, attribute or handler appears
// that the page would not have had anyway.
func TestXSSThroughWebhooks(t *testing.T) {
	t.Parallel()
	ta := start(t)
	s := seedProduct(t, ta)
	alice := s.tok["alice@acme.test/acme"]
	for _, payload := range webhookXSSCorpus {
		t.Run(payload, func(t *testing.T) {
			bapi(t, ta.Server, http.MethodPatch, "/organizations/"+s.org["acme"], map[string]any{"name": payload}, nil)
			bapi(t, ta.Server, http.MethodPatch, "/users/"+userID(t, ta.Server, "bob@acme.test"), map[string]any{"first_name": payload}, nil)
			ta.synced(t)
			createProject(t, ta, alice, payload)
			for _, r := range []hreq{{path: "/orgs"}, {path: "/dashboard"}, {path: "/dashboard", header: hxHeaders}, {path: "/projects"}} {
				r.token = alice
				res, doc := pageReq(t, ta, r)
				if res.StatusCode != http.StatusOK {
					t.Fatalf("%s = %d", r.path, res.StatusCode)
				}
				assertNoInjectedMarkup(t, r.path, doc)
				if !strings.Contains(doc.Text(), payload) {
					t.Errorf("%s does not show the payload as text", r.path)
				}
			}
			_, doc := pageReq(t, ta, hreq{path: "/dashboard", token: alice})
			if got := strings.TrimSpace(doc.Find(`[data-testid="dashboard"] [data-testid="org-name"]`).Text()); got != payload {
				t.Errorf("org name rendered as %q", got)
			}
			found := false
			doc.Find(`[data-testid="member-name"]`).Each(func(_ int, m *goquery.Selection) {
				found = found || strings.HasPrefix(m.Text(), payload)
			})
			if !found {
				t.Error("the hostile first name is not shown as text in the members list")
			}
		})
	}
}

// assertNoInjectedMarkup fails on anything a payload could have added: event
// handler attributes, scripts without the page's nonce, the payloads'
// elements, htmx triggers other than the app's own, and script URLs.
func assertNoInjectedMarkup(t *testing.T, path string, doc *goquery.Document) {
	t.Helper()
	doc.Find("*").Each(func(_ int, s *goquery.Selection) {
		node := s.Get(0)
		for _, a := range node.Attr {
			name, val := strings.ToLower(a.Key), strings.ToLower(strings.TrimSpace(a.Val))
			switch {
			case strings.HasPrefix(name, "on"):
				t.Errorf("%s: <%s %s=%q> has an event handler", path, node.Data, a.Key, a.Val)
			case name == "hx-trigger" && val != "load delay:1s":
				t.Errorf("%s: <%s hx-trigger=%q> was injected", path, node.Data, a.Val)
			case (name == "href" || name == "src" || name == "action") && strings.HasPrefix(val, "javascript:"):
				t.Errorf("%s: <%s %s=%q> is a script URL", path, node.Data, a.Key, a.Val)
			}
		}
	})
	if n := doc.Find(`svg, img[src="x"]`).Length(); n > 0 {
		t.Errorf("%s: %d injected elements", path, n)
	}
	doc.Find("script").Each(func(_ int, s *goquery.Selection) {
		if _, ok := s.Attr("nonce"); !ok {
			t.Errorf("%s: a script without the nonce: %q", path, s.Text())
		}
	})
}
