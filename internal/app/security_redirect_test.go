package app_test

// Open redirects through every place the app redirects to a
// path taken from a request, and the XSS corpus (X-01, K-07) through the
// pages that echo request data.

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/saasstarter/saas/internal/appsession"
)

// openRedirects are R-01's vectors: each must be replaced by the fallback.
var openRedirects = []string{
	"https://evil.com", "//evil.com", "///evil.com", `/\evil.com`, `\\evil.com`, "/%2F%2Fevil.com",
	"/\t/evil.com", " //evil.com", "https:evil.com", "javascript:alert(1)", "http://app.example.com@evil.com",
	"HTTPS://EVIL.COM", "https://app.example.com.evil.com", "/..//evil.com", "/%09/evil.example/",
	"/%5Cevil.com", "%2F%2Fevil.com", "/%2e%2e/%2e%2e//evil.com", "/./evil.com", "\x00//evil.com",
}

// safeRedirects are same-origin paths that must survive unchanged.
var safeRedirects = []string{"/dashboard?tab=1", "/orgs/org_1/settings", "/admin/members?q=a%20b"}

// TestOpenRedirectThroughSignIn is on the sign-in and sign-up
// pages: the redirect_url handed to Clerk's component, and the redirect a
// signed-in visitor gets at once (303 for browsers, HX-Redirect for htmx).
func TestOpenRedirectThroughSignIn(t *testing.T) {
	t.Parallel()
	ta := start(t)
	signedIn := bearer(sessionToken(t, ta.Server, "alice@acme.test", ""))
	cases := map[string]string{}
	for _, v := range openRedirects {
		cases[v] = "/dashboard"
	}
	for _, v := range safeRedirects {
		cases[v] = v
	}
	for raw, want := range cases {
		t.Run(url.QueryEscape(raw), func(t *testing.T) {
			for _, page := range []string{"/sign-in", "/sign-up", "/sign-in/factor-one"} {
				target := ta.URL + page + "?redirect_url=" + url.QueryEscape(raw)
				res, body := do(t, "GET", target, nil, nil)
				doc, _ := goquery.NewDocumentFromReader(strings.NewReader(body))
				if got, _ := doc.Find("[data-clerk-mount]").Attr("data-redirect-url"); res.StatusCode != 200 || got != want {
					t.Errorf("anonymous %s: status %d, data-redirect-url %q, want 200 and %q", page, res.StatusCode, got, want)
				}
				res, _ = do(t, "GET", target, signedIn, nil)
				if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || loc != want {
					t.Errorf("signed-in %s: status %d, Location %q, want 303 to %q", page, res.StatusCode, loc, want)
				}
				res, _ = do(t, "GET", target, with(signedIn, "HX-Request", "true"), nil)
				if loc := res.Header.Get("HX-Redirect"); loc != want {
					t.Errorf("signed-in htmx %s: HX-Redirect %q, want %q", page, loc, want)
				}
			}
		})
	}
}

// TestOpenRedirectThroughHandshake is R-01 on the way back from Clerk's
// handshake: the app answers the returning request with a 307 to "the same
// URL without the handshake token", so a crafted URL must not turn that
// into a redirect to another origin. The token is a real one from the
// emulator (development, query parameter) or signed by the instance key
// (production, cookie).
func TestOpenRedirectThroughHandshake(t *testing.T) {
	t.Parallel()
	dev := start(t)
	prod := startProduction(t)
	devToken := emulatorHandshakeToken(t, dev.URL)
	now := time.Now().Unix()
	prodToken := prod.issuer.Sign(t, nil, map[string]any{
		"handshake": []string{"__session=; Path=/; Max-Age=0"}, "iat": now, "nbf": now - 10, "exp": now + 60,
	})
	targets := map[string]string{
		"/dashboard?tab=1": "/dashboard?tab=1", // the control: a normal return
	}
	for _, p := range []string{"//evil.com", "///evil.com", `/\evil.com`, "/%2F%2Fevil.com", "/%5Cevil.com",
		"/%09/evil.example/", "/..//evil.com", "/%2e%2e//evil.com", "/./evil.com"} {
		targets[p] = "/"
	}
	for target, want := range targets {
		t.Run(url.PathEscape(target), func(t *testing.T) {
			doc := map[string]string{"Accept": "text/html", "Sec-Fetch-Dest": "document"}
			sep := "?"
			if strings.Contains(target, "?") {
				sep = "&"
			}
			res, _ := rawRequest(t, dev.URL, "GET", target+sep+"__clerk_handshake="+devToken, doc)
			if loc := res.Header.Get("Location"); res.StatusCode != http.StatusTemporaryRedirect || loc != want {
				t.Errorf("development: status %d, Location %q, want 307 to %q", res.StatusCode, loc, want)
			}
			res, _ = rawRequest(t, prod.URL, "GET", target, with(doc, "Cookie", "__clerk_handshake="+prodToken))
			if loc := res.Header.Get("Location"); res.StatusCode != http.StatusTemporaryRedirect || loc != want {
				t.Errorf("production: status %d, Location %q, want 307 to %q", res.StatusCode, loc, want)
			}
		})
	}
}

// emulatorHandshakeToken asks the emulator's Frontend API for a handshake
// (signed out: its cookie directives clear the session) and returns the
// __clerk_handshake token it sends back to the app.
func emulatorHandshakeToken(t *testing.T, base string) string {
	t.Helper()
	res, _ := do(t, "GET", base+"/__clerk/v1/client/handshake?format=token&redirect_url="+url.QueryEscape(base+"/"), nil, nil)
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil || res.StatusCode != http.StatusTemporaryRedirect {
		t.Fatalf("emulator handshake: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	tok := loc.Query().Get("__clerk_handshake")
	if tok == "" {
		t.Fatalf("emulator handshake returned no token: %s", loc)
	}
	return tok
}

// xssCorpus is X-01's payload set.
var xssCorpus = []string{
	`<script>alert(1)</script>`,
	`"><img src=x onerror=alert(1)>`,
	`'><svg onload=alert(1)>`,
	`javascript:alert(1)`,
	`JaVaScRiPt:alert(1)`,
	"java\tscript:alert(1)",
	`data:text/html,<script>alert(1)</script>`,
	`{{7*7}}`,
	`" hx-get="/orgs/B/delete" hx-trigger="load`,
	`</div><script nonce="x">alert(1)</script>`,
	`<!--`,
	`/"><script>alert(1)</script>`,
	`/x" onmouseover="alert(1)`,
}

// shape is an HTML document reduced to its elements and attribute names in
// order: an injected element or attribute changes it, while escaped text
// and attribute values do not.
func shape(t *testing.T, body string) []string {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	doc.Find("*").Each(func(_ int, s *goquery.Selection) {
		n := s.Get(0)
		el := n.Data
		for _, a := range n.Attr {
			el += " " + a.Key
		}
		out = append(out, el)
	})
	return out
}

// TestXSSThroughFlashMessages is X-01/K-07 through the layout's flash
// messages: each payload, as the message and as the kind, renders as text
// in a page whose element and attribute structure is unchanged.
func TestXSSThroughFlashMessages(t *testing.T) {
	t.Parallel()
	ta := start(t)
	secrets := testConfig(t, ta.URL).SessionSecrets
	render := func(t *testing.T, kind, message string) string {
		cookie := flashCookie(t, secrets, false, kind, message)
		res, body := do(t, "GET", ta.URL+"/", map[string]string{"Cookie": cookie}, nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("status = %d", res.StatusCode)
		}
		return body
	}
	baseline := shape(t, render(t, appsession.FlashInfo, "hello"))
	for _, p := range xssCorpus {
		t.Run(url.QueryEscape(p), func(t *testing.T) {
			body := render(t, appsession.FlashError, p)
			if got := shape(t, body); !slices.Equal(got, baseline) {
				t.Errorf("payload changed the page structure:\n got %v\nwant %v", diff(got, baseline), diff(baseline, got))
			}
			doc, _ := goquery.NewDocumentFromReader(strings.NewReader(body))
			if got := doc.Find(`[data-testid="flash"] .alert`).Text(); got != p {
				t.Errorf("flash text = %q, want the payload as text", got)
			}
			if got := shape(t, render(t, p, "hello")); !slices.Equal(got, baseline) {
				t.Errorf("payload as flash kind changed the page structure: %v", diff(got, baseline))
			}
		})
	}
}

// TestXSSThroughRedirectURL is X-01 through the sign-in page, which echoes
// redirect_url into an attribute: the structure is unchanged and the value
// is the payload itself (when it is a same-origin path) or the fallback.
func TestXSSThroughRedirectURL(t *testing.T) {
	t.Parallel()
	ta := start(t)
	page := func(t *testing.T, v string) string {
		res, body := do(t, "GET", ta.URL+"/sign-in?redirect_url="+url.QueryEscape(v), nil, nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("status = %d", res.StatusCode)
		}
		return body
	}
	baseline := shape(t, page(t, "/orgs"))
	for _, p := range xssCorpus {
		t.Run(url.QueryEscape(p), func(t *testing.T) {
			body := page(t, p)
			if got := shape(t, body); !slices.Equal(got, baseline) {
				t.Errorf("payload changed the page structure: %v", diff(got, baseline))
			}
			doc, _ := goquery.NewDocumentFromReader(strings.NewReader(body))
			if got, _ := doc.Find("[data-clerk-mount]").Attr("data-redirect-url"); got != p && got != "/dashboard" {
				t.Errorf("data-redirect-url = %q, want the payload or /dashboard", got)
			}
		})
	}
}

// diff lists the entries of a that b lacks, to keep failure messages short.
func diff(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}
