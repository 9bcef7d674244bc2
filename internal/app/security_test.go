package app_test

// The security suite (checklist §2 and §4) against the real application:
// this file holds the helpers it shares, and the header, CSP and cookie
// cases (H-01, H-03…H-05, K-01). Redirects and XSS are in
// security_redirect_test.go, header and path tricks in
// security_paths_test.go, size and time limits in limits_test.go.

import (
	"bufio"
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/labstack/echo/v4"

	"github.com/saasstarter/saas/internal/app"
	"github.com/saasstarter/saas/internal/appsession"
	"github.com/saasstarter/saas/internal/auth/authtest"
	"github.com/saasstarter/saas/internal/config"
	"github.com/saasstarter/saas/internal/secure"
	"github.com/saasstarter/saas/internal/testdb"
	"github.com/saasstarter/saas/static"
)

// Production (Clerk mode) settings. The publishable key encodes
// "clerk.example.com$", so the Frontend API is https://clerk.example.com;
// with CLERK_JWT_KEY set, nothing is fetched from the network.
const (
	prodBaseURL = "https://app.example.com"
	prodFAPI    = "https://clerk.example.com"
	prodPK      = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k"
)

// prodApp is the application as it runs in production: APP_ENV=production,
// Clerk mode with a local signing key standing in for the Clerk instance.
type prodApp struct {
	*httptest.Server
	App    *app.App
	Config config.Config
	issuer *authtest.Issuer
}

// startProduction runs the production configuration over its own database.
// The listener is plain HTTP on loopback; BASE_URL says https, as it does
// behind a TLS-terminating load balancer.
func startProduction(t testing.TB) *prodApp {
	t.Helper()
	return startProductionWith(t, nil)
}

// startProductionWith is startProduction with more environment variables
// and wiring options.
func startProductionWith(t testing.TB, extra map[string]string, opts ...app.Options) *prodApp {
	t.Helper()
	iss := authtest.NewIssuer(t, "ins_test_kid")
	env := map[string]string{
		"APP_ENV":                      "production",
		"BASE_URL":                     prodBaseURL,
		"SESSION_SECRET":               "prod-session-secret-0123456789abcdef0123456789",
		"CLERK_SECRET_KEY":             "sk_live_0123456789abcdef",
		"CLERK_PUBLISHABLE_KEY":        prodPK,
		"CLERK_JWT_KEY":                iss.PEM(),
		"CLERK_WEBHOOK_SIGNING_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		// Nothing may call Clerk: an unroutable API URL makes any attempt fail.
		"CLERK_API_URL": "http://127.0.0.1:1/v1",
	}
	for k, v := range extra {
		env[k] = v
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.Background(), cfg, testdb.Pool(t), slog.New(slog.DiscardHandler), opts...)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(srv.Close)
	return &prodApp{Server: srv, App: a, Config: cfg, issuer: iss}
}

// token mints a production session token for user, in org (empty: none)
// with role (e.g. "admin"), the way Clerk would sign it.
func (p *prodApp) token(t testing.TB, user, org, role string) string {
	t.Helper()
	claims := authtest.Session(prodFAPI, user, "sess_"+user, time.Now())
	claims["azp"] = prodBaseURL
	if org != "" {
		claims["o"] = map[string]any{"id": org, "rol": role, "slg": "acme"}
	}
	return p.issuer.Sign(t, nil, claims)
}

// mode is one configuration under test: development (emulator) or
// production (Clerk mode), with a way to sign a user in.
type mode struct {
	name string
	prod bool
	url  string
	// secrets are the app session keys, to forge nothing but a valid flash.
	secrets [][]byte
	// signedIn is a request header set of a signed-in user with an org.
	signedIn map[string]string
}

// modes starts both configurations once for a test.
func modes(t *testing.T) []mode {
	t.Helper()
	dev := start(t)
	devCfg := testConfig(t, dev.URL)
	prod := startProduction(t)
	return []mode{
		{name: "Development", url: dev.URL, secrets: devCfg.SessionSecrets,
			signedIn: bearer(sessionToken(t, dev.Server, "alice@acme.test", ""))},
		{name: "Production", prod: true, url: prod.URL, secrets: prod.Config.SessionSecrets,
			signedIn: bearer(prod.token(t, "user_alice", "org_acme", "admin"))},
	}
}

// do sends one request without following redirects and returns the response
// with its body read.
func do(t testing.TB, method, url string, header map[string]string, body io.Reader) (*http.Response, string) {
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
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

// rawRequest writes a request target exactly as given (no client-side
// cleaning or encoding: "//x", "/a/../b", absolute-form) on a fresh
// connection and reads the response.
func rawRequest(t testing.TB, srvURL, method, target string, header map[string]string) (*http.Response, string) {
	t.Helper()
	host := strings.TrimPrefix(srvURL, "http://")
	conn, err := net.DialTimeout("tcp", host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	var b strings.Builder
	b.WriteString(method + " " + target + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n")
	for k, v := range header {
		b.WriteString(k + ": " + v + "\r\n")
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(conn, b.String()); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

// flashCookie is the app session cookie a browser holds after a handler
// queued a flash message, sealed with the app's own keys.
func flashCookie(t testing.TB, secrets [][]byte, prod bool, kind, message string) string {
	t.Helper()
	store, err := appsession.NewStore(secrets, prod)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	c := echo.New().NewContext(httptest.NewRequest(http.MethodGet, "/", nil), rec)
	if err := store.AddFlash(c, kind, message); err != nil {
		t.Fatal(err)
	}
	for _, ck := range rec.Result().Cookies() {
		if ck.Name == store.CookieName() {
			return ck.Name + "=" + ck.Value
		}
	}
	t.Fatal("AddFlash set no session cookie")
	return ""
}

var nonceRE = regexp.MustCompile(`'nonce-([^']*)'`)

// cspNonce returns the nonce of a Content-Security-Policy.
func cspNonce(csp string) string {
	m := nonceRE.FindStringSubmatch(csp)
	if m == nil {
		return ""
	}
	return m[1]
}

// directive returns one CSP directive's value ("" when absent).
func directive(csp, name string) string {
	for d := range strings.SplitSeq(csp, ";") {
		d = strings.TrimSpace(d)
		if d == name || strings.HasPrefix(d, name+" ") {
			return strings.TrimSpace(strings.TrimPrefix(d, name))
		}
	}
	return ""
}

// checkHeaders asserts the headers every response must carry (H-01, H-03,
// H-04, H-05) and returns the CSP nonce.
// checkHeaders asserts the security headers of res; data is set for the JSON
// API's and the health checks' answers. It returns the CSP nonce ("" for
// data).
func checkHeaders(t *testing.T, res *http.Response, prod, data bool) string {
	t.Helper()
	h := res.Header
	want := map[string]string{
		"X-Content-Type-Options": "nosniff",
		"X-Frame-Options":        "DENY",
		"Referrer-Policy":        "strict-origin-when-cross-origin",
	}
	if !data {
		// A page's browsing context and the features its scripts may use;
		// JSON and probes have neither (secure.Headers).
		want["Cross-Origin-Opener-Policy"] = "same-origin"
		want["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
	}
	if prod {
		want["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if !prod && h.Get("Strict-Transport-Security") != "" {
		t.Errorf("HSTS outside production: %q", h.Get("Strict-Transport-Security"))
	}
	if v := h.Get("X-XSS-Protection"); v != "" && v != "0" {
		t.Errorf("X-XSS-Protection = %q: the legacy auditor must be off or absent", v)
	}
	if v := h.Get("Server"); v != "" {
		t.Errorf("Server header leaks %q", v)
	}
	csp := h.Get("Content-Security-Policy")
	if data {
		// JSON and health answers are never documents: a policy that
		// allows nothing, and no nonce to leak or reuse.
		if csp != secure.DataPolicy {
			t.Errorf("CSP of a data-only response = %q, want %q", csp, secure.DataPolicy)
		}
		return ""
	}
	for name, val := range map[string]string{
		"default-src": "'self'", "frame-ancestors": "'none'", "object-src": "'none'",
		"base-uri": "'self'", "form-action": "'self'",
	} {
		if got := directive(csp, name); got != val {
			t.Errorf("CSP %s = %q, want %q (CSP %q)", name, got, val, csp)
		}
	}
	script := directive(csp, "script-src")
	if strings.Contains(script, "unsafe-inline") || strings.Contains(script, "unsafe-eval") ||
		strings.Contains(script, "*") || strings.Contains(script, "data:") {
		t.Errorf("script-src allows unsafe sources: %q", script)
	}
	if prod && !strings.Contains(script, prodFAPI) {
		t.Errorf("production script-src %q does not allow the Frontend API", script)
	}
	nonce := cspNonce(csp)
	raw, err := base64.StdEncoding.DecodeString(nonce)
	if err != nil || len(raw) < 16 {
		t.Errorf("CSP nonce %q is not ≥128 bits of base64 (%v)", nonce, err)
	}
	return nonce
}

// TestSecurityHeadersEveryResponseKind is H-01…H-05 over every kind of
// response the app sends, in development and production: a page, an HTMX
// fragment, the 404 page, a redirect to sign-in, API JSON (401 and 404), a
// static asset, a health check and a 413. Every nonce is fresh, and every
// script tag of an HTML response carries its response's nonce.
func TestSecurityHeadersEveryResponseKind(t *testing.T) {
	t.Parallel()
	for _, m := range modes(t) {
		t.Run(m.name, func(t *testing.T) {
			kinds := []struct {
				name, method, path string
				header             map[string]string
				body               string
				status             int
				html, data         bool
			}{
				{"Page", "GET", "/", nil, "", 200, true, false},
				{"SignedInPage", "GET", "/", m.signedIn, "", 200, true, false},
				{"HTMXFragment", "GET", "/", map[string]string{"HX-Request": "true"}, "", 200, true, false},
				{"NotFoundPage", "GET", "/no-such-page", m.signedIn, "", 404, true, false},
				{"NotFoundFragment", "GET", "/no-such-page", with(m.signedIn, "HX-Request", "true"), "", 404, true, false},
				{"RedirectToSignIn", "GET", "/dashboard", map[string]string{"Accept": "text/html"}, "", 303, false, false},
				{"APIUnauthenticated", "GET", "/api/me", nil, "", 401, false, true},
				{"APIJSON", "GET", "/api/me", m.signedIn, "", 200, false, true},
				{"APINotFound", "GET", "/api/no-such-endpoint", m.signedIn, "", 404, false, false},
				{"Static", "GET", static.Path("css/app.css"), nil, "", 200, false, false},
				{"Health", "GET", "/healthz", nil, "", 200, false, true},
				{"Ready", "GET", "/readyz", nil, "", 200, false, true},
				{"TooLarge", "POST", "/api/anything", nil, strings.Repeat("a", 1<<20+1), 413, false, false},
			}
			seen := map[string]string{}
			for _, k := range kinds {
				t.Run(k.name, func(t *testing.T) {
					var body io.Reader
					if k.body != "" {
						body = strings.NewReader(k.body)
					}
					res, text := do(t, k.method, m.url+k.path, k.header, body)
					if res.StatusCode != k.status {
						t.Fatalf("status = %d, want %d", res.StatusCode, k.status)
					}
					nonce := checkHeaders(t, res, m.prod, k.data)
					if k.data {
						return
					}
					if other, dup := seen[nonce]; dup {
						t.Errorf("nonce %q reused by %s and %s", nonce, other, k.name)
					}
					seen[nonce] = k.name
					if k.html {
						checkScriptNonces(t, text, nonce, m.prod)
					}
					if k.name == "SignedInPage" || k.name == "NotFoundPage" {
						if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
							t.Errorf("signed-in HTML has Cache-Control %q, want no-store (T-08)", cc)
						}
					}
				})
			}
		})
	}
}

// checkScriptNonces parses an HTML response and asserts that every script
// element carries nonce (H-01), including ClerkJS's loader in production.
func checkScriptNonces(t *testing.T, html, nonce string, prod bool) {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(html))
	if err != nil {
		t.Fatal(err)
	}
	clerk := false
	doc.Find("script").Each(func(_ int, s *goquery.Selection) {
		got, _ := s.Attr("nonce")
		if got != nonce {
			t.Errorf("script %q has nonce %q, want the response's %q", s.AttrOr("src", "(inline)"), got, nonce)
		}
		if strings.HasPrefix(s.AttrOr("src", ""), prodFAPI+"/") {
			clerk = true
		}
	})
	if prod && strings.Contains(html, "<html") && !clerk {
		t.Error("production page does not load ClerkJS from the Frontend API")
	}
}

// with returns a copy of h with one more header.
func with(h map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for hk, hv := range h {
		out[hk] = hv
	}
	return out
}

// TestCookieFlags is K-01/K-02 for every cookie the app itself sets: the app
// session (written when a flash is consumed), the CSRF cookie and Clerk's
// handshake loop counter. Cookies are host-only, on Path=/, HttpOnly and
// SameSite=Lax; in production they are Secure and carry the __Host- prefix
// where the name is ours.
func TestCookieFlags(t *testing.T) {
	t.Parallel()
	for _, m := range modes(t) {
		t.Run(m.name, func(t *testing.T) {
			sessionName, csrfName := "app_session", "_csrf"
			if m.prod {
				sessionName, csrfName = "__Host-app_session", "__Host-csrf"
			}
			flash := flashCookie(t, m.secrets, m.prod, appsession.FlashInfo, "Saved")
			res, _ := do(t, "GET", m.url+"/", map[string]string{"Cookie": flash}, nil)
			cookies := map[string]*http.Cookie{}
			for _, c := range res.Cookies() {
				cookies[c.Name] = c
			}
			// A stale cookie session on a document request starts Clerk's
			// handshake, which counts redirects in a cookie.
			res, _ = do(t, "GET", m.url+"/", map[string]string{
				"Accept": "text/html", "Sec-Fetch-Dest": "document", "Cookie": "__client_uat=1700000000",
			}, nil)
			if res.StatusCode != http.StatusTemporaryRedirect {
				t.Fatalf("stale cookie session: status %d, want the handshake's 307", res.StatusCode)
			}
			for _, c := range res.Cookies() {
				cookies[c.Name] = c
			}

			for name, maxAge := range map[string]int{
				sessionName: int(appsession.MaxAge / time.Second), csrfName: 86400, "__clerk_redirect_count": 3,
			} {
				c, ok := cookies[name]
				if !ok {
					t.Errorf("no %s cookie set (got %v)", name, res.Header.Values("Set-Cookie"))
					continue
				}
				if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" || c.Secure != m.prod {
					t.Errorf("%s: HttpOnly=%v SameSite=%v Path=%q Domain=%q Secure=%v; want HttpOnly, Lax, /, host-only, Secure=%v",
						name, c.HttpOnly, c.SameSite, c.Path, c.Domain, c.Secure, m.prod)
				}
				// Echo's CSRF cookie says Expires, the others Max-Age; both
				// must bound the cookie's life.
				want := time.Duration(maxAge) * time.Second
				switch {
				case c.MaxAge != 0:
					if c.MaxAge != maxAge {
						t.Errorf("%s: Max-Age = %d, want %d", name, c.MaxAge, maxAge)
					}
				case c.Expires.IsZero():
					t.Errorf("%s: a session cookie with neither Max-Age nor Expires", name)
				default:
					if d := time.Until(c.Expires); d < want-time.Minute || d > want+time.Minute {
						t.Errorf("%s: expires in %v, want %v", name, d, want)
					}
				}
			}
		})
	}
}

// TestFlashIsBoundToItsCookie is K-04: a tampered or foreign app session
// cookie is ignored (no flash shown, no error page), never decoded.
func TestFlashIsBoundToItsCookie(t *testing.T) {
	t.Parallel()
	ta := start(t)
	good := flashCookie(t, testConfig(t, ta.URL).SessionSecrets, false, appsession.FlashInfo, "from our key")
	other := flashCookie(t, [][]byte{[]byte("another-secret-0123456789abcdef0123456789")}, false, appsession.FlashInfo, "from another key")
	tampered := good[:len(good)-4] + "AAAA"
	for name, cookie := range map[string]string{"OurKey": good, "OtherKey": other, "Tampered": tampered} {
		t.Run(name, func(t *testing.T) {
			res, body := do(t, "GET", ta.URL+"/", map[string]string{"Cookie": cookie}, nil)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status = %d", res.StatusCode)
			}
			doc, _ := goquery.NewDocumentFromReader(strings.NewReader(body))
			got := strings.TrimSpace(doc.Find(`[data-testid="flash"]`).Text())
			if want := map[string]string{"OurKey": "from our key"}[name]; got != want {
				t.Errorf("flash = %q, want %q", got, want)
			}
		})
	}
}

// TestCSPAllowsWhatClerkNeeds pins the policy of each mode to what ClerkJS
// and @clerk/ui need (H-02): nonced scripts and styles, and Clerk's origins
// only when Clerk serves them. The browser journeys prove the policy is
// enough: they fail on any violation.
func TestCSPAllowsWhatClerkNeeds(t *testing.T) {
	t.Parallel()
	dev := start(t)
	prod := startProduction(t)
	proxied := startProductionWith(t, map[string]string{"CLERK_PROXY_URL": prodBaseURL + "/__clerk"})
	const n = "NONCE"
	common := map[string]string{
		"default-src": "'self'", "style-src": "'self' 'nonce-" + n + "'", "font-src": "'self'",
		"worker-src": "blob:", "frame-ancestors": "'none'", "base-uri": "'self'", "form-action": "'self'",
		"object-src": "'none'",
	}
	for _, tc := range []struct {
		name string
		url  string
		want map[string]string
	}{
		{"Emulator", dev.URL, map[string]string{
			"script-src": "'nonce-" + n + "' 'strict-dynamic' 'self'", "connect-src": "'self'",
			"img-src": "'self' data:", "frame-src": "'none'"}},
		{"Clerk", prod.URL, map[string]string{
			"script-src":  "'nonce-" + n + "' 'strict-dynamic' 'self' " + prodFAPI + " https://challenges.cloudflare.com",
			"connect-src": "'self' " + prodFAPI, "img-src": "'self' data: https://img.clerk.com",
			"frame-src": "https://challenges.cloudflare.com"}},
		{"ClerkProxied", proxied.URL, map[string]string{
			"script-src":  "'nonce-" + n + "' 'strict-dynamic' 'self' https://challenges.cloudflare.com",
			"connect-src": "'self'", "img-src": "'self' data: https://img.clerk.com",
			"frame-src": "https://challenges.cloudflare.com"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, _ := do(t, http.MethodGet, tc.url+"/sign-in", nil, nil)
			csp := res.Header.Get("Content-Security-Policy")
			csp = strings.ReplaceAll(csp, cspNonce(csp), n)
			for name, want := range common {
				if got := directive(csp, name); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			for name, want := range tc.want {
				if got := directive(csp, name); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			if strings.Contains(csp, "unsafe-") {
				t.Errorf("CSP allows unsafe sources: %q", csp)
			}
		})
	}
}
