package app_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/saasstarter/saas/internal/app"
	"github.com/saasstarter/saas/internal/auth/authtest"
	"github.com/saasstarter/saas/internal/clerkjs"
)

// TestClerkProxyURL: with CLERK_PROXY_URL the app serves Clerk's Frontend
// API at that URL (here a fake one checks Clerk's required headers), loads
// ClerkJS through it with data-clerk-proxy-url, requires iss to be the proxy
// URL, and sends stale browsers to the proxy's handshake.
func TestClerkProxyURL(t *testing.T) {
	t.Parallel()
	const proxyURL = prodBaseURL + "/__clerk"
	var mu sync.Mutex
	var upstream []*http.Request
	fapi := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		upstream = append(upstream, r.Clone(context.Background()))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"response":null,"client":null}`)
	}))
	t.Cleanup(fapi.Close)
	up, _ := url.Parse(fapi.URL)
	prod := startProductionWith(t, map[string]string{"CLERK_PROXY_URL": proxyURL}, app.Options{ClerkProxyUpstream: up})
	srv := prod.Server

	t.Run("ForwardsToTheFrontendAPI", func(t *testing.T) {
		res, body := do(t, http.MethodGet, srv.URL+"/__clerk/v1/client?_clerk_js_version=5.0.0", map[string]string{"X-Forwarded-For": "10.6.6.6"}, nil)
		if res.StatusCode != 200 || body != `{"response":null,"client":null}` {
			t.Fatalf("status %d body %s", res.StatusCode, body)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(upstream) != 1 {
			t.Fatalf("upstream saw %d requests", len(upstream))
		}
		r := upstream[0]
		if r.URL.RequestURI() != "/v1/client?_clerk_js_version=5.0.0" || r.Header.Get("Clerk-Proxy-Url") != proxyURL ||
			r.Header.Get("Clerk-Secret-Key") != "sk_live_0123456789abcdef" || strings.Join(r.Header.Values("X-Forwarded-For"), ",") != "127.0.0.1" {
			t.Fatalf("upstream got %s %v", r.URL.RequestURI(), r.Header)
		}
	})
	t.Run("PageLoadsClerkJSThroughTheProxy", func(t *testing.T) {
		_, body := do(t, http.MethodGet, srv.URL+"/", nil, nil)
		if !strings.Contains(body, `data-clerk-proxy-url="`+proxyURL+`"`) ||
			!strings.Contains(body, `src="`+proxyURL+`/npm/@clerk/clerk-js@`+pinned(t, clerkjs.ClerkJSPackage)+`/dist/clerk.browser.js"`) ||
			!strings.Contains(body, `src="`+proxyURL+`/npm/@clerk/ui@`+pinned(t, clerkjs.UIPackage)+`/dist/ui.browser.js"`) {
			t.Fatalf("page does not load ClerkJS through the proxy:\n%s", body)
		}
	})
	token := func(issuer string) string {
		c := authtest.Session(issuer, "user_p", "sess_p", time.Now())
		c["azp"] = prodBaseURL
		return prod.issuer.Sign(t, nil, c)
	}
	t.Run("IssMustBeTheProxyURL", func(t *testing.T) {
		if res, body := do(t, http.MethodGet, srv.URL+"/api/me", bearer(token(proxyURL)), nil); res.StatusCode != 200 {
			t.Fatalf("iss = proxy URL: %d %s", res.StatusCode, body)
		}
		if res, _ := do(t, http.MethodGet, srv.URL+"/api/me", bearer(token(prodFAPI)), nil); res.StatusCode != 401 {
			t.Fatalf("iss = the key's Frontend API: %d, want 401", res.StatusCode)
		}
	})
	t.Run("HandshakeGoesThroughTheProxy", func(t *testing.T) {
		res, _ := do(t, http.MethodGet, srv.URL+"/dashboard", map[string]string{"Accept": "text/html", "Cookie": "__client_uat=1700000000"}, nil)
		if loc := res.Header.Get("Location"); res.StatusCode != 307 || !strings.HasPrefix(loc, proxyURL+"/v1/client/handshake?") {
			t.Fatalf("status %d Location %q", res.StatusCode, loc)
		}
	})
}

// pinned is the exact version of a pinned Clerk bundle.
func pinned(t *testing.T, name string) string {
	t.Helper()
	m, err := clerkjs.Pinned()
	if err != nil {
		t.Fatal(err)
	}
	p, _ := m.Package(name)
	return p.Version
}
