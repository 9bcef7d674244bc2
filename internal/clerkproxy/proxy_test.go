package clerkproxy_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/saasstarter/saas/internal/clerkproxy"
)

// seen is one request as the fake Frontend API received it.
type seen struct {
	method, host, uri, body string
	header                  http.Header
}

// fakeFAPI stands in for frontend-api.clerk.dev: it records what it gets
// and answers like the Frontend API would (cookies, a redirect to itself).
func fakeFAPI(t *testing.T) (*httptest.Server, func() []seen) {
	var mu sync.Mutex
	var got []seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, seen{r.Method, r.Host, r.URL.RequestURI(), string(b), r.Header.Clone()})
		mu.Unlock()
		if r.URL.Path == "/v1/client/handshake" {
			http.Redirect(w, r, "http://"+r.Host+"/v1/client/sync?x=1", http.StatusTemporaryRedirect)
			return
		}
		w.Header().Add("Set-Cookie", "__client=a; Path=/; HttpOnly")
		w.Header().Add("Set-Cookie", "__client_uat=1; Path=/")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"response":null,"client":null}`))
	}))
	t.Cleanup(srv.Close)
	return srv, func() []seen {
		mu.Lock()
		defer mu.Unlock()
		return append([]seen(nil), got...)
	}
}

func newProxy(t *testing.T, upstream string) http.Handler {
	t.Helper()
	pu, _ := url.Parse("https://app.example.com/__clerk")
	up, _ := url.Parse(upstream)
	h, err := clerkproxy.New(clerkproxy.Config{ProxyURL: pu, SecretKey: "sk_live_secret", Upstream: up})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestForwardsWithClerksHeaders: the request reaches the Frontend API with
// its path below the proxy, query, body, cookies and method intact, plus
// Clerk-Proxy-Url, Clerk-Secret-Key and the client's address in
// X-Forwarded-For; a spoofed X-Forwarded-For from the client is dropped.
func TestForwardsWithClerksHeaders(t *testing.T) {
	t.Parallel()
	fapi, requests := fakeFAPI(t)
	proxy := newProxy(t, fapi.URL)

	req := httptest.NewRequest(http.MethodPost, "https://app.example.com/__clerk/v1/client/sign_ins?__clerk_api_version=2025-11-10&_clerk_js_version=5.0.0",
		strings.NewReader("identifier=a%40b.test"))
	req.RemoteAddr = "203.0.113.7:5555"
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", "__client=abc; __session=x")
	req.Header.Set("X-Forwarded-For", "10.9.9.9")
	req.Header.Set("Clerk-Secret-Key", "sk_from_the_client")
	rec := httptest.NewRecorder()
	proxy.ServeHTTP(rec, req)

	if rec.Code != 200 || !slices.Equal(rec.Header().Values("Set-Cookie"), []string{"__client=a; Path=/; HttpOnly", "__client_uat=1; Path=/"}) {
		t.Fatalf("status %d, Set-Cookie %q", rec.Code, rec.Header().Values("Set-Cookie"))
	}
	got := requests()
	if len(got) != 1 {
		t.Fatalf("upstream saw %d requests", len(got))
	}
	r := got[0]
	up, _ := url.Parse(fapi.URL)
	checks := map[string][2]string{
		"method":           {r.method, http.MethodPost},
		"host":             {r.host, up.Host},
		"uri":              {r.uri, "/v1/client/sign_ins?__clerk_api_version=2025-11-10&_clerk_js_version=5.0.0"},
		"body":             {r.body, "identifier=a%40b.test"},
		"Clerk-Proxy-Url":  {r.header.Get("Clerk-Proxy-Url"), "https://app.example.com/__clerk"},
		"Clerk-Secret-Key": {strings.Join(r.header.Values("Clerk-Secret-Key"), ","), "sk_live_secret"},
		"X-Forwarded-For":  {strings.Join(r.header.Values("X-Forwarded-For"), ","), "203.0.113.7"},
		"Cookie":           {r.header.Get("Cookie"), "__client=abc; __session=x"},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %q, want %q", name, c[0], c[1])
		}
	}
}

// TestRewritesRedirectsToTheProxy: a redirect to the Frontend API's own
// host comes back through the proxy URL, never to Clerk's host directly.
func TestRewritesRedirectsToTheProxy(t *testing.T) {
	t.Parallel()
	fapi, _ := fakeFAPI(t)
	rec := httptest.NewRecorder()
	newProxy(t, fapi.URL).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "https://app.example.com/__clerk/v1/client/handshake?redirect_url=x", nil))
	if rec.Code != http.StatusTemporaryRedirect || rec.Header().Get("Location") != "https://app.example.com/__clerk/v1/client/sync?x=1" {
		t.Fatalf("status %d Location %q", rec.Code, rec.Header().Get("Location"))
	}
}

// TestUpstreamDown: an unreachable Frontend API is a 502 in Clerk's error
// envelope, not a hang or an HTML page.
func TestUpstreamDown(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	newProxy(t, "http://127.0.0.1:1").ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "https://app.example.com/__clerk/v1/environment", nil))
	if rec.Code != http.StatusBadGateway || !strings.Contains(rec.Body.String(), `"code":"proxy_request_failed"`) {
		t.Fatalf("status %d body %s", rec.Code, rec.Body)
	}
}

func TestUpstreamFor(t *testing.T) {
	t.Parallel()
	for pk, want := range map[string]string{
		"pk_live_Y2xlcmsuZXhhbXBsZS5jb20k":            clerkproxy.ProductionUpstream, // clerk.example.com
		"pk_test_ZXhhbXBsZS5hY2NvdW50cy5kZXYk":        clerkproxy.ProductionUpstream, // example.accounts.dev
		"pk_test_Y2xlcmsuZm9vLmxjbC5kZXYk":            clerkproxy.ProductionUpstream, // clerk.foo.lcl.dev (legacy dev)
		"pk_test_Zm9vLmFjY291bnRzc3RhZ2UuZGV2JA":      "https://frontend-api.clerkstage.dev",
		"pk_test_Zm9vLmFjY291bnRzLmxjbGNsZXJrLmNvbSQ": "https://frontend-api.lclclerk.com",
	} {
		got, err := clerkproxy.UpstreamFor(pk)
		if err != nil || got.String() != want {
			t.Errorf("UpstreamFor(%s) = %v, %v; want %s", pk, got, err, want)
		}
	}
}
