package app_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

func get(t *testing.T, url string, header map[string]string) *http.Response {
	t.Helper()
	return send(t, http.MethodGet, url, nil, header)
}

// send makes one request without following redirects; the response body is
// closed when the test ends.
func send(t *testing.T, method, url string, body io.Reader, header map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

func parse(t *testing.T, res *http.Response) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestLandingPage(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	res := get(t, srv.URL+"/", nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200", res.StatusCode)
	}
	doc := parse(t, res)
	if doc.Find(`[data-testid="landing"] h1`).Length() != 1 {
		t.Fatal("landing page has no headline")
	}
	if got := doc.Find(`a[href="/sign-in"]`).Length(); got == 0 {
		t.Error("signed-out landing page has no sign-in link")
	}

	t.Run("ScriptsCarryTheCSPNonce", func(t *testing.T) {
		csp := res.Header.Get("Content-Security-Policy")
		scripts := doc.Find("script")
		if scripts.Length() == 0 {
			t.Fatal("no scripts on the page")
		}
		scripts.Each(func(_ int, s *goquery.Selection) {
			nonce, _ := s.Attr("nonce")
			if nonce == "" || !strings.Contains(csp, "'nonce-"+nonce+"'") {
				t.Errorf("script %v has nonce %q not in CSP %q", s.AttrOr("src", ""), nonce, csp)
			}
		})
	})

	t.Run("NonceDiffersPerResponse", func(t *testing.T) {
		other := get(t, srv.URL+"/", nil)
		if a, b := res.Header.Get("Content-Security-Policy"), other.Header.Get("Content-Security-Policy"); a == b {
			t.Fatalf("two responses share a CSP nonce: %q", a)
		}
	})

	t.Run("CSRFTokenInHTMXHeaders", func(t *testing.T) {
		hx, _ := doc.Find("body").Attr("hx-headers")
		if !strings.Contains(hx, `"X-CSRF-Token":"`) || strings.Contains(hx, `"X-CSRF-Token":""`) {
			t.Fatalf("body hx-headers = %q, want a CSRF token", hx)
		}
	})
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	for _, path := range []string{"/", "/no-such-page", "/api/no-such-endpoint"} {
		t.Run(path, func(t *testing.T) {
			res := get(t, srv.URL+path, nil)
			want := map[string]string{
				"X-Content-Type-Options": "nosniff",
				"X-Frame-Options":        "DENY",
				"Referrer-Policy":        "strict-origin-when-cross-origin",
			}
			for k, v := range want {
				if got := res.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			csp := res.Header.Get("Content-Security-Policy")
			for _, must := range []string{"frame-ancestors 'none'", "object-src 'none'", "base-uri 'self'", "'nonce-"} {
				if !strings.Contains(csp, must) {
					t.Errorf("CSP %q lacks %q", csp, must)
				}
			}
			scriptSrc := csp[strings.Index(csp, "script-src"):]
			scriptSrc = scriptSrc[:strings.Index(scriptSrc, ";")]
			if strings.Contains(scriptSrc, "unsafe-inline") || strings.Contains(scriptSrc, "unsafe-eval") {
				t.Errorf("script-src allows unsafe sources: %q", scriptSrc)
			}
			if res.Header.Get("Strict-Transport-Security") != "" {
				t.Error("HSTS set outside production")
			}
			if res.Header.Get("Server") != "" {
				t.Errorf("Server header leaks %q", res.Header.Get("Server"))
			}
		})
	}
}

func TestErrorResponsesByRequestKind(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	// Signed out, unknown routes are denied like any other non-public route;
	// a signed-in caller sees the real 404.
	auth := bearer(sessionToken(t, srv, "alice@acme.test", ""))
	with := func(h map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range auth {
			m[k] = v
		}
		for k, v := range h {
			m[k] = v
		}
		return m
	}
	t.Run("BrowserGetsErrorPage", func(t *testing.T) {
		res := get(t, srv.URL+"/no-such-page", auth)
		if res.StatusCode != http.StatusNotFound {
			t.Fatalf("status = %d, want 404", res.StatusCode)
		}
		doc := parse(t, res)
		if got := doc.Find(`[data-testid="error-status"]`).Text(); got != "404" {
			t.Errorf("error status text = %q, want 404", got)
		}
		if doc.Find(`.request-id`).Length() != 1 {
			t.Error("error page shows no request id")
		}
	})
	t.Run("APIGetsJSON", func(t *testing.T) {
		res := get(t, srv.URL+"/api/no-such-endpoint", auth)
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusNotFound || strings.TrimSpace(string(body)) != `{"error":"Not found"}` {
			t.Fatalf("got %d %s, want 404 {\"error\":\"Not found\"}", res.StatusCode, body)
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("Content-Type = %q", ct)
		}
	})
	t.Run("HTMXGetsFragment", func(t *testing.T) {
		res := get(t, srv.URL+"/no-such-page", with(map[string]string{"HX-Request": "true"}))
		if res.StatusCode != http.StatusNotFound {
			t.Fatalf("status = %d", res.StatusCode)
		}
		if res.Header.Get("HX-Retarget") != "#flash" {
			t.Errorf("HX-Retarget = %q, want #flash", res.Header.Get("HX-Retarget"))
		}
		doc := parse(t, res)
		if doc.Find("html header").Length() != 0 || doc.Find(`[data-testid="error-fragment"]`).Length() != 1 {
			t.Error("HTMX error is not a bare fragment")
		}
	})
	t.Run("MethodNotAllowedIsNot500", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodDelete, srv.URL+"/healthz", nil)
		req.Header.Set("Authorization", auth["Authorization"])
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode >= 500 {
			t.Fatalf("DELETE /healthz = %d", res.StatusCode)
		}
	})
}

func TestHealth(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		res := get(t, srv.URL+path, nil)
		if res.StatusCode != http.StatusOK {
			t.Errorf("%s = %d, want 200", path, res.StatusCode)
		}
	}
}

func TestStaticAssets(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	doc := parse(t, get(t, srv.URL+"/", nil))
	href, ok := doc.Find(`link[rel="stylesheet"]`).Attr("href")
	if !ok || !strings.HasPrefix(href, "/static/css/app.") {
		t.Fatalf("stylesheet href = %q", href)
	}
	res := get(t, srv.URL+href, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d", href, res.StatusCode)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
		t.Errorf("Cache-Control = %q", cc)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("Content-Type = %q", ct)
	}
	// Unhashed names and path tricks are not served.
	for _, p := range []string{"/static/css/app.css", "/static/..%2f..%2fgo.mod", "/static/%2e%2e/static.go", "/static//css/app.css", "/static/static.go"} {
		if res := get(t, srv.URL+p, nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", p, res.StatusCode)
		}
	}
}

func TestGzip(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	res := get(t, srv.URL+"/", map[string]string{"Accept-Encoding": "gzip"})
	if res.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding = %q, want gzip", res.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(zr)
	if !bytes.Contains(body, []byte(`data-testid="landing"`)) {
		t.Fatal("gzipped body is not the landing page")
	}
	// A small answer is sent as it is: compressing it costs more than it
	// saves.
	res = get(t, srv.URL+"/healthz", map[string]string{"Accept-Encoding": "gzip"})
	if ce := res.Header.Get("Content-Encoding"); ce != "" {
		t.Errorf("/healthz Content-Encoding = %q, want none", ce)
	}
	// Browsers that also accept zstd get gzip: a pooled zstd encoder costs
	// megabytes of memory.
	res = get(t, srv.URL+"/", map[string]string{"Accept-Encoding": "gzip, deflate, br, zstd"})
	if ce := res.Header.Get("Content-Encoding"); ce != "gzip" {
		t.Errorf("Content-Encoding for a browser = %q, want gzip", ce)
	}
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	// A declared length over the cap is refused before anything reads the
	// body. (Chunked bodies are cut off when read; the webhook tests cover
	// that on the route that reads raw bodies.)
	srv := newServer(t)
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/anything", bytes.NewReader(bytes.Repeat([]byte("a"), 1<<20+1)))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("status = %d, want 413", res.StatusCode)
	}
}

// TestUnsafeAnonymousRequestsNeverSucceed: a cross-site or token-less POST
// is refused (by the route policy for anonymous callers, by CSRF for
// signed-in ones) and never reaches a handler.
func TestUnsafeAnonymousRequestsNeverSucceed(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	cases := map[string]map[string]string{
		"NoToken":    nil,
		"CrossSite":  {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
		"SameSite":   {"Sec-Fetch-Site": "same-site"},
		"WrongToken": {"X-CSRF-Token": "not-the-token"},
	}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader("x=1"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range h {
				req.Header.Set(k, v)
			}
			res, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode < 300 {
				t.Fatalf("status = %d, want a refusal", res.StatusCode)
			}
		})
	}
}

func TestSignInPageKeepsOnlySafeRedirects(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	cases := map[string]string{
		"/sign-in": "/dashboard",
		"/sign-in?redirect_url=/dashboard%3Ftab%3D1": "/dashboard?tab=1",
		"/sign-in?redirect_url=https://evil.example": "/dashboard",
		"/sign-in?redirect_url=//evil.example":       "/dashboard",
		"/sign-in/factor-one?redirect_url=/orgs":     "/orgs",
		"/sign-up?redirect_url=/%5Cevil.example":     "/dashboard",
	}
	for path, want := range cases {
		t.Run(path, func(t *testing.T) {
			res := get(t, srv.URL+path, nil)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status = %d", res.StatusCode)
			}
			got, ok := parse(t, res).Find(`[data-clerk-mount]`).Attr("data-redirect-url")
			if !ok || got != want {
				t.Fatalf("data-redirect-url = %q, want %q", got, want)
			}
		})
	}
}

// TestUnknownPathsAre404ForEveryone: a path no route matches is a 404 page,
// fragment or JSON whether or not anyone is signed in (CONTRACT.md); a
// known path with a method it does not have is refused to a signed-out
// caller like the route itself.
func TestUnknownPathsAre404ForEveryone(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	page := map[string]string{"Accept": "text/html", "Sec-Fetch-Dest": "document"}
	for name, c := range map[string]struct {
		path   string
		header map[string]string
		want   string // a data-testid in the body, or JSON
	}{
		"Page":     {"/no-such-page", page, `[data-testid="error-status"]`},
		"HTMX":     {"/no-such-page", map[string]string{"HX-Request": "true"}, `[data-testid="error-fragment"]`},
		"API":      {"/api/no-such-endpoint", nil, "json"},
		"Deep":     {"/no/such/deep/page", page, `[data-testid="error-status"]`},
		"Encoded":  {"/%61dmin/members", page, `[data-testid="error-status"]`},
		"NotAsset": {"/static/no-such.css", nil, ""},
	} {
		t.Run(name, func(t *testing.T) {
			res := get(t, srv.URL+c.path, c.header)
			if res.StatusCode != http.StatusNotFound {
				t.Fatalf("signed out %s = %d (Location %q), want 404", c.path, res.StatusCode, res.Header.Get("Location"))
			}
			switch c.want {
			case "json":
				if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
					t.Fatalf("Content-Type %q, want JSON", ct)
				}
			case "":
			default:
				if parse(t, res).Find(c.want).Length() != 1 {
					t.Fatalf("no %s in the 404 answer", c.want)
				}
			}
		})
	}
	t.Run("KnownPathOtherMethodIsRefused", func(t *testing.T) {
		res := get(t, srv.URL+"/projects/1/rename", page)
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/sign-in") {
			t.Fatalf("signed out GET of a POST-only route = %d (Location %q), want the sign-in redirect", res.StatusCode, res.Header.Get("Location"))
		}
	})
}
