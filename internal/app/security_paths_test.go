package app_test

// Header tricks and path tricks: nothing a client puts
// in a header or in the spelling of a path changes who it is, which route
// it reaches, or what it may see.

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/saasstarter/saas/internal/app"
	"github.com/saasstarter/saas/internal/ratelimit"
)

// spoofHeaders are client-set "internal" headers that proxies or frameworks
// have trusted by mistake (checklist §2.1).
var spoofHeaders = map[string]string{
	"x-middleware-subrequest":  "middleware:middleware:middleware:middleware:middleware",
	"X-Original-URL":           "/healthz",
	"X-Rewrite-URL":            "/healthz",
	"X-Forwarded-Prefix":       "/static",
	"X-Forwarded-Host":         "evil.example",
	"X-Forwarded-Proto":        "https",
	"X-Forwarded-For":          "127.0.0.1",
	"X-Real-IP":                "127.0.0.1",
	"X-User-Id":                "user_admin",
	"X-Org-Id":                 "org_other",
	"X-Org-Role":               "org:admin",
	"X-Clerk-Auth-Status":      "signed-in",
	"X-Clerk-Auth-Token":       "x",
	"X-HTTP-Method-Override":   "GET",
	"HX-Request":               "true",
	"HX-Boosted":               "true",
	"Sec-Fetch-Site":           "same-origin",
	"Authorization":            "Basic YWRtaW46YWRtaW4=",
	"X-Forwarded-Server":       "localhost",
	"X-Original-Forwarded-For": "10.0.0.1",
}

// protectedTargets are requests that need a session (or an admin role).
var protectedTargets = []struct{ method, path string }{
	{"GET", "/dashboard"}, {"GET", "/orgs"}, {"GET", "/admin"}, {"GET", "/admin/members"},
	{"GET", "/ops"}, {"GET", "/api/me"}, {"GET", "/api/org"}, {"GET", "/api/org/members"},
	{"POST", "/api/org/export"}, {"GET", "/api/projects"}, {"POST", "/api/m2m/usage"},
}

// outcome is what must not change: status, redirect target and, for JSON,
// the body (HTML bodies differ by nonce and CSRF token).
func outcome(res *http.Response, body string) string {
	o := res.Status + " | " + res.Header.Get("Location") + " | " + res.Header.Get("HX-Redirect")
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		o += " | " + strings.TrimSpace(body)
	}
	if res.Header.Get("Strict-Transport-Security") != "" {
		o += " | HSTS"
	}
	return o
}

// TestHeaderTricksChangeNothing is A-01: each spoofed header, on every
// protected route, anonymous and as a member who is not an admin, gives the
// same answer as the request without it.
func TestHeaderTricksChangeNothing(t *testing.T) {
	t.Parallel()
	// Over a hundred anonymous /api requests from one address: more than a
	// minute's default allowance, which would turn the last answers into 429.
	ta := start(t, app.Options{RateLimit: ratelimit.Config{Limit: 10_000}})
	ta.synced(t)
	callers := map[string]map[string]string{
		"Anonymous": {"Accept": "text/html"},
		"Member":    with(bearer(sessionToken(t, ta.Server, "bob@acme.test", "")), "Accept", "text/html"),
	}
	for who, base := range callers {
		for _, target := range protectedTargets {
			t.Run(who+target.method+target.path, func(t *testing.T) {
				res, body := do(t, target.method, ta.URL+target.path, base, nil)
				want := outcome(res, body)
				if who == "Anonymous" && res.StatusCode < 300 {
					t.Fatalf("anonymous %s %s = %s", target.method, target.path, want)
				}
				for k, v := range spoofHeaders {
					h := with(base, k, v)
					if k == "Authorization" && who == "Member" {
						continue // replacing the member's own credentials is not a trick
					}
					res, body := do(t, target.method, ta.URL+target.path, h, nil)
					if k == "HX-Request" || k == "HX-Boosted" {
						// htmx gets the same decision in its own form.
						if (res.StatusCode < 300) != (want[:1] == "2") {
							t.Errorf("%s: %s changed the decision: %s, without it %s", k, v, outcome(res, body), want)
						}
						continue
					}
					if got := outcome(res, body); got != want {
						t.Errorf("%s: %s changed the answer:\n got %s\nwant %s", k, v, got, want)
					}
				}
			})
		}
	}
}

// TestHandshakeIgnoresForwardedHost is A-01 on the one redirect that names
// an absolute URL of the app: the handshake's return address comes from
// BASE_URL, never from X-Forwarded-Host or the Host header.
func TestHandshakeIgnoresForwardedHost(t *testing.T) {
	t.Parallel()
	p := startProduction(t)
	res, _ := do(t, "GET", p.URL+"/dashboard?tab=1", map[string]string{
		"Accept": "text/html", "Sec-Fetch-Dest": "document", "Cookie": "__client_uat=1700000000",
		"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http", "Forwarded": "host=evil.example",
	}, nil)
	loc, err := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusTemporaryRedirect || err != nil {
		t.Fatalf("status %d, Location %q: want the handshake", res.StatusCode, res.Header.Get("Location"))
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != prodFAPI+"/v1/client/handshake" {
		t.Errorf("handshake goes to %q", got)
	}
	if got := loc.Query().Get("redirect_url"); got != prodBaseURL+"/dashboard?tab=1" {
		t.Errorf("handshake returns to %q, want %q", got, prodBaseURL+"/dashboard?tab=1")
	}
}

// pathTricks are §2.4's spellings adapted to our routes. None may reach a
// protected handler anonymously, nor an admin handler as a member.
var pathTricks = []string{
	"/DASHBOARD", "/Dashboard", "/dashboard/", "//dashboard", "/%64ashboard", "/dashboard%2f", "/dashboard;x",
	"/dashboard%00", "/dashboard%20", "/./dashboard", "/x/../dashboard", "/x/..%2fdashboard", "/static/../dashboard",
	"/static/..%2fdashboard", "/healthz/../dashboard", "/sign-in/../dashboard", "/sign-in/..%2f..%2fdashboard",
	"/api/webhooks/clerk/../../me", "/api/me/", "/API/me", "/api//me", "/%61pi/me", "/api%2fme",
	"/admin/", "/ADMIN/members", "/admin//members", "/admin/./members", "/admin/members/", "/admin/members;x",
	"/%61dmin/members", "/admin%2fmembers", "/x/../admin/members", "/sign-in/../admin/members",
	"/admin/members%2f..%2f..%2fhealthz",
}

// TestPathTricksDoNotBypassProtection is A-07: every trick, as sent (raw
// request line), is refused anonymously (401, 403, 404 or a redirect to
// sign-in; never 2xx) and never answers a member with 2xx on an admin path.
// Paths below /sign-in/ match that public catch-all route (the router does
// not clean dot segments), so they get the sign-in page, which is checked.
func TestPathTricksDoNotBypassProtection(t *testing.T) {
	t.Parallel()
	ta := start(t)
	member := bearer(sessionToken(t, ta.Server, "bob@acme.test", ""))
	for _, p := range pathTricks {
		t.Run(url.PathEscape(p), func(t *testing.T) {
			for _, h := range []map[string]string{{"Accept": "text/html"}, {"HX-Request": "true"}} {
				res, body := rawRequest(t, ta.URL, "GET", p, h)
				if strings.HasPrefix(p, "/sign-in/") && res.StatusCode == http.StatusOK && strings.Contains(body, "data-clerk-mount") {
					continue // the public /sign-in/* route matched: Clerk's page, not the target
				}
				if !refused(res) {
					t.Errorf("anonymous GET %s (%v) = %d, Location %q", p, h, res.StatusCode, res.Header.Get("Location"))
				}
			}
			if strings.Contains(strings.ToLower(p), "admin") {
				res, _ := rawRequest(t, ta.URL, "GET", p, member)
				if res.StatusCode < 300 {
					t.Errorf("member GET %s = %d", p, res.StatusCode)
				}
			}
		})
	}
}

// refused reports whether an anonymous request was turned away.
func refused(res *http.Response) bool {
	switch res.StatusCode {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusMethodNotAllowed:
		return true
	case http.StatusSeeOther, http.StatusFound, http.StatusTemporaryRedirect:
		return strings.HasPrefix(res.Header.Get("Location"), "/sign-in?")
	}
	return false
}

// TestAbsoluteFormTargets: a request line naming another host
// ("GET http://evil.example/dashboard") is routed by its path only, refused
// like the plain path, and never redirected to the named host.
func TestAbsoluteFormTargets(t *testing.T) {
	t.Parallel()
	ta := start(t)
	member := bearer(sessionToken(t, ta.Server, "bob@acme.test", ""))
	for _, p := range []string{"/dashboard", "/admin/members", "/api/me"} {
		t.Run(p, func(t *testing.T) {
			plain, plainBody := rawRequest(t, ta.URL, "GET", p, map[string]string{"Accept": "text/html"})
			abs, absBody := rawRequest(t, ta.URL, "GET", "http://evil.example"+p, map[string]string{"Accept": "text/html"})
			if outcome(abs, absBody) != outcome(plain, plainBody) || !refused(abs) {
				t.Errorf("anonymous absolute-form: %s, plain path: %s", outcome(abs, absBody), outcome(plain, plainBody))
			}
			if strings.Contains(abs.Header.Get("Location"), "evil") {
				t.Errorf("redirect names the request's host: %q", abs.Header.Get("Location"))
			}
			plain, _ = rawRequest(t, ta.URL, "GET", p, member)
			abs, _ = rawRequest(t, ta.URL, "GET", "http://evil.example"+p, member)
			if abs.StatusCode != plain.StatusCode {
				t.Errorf("member absolute-form = %d, plain path = %d", abs.StatusCode, plain.StatusCode)
			}
		})
	}
}

// TestStaticPathTricks is A-09 with raw request lines (the client would
// clean some of them): only exact hashed asset names are served.
func TestStaticPathTricks(t *testing.T) {
	t.Parallel()
	ta := start(t)
	for _, p := range []string{
		"/static/..%2f..%2fgo.mod", "/static/%2e%2e/%2e%2e/go.mod", "/static/../go.mod", "/static/../../go.mod",
		"/static//css/app.css", "/static/css/../static.go", "/static/static.go", "/static/%2fetc%2fpasswd",
		"/static/..\\..\\go.mod", "/static/css/app.css", "/static/", "/static/css/app.css%00",
	} {
		res, _ := rawRequest(t, ta.URL, "GET", p, nil)
		if res.StatusCode < 300 || res.StatusCode >= 500 {
			t.Errorf("GET %s = %d, want a 4xx", p, res.StatusCode)
		}
	}
}
