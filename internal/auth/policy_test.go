package auth_test

import (
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/saasstarter/saas/internal/auth"
	"github.com/saasstarter/saas/internal/auth/authtest"
)

// TestRouteInventory is A-02: every route and method not on the public list
// refuses an anonymous request.
func TestRouteInventory(t *testing.T) {
	t.Parallel()
	e := pinned(t).app()
	authtest.AnonymousDenied(t, e, func(method, path string) bool {
		return slices.Contains(public, auth.Route{Method: method, Path: path})
	})
}

// TestPublicRoutesStayPublic: the public list really is reachable without a
// session, including with odd encodings that still match its templates.
func TestPublicRoutesStayPublic(t *testing.T) {
	t.Parallel()
	e := pinned(t).app()
	for _, target := range []string{"/", "/sign-in", "/sign-in/factor-one", "/sign-up/verify", "/healthz", "/readyz", "/static/app.css"} {
		if rec := do(e, page(http.MethodGet, target)); rec.Code != 200 {
			t.Errorf("GET %s: %d", target, rec.Code)
		}
	}
	if rec := do(e, api(http.MethodPost, "/api/webhooks/clerk")); rec.Code != 200 {
		t.Errorf("POST webhook: %d", rec.Code)
	}
	// a protected page behind a public-looking prefix is still matched
	// by its own template.
	for _, target := range []string{"/static/../dashboard", "/sign-in/../admin", "/static/..%2fdashboard"} {
		rec := do(e, page(http.MethodGet, target))
		if rec.Code == 200 && bodyOf(t, rec)["user"] != "" {
			t.Errorf("GET %s leaked a signed-in response", target)
		}
	}
}

// TestGuardsPerStatus is the contract's per-role table for pages and API.
func TestGuardsPerStatus(t *testing.T) {
	t.Parallel()
	f := pinned(t)
	e := f.app()
	ids := map[string]org{
		"noorg":     {plan: "u:free"},
		"member":    {id: "org_globex", slug: "globex", role: "member", perms: []string{"org:projects:read"}, plan: "o:free"},
		"adminFree": {id: "org_globex", slug: "globex", role: "admin", plan: "o:free"},
		"adminEnt":  {id: "org_acme", slug: "acme", role: "admin", perms: []string{"org:projects:create"}, plan: "o:enterprise", features: []string{"beta"}},
		"pending":   {id: "org_acme", slug: "acme", role: "admin", plan: "o:enterprise", pending: true},
	}
	type want struct {
		status   int
		location string // for redirects
		err      string // for JSON errors
	}
	cases := []struct {
		method, target string
		isPage         bool
		want           map[string]want // by identity; "anon" included
	}{
		{"GET", "/dashboard", true, map[string]want{
			"anon": {303, "/sign-in?redirect_url=/dashboard", ""}, "noorg": {303, "/orgs", ""}, "pending": {303, "/orgs", ""},
			"member": {200, "", ""}, "adminEnt": {200, "", ""}}},
		{"GET", "/orgs", true, map[string]want{
			"anon": {303, "/sign-in?redirect_url=/orgs", ""}, "noorg": {200, "", ""}, "member": {200, "", ""}}},
		{"GET", "/admin/users", true, map[string]want{
			"anon": {303, "/sign-in?redirect_url=/admin/users", ""}, "noorg": {303, "/orgs", ""}, "pending": {303, "/orgs", ""},
			"member": {403, "", "Admin required"}, "adminFree": {200, "", ""}}},
		{"GET", "/api/me", false, map[string]want{
			"anon": {401, "", "Unauthenticated"}, "noorg": {200, "", ""}, "pending": {200, "", ""}}},
		{"GET", "/api/org", false, map[string]want{
			"anon": {401, "", "Unauthenticated"}, "noorg": {403, "", "Must be in an org"}, "pending": {403, "", "Must be in an org"},
			"member": {200, "", ""}}},
		{"POST", "/api/org/export", false, map[string]want{
			"anon": {401, "", "Unauthenticated"}, "noorg": {403, "", "Admin required"}, "pending": {403, "", "Admin required"},
			"member": {403, "", "Admin required"}, "adminFree": {403, "", "Enterprise plan required"}, "adminEnt": {200, "", ""}}},
		{"POST", "/api/projects", false, map[string]want{
			"anon": {401, "", "Unauthenticated"}, "member": {403, "", "Permission required"}, "adminFree": {403, "", "Permission required"},
			"adminEnt": {200, "", ""}}},
		{"GET", "/api/beta", false, map[string]want{
			"anon": {401, "", "Unauthenticated"}, "member": {403, "", "Feature not enabled"}, "pending": {403, "", "Feature not enabled"},
			"adminEnt": {200, "", ""}}},
	}
	uat := strconv.FormatInt(t0.Unix()-10, 10)
	for _, tc := range cases {
		for who, w := range tc.want {
			t.Run(tc.method+tc.target+"/"+who+"/"+strconv.Itoa(w.status), func(t *testing.T) {
				r := api(tc.method, tc.target)
				if tc.isPage {
					r = page(tc.method, tc.target)
				}
				if who != "anon" {
					o := ids[who]
					withCookies(r, "__session", f.token(t, func(c map[string]any) { v2Claims(c, o) }), "__client_uat", uat)
				}
				rec := do(e, r)
				if rec.Code != w.status {
					t.Fatalf("status %d, want %d (%s)", rec.Code, w.status, rec.Body)
				}
				if got := rec.Header().Get("Location"); got != w.location {
					t.Fatalf("Location %q, want %q", got, w.location)
				}
				if w.err != "" && bodyOf(t, rec)["error"] != w.err {
					t.Fatalf("error %q, want %q", bodyOf(t, rec)["error"], w.err)
				}
			})
		}
	}
}

func TestSignInURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"/dashboard":         "/sign-in?redirect_url=/dashboard",
		"/dashboard?tab=1&x": "/sign-in?redirect_url=/dashboard%3Ftab%3D1%26x",
		"//evil.com":         "/sign-in?redirect_url=/",
		"https://evil.com/":  "/sign-in?redirect_url=/",
		"/a b":               "/sign-in?redirect_url=/",
	} {
		if got := auth.SignInURL(in); got != want {
			t.Errorf("SignInURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSpoofedHeadersChangeNothing is A-01: headers a client can set never
// change identity or route classification.
func TestSpoofedHeadersChangeNothing(t *testing.T) {
	t.Parallel()
	e := pinned(t).app()
	spoof := map[string]string{
		"X-Middleware-Subrequest": "middleware:middleware:middleware:middleware:middleware",
		"X-Original-URL":          "/healthz", "X-Rewrite-URL": "/healthz", "X-Forwarded-Prefix": "/static",
		"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https", "X-Forwarded-For": "127.0.0.1",
		"X-Real-IP": "127.0.0.1", "X-User-Id": "user_1", "X-Org-Id": "org_acme",
		"X-Clerk-Auth-Status": "signed-in", "X-Clerk-Auth-Token": "x", "HX-Request": "true",
	}
	for _, target := range []string{"/api/me", "/api/org"} {
		plain := do(e, api(http.MethodGet, target))
		r := api(http.MethodGet, target)
		for k, v := range spoof {
			r.Header.Set(k, v)
		}
		spoofed := do(e, r)
		if spoofed.Code != plain.Code || spoofed.Body.String() != plain.Body.String() || plain.Code != 401 {
			t.Errorf("%s: plain %d %s, spoofed %d %s", target, plain.Code, plain.Body, spoofed.Code, spoofed.Body)
		}
	}
}
