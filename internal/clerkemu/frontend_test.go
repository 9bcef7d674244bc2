package clerkemu

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/clerk/clerk-sdk-go/v2/jwks"
	"github.com/clerk/clerk-sdk-go/v2/jwt"

	"github.com/saasstarter/saas/internal/clerkjs"
)

// browser is a cookie-keeping HTTP client that does not follow redirects,
// playing the part of the user's browser against the Frontend API.
type browser struct {
	t *testing.T
	h *harness
	c *http.Client
}

func (h *harness) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, h: h, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// post sends a form from the app's origin, as a browser page does.
func (b *browser) post(path string, form url.Values) (*http.Response, map[string]any) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.h.e.Issuer()+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.h.srv.URL)
	return b.do(req)
}

func (b *browser) get(path string) (*http.Response, map[string]any) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.h.e.Issuer()+path, nil)
	return b.do(req)
}

func (b *browser) do(req *http.Request) (*http.Response, map[string]any) {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp, body
}

func (b *browser) signIn(email string) string {
	b.t.Helper()
	resp, body := b.post("/v1/client/sign_ins", url.Values{"identifier": {email}, "password": {DevPassword}})
	if resp.StatusCode != 200 {
		b.t.Fatalf("sign in %s: %d %v", email, resp.StatusCode, body)
	}
	return body["response"].(map[string]any)["created_session_id"].(string)
}

// handshakeClaims verifies a __clerk_handshake token with clerk-sdk-go and
// returns its cookie directives.
func (h *harness) handshakeClaims(t *testing.T, token string) []string {
	t.Helper()
	type hs struct {
		Handshake []string `json:"handshake"`
	}
	set, err := jwks.NewClient(h.sdkConfig(h.e.SecretKey())).Get(context.Background(), &jwks.GetParams{})
	if err != nil {
		t.Fatal(err)
	}
	claims, err := jwt.Verify(context.Background(), &jwt.VerifyParams{Token: token, JWK: set.Keys[0],
		ProxyURL: clerk.String(h.e.Issuer()), CustomClaimsConstructor: func(context.Context) any { return &hs{} }})
	if err != nil {
		t.Fatalf("handshake token: %v", err)
	}
	return claims.Custom.(*hs).Handshake
}

func cookieValue(directives []string, name string) (string, bool) {
	for _, d := range directives {
		if v, ok := strings.CutPrefix(d, name+"="); ok {
			return strings.SplitN(v, ";", 2)[0], true
		}
	}
	return "", false
}

func TestHandshake(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	back := h.srv.URL + "/dashboard?tab=1"
	handshake := func(b *browser, redirect string) (*http.Response, []string) {
		t.Helper()
		resp, _ := b.get("/v1/client/handshake?format=token&suffixed_cookies=false&__clerk_api_version=2025-04-10&redirect_url=" + url.QueryEscape(redirect))
		if resp.StatusCode != http.StatusTemporaryRedirect {
			return resp, nil
		}
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if got := loc.Scheme + "://" + loc.Host + loc.Path; got != h.srv.URL+"/dashboard" || loc.Query().Get("tab") != "1" {
			t.Fatalf("redirected to %s", loc)
		}
		return resp, h.handshakeClaims(t, loc.Query().Get("__clerk_handshake"))
	}

	t.Run("SignedIn", func(t *testing.T) {
		b := h.browser(t)
		sid := b.signIn("alice@acme.test")
		resp, directives := handshake(b, back)
		if resp.Header.Get("Cache-Control") != "no-store" {
			t.Error("handshake redirect must not be cached")
		}
		tok, ok := cookieValue(directives, "__session")
		if !ok || !strings.Contains(strings.Join(directives, "\n"), "__session="+tok+"; Max-Age=31536000; Path=/; SameSite=Lax") {
			t.Fatalf("directives = %q", directives)
		}
		claims, err := h.verify(t, tok)
		if err != nil || claims.SessionID != sid || claims.ActiveOrganizationSlug != "acme" || claims.ActiveOrganizationRole != "org:admin" {
			t.Fatalf("session from handshake = %+v, %v", claims, err)
		}
		uatText, _ := cookieValue(directives, "__client_uat")
		uat, _ := strconv.ParseInt(uatText, 10, 64)
		if uat <= 0 || uat > *claims.IssuedAt {
			t.Fatalf("__client_uat = %d must be > 0 and not after the token's iat", uat)
		}
		if _, ok := cookieValue(directives, "__session_"+h.e.CookieSuffix()); !ok {
			t.Fatalf("suffixed cookie missing: %q", directives)
		}
	})

	t.Run("SignedOut", func(t *testing.T) {
		_, directives := handshake(h.browser(t), back)
		if uat, _ := cookieValue(directives, "__client_uat"); uat != "0" {
			t.Fatalf("directives = %q", directives)
		}
		if tok, ok := cookieValue(directives, "__session"); !ok || tok != "" || !strings.Contains(directives[0], "Max-Age=0") {
			t.Fatalf("__session must be expired: %q", directives)
		}
	})

	for _, bad := range []string{"https://evil.test/", "//evil.test/x", "/\\evil.test", "javascript:alert(1)", ""} {
		t.Run("ErrRedirectURL "+bad, func(t *testing.T) {
			if resp, _ := handshake(h.browser(t), bad); resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d", resp.StatusCode)
			}
		})
	}
}

func TestFrontendJourney(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.browser(t)
	h.drain(t)
	seeded := len(h.rec.snapshot())

	resp, body := b.post("/v1/client/sign_ups", url.Values{"email_address": {"zoe@example.test"}, "password": {"longenough"}, "first_name": {"Zoe"}})
	if resp.StatusCode != 200 {
		t.Fatalf("sign up: %d %v", resp.StatusCode, body)
	}
	client := body["client"].(map[string]any)
	sess := client["sessions"].([]any)[0].(map[string]any)
	sid := sess["id"].(string)
	if sess["last_active_organization_id"] != nil {
		t.Fatalf("a new user has no organization: %v", sess)
	}

	resp, body = b.post("/v1/organizations", url.Values{"name": {"Zoe's Lab"}})
	if resp.StatusCode != 200 {
		t.Fatalf("create org: %d %v", resp.StatusCode, body)
	}
	orgID := body["response"].(map[string]any)["id"].(string)

	resp, body = b.post("/v1/client/sessions/"+sid+"/touch", url.Values{"active_organization_id": {orgID}})
	if resp.StatusCode != 200 {
		t.Fatalf("touch: %d %v", resp.StatusCode, body)
	}
	resp, body = b.post("/v1/client/sessions/"+sid+"/tokens", nil)
	claims, err := h.verify(t, body["jwt"].(string))
	if resp.StatusCode != 200 || err != nil || claims.ActiveOrganizationID != orgID || claims.ActiveOrganizationRole != "org:admin" {
		t.Fatalf("token after setActive: %v %+v %v", resp.StatusCode, claims, err)
	}

	t.Run("ErrNotAMember", func(t *testing.T) {
		acme, _ := getOrg(context.Background(), h.e.pool, "acme")
		resp, _ := b.post("/v1/client/sessions/"+sid+"/touch", url.Values{"active_organization_id": {acme.ID}})
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
	t.Run("ErrCrossOrigin", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, h.e.Issuer()+"/v1/client/sessions/"+sid+"/remove", nil)
		req.Header.Set("Origin", "http://localhost:1")
		if resp, _ := b.do(req); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
	t.Run("ErrOtherBrowser", func(t *testing.T) {
		if resp, _ := h.browser(t).post("/v1/client/sessions/"+sid+"/tokens", nil); resp.StatusCode == 200 {
			t.Fatal("another browser must not mint tokens for this session")
		}
	})

	if resp, body = b.post("/v1/client/sessions/"+sid+"/remove", nil); resp.StatusCode != 200 || len(body["client"].(map[string]any)["sessions"].([]any)) != 0 {
		t.Fatalf("sign out: %d %v", resp.StatusCode, body)
	}
	if resp, _ := b.post("/v1/client/sessions/"+sid+"/tokens", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("token after sign-out: %d", resp.StatusCode)
	}

	h.drain(t)
	var mine []string
	for _, ev := range h.rec.snapshot()[seeded:] {
		mine = append(mine, ev.Type)
	}
	want := []string{"user.created", "session.created", "organization.created", "organizationMembership.created", "session.removed"}
	if !slices.Equal(mine, want) {
		t.Fatalf("events = %v, want %v", mine, want)
	}
}

// TestBundlesAndEnvironment: the emulator serves the pinned ClerkJS and
// @clerk/ui bundles at Clerk's paths, by exact and by major version, and the
// environment ClerkJS loads describes an email-and-password instance with
// organizations.
func TestBundlesAndEnvironment(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.browser(t)
	m, err := clerkjs.Pinned()
	if err != nil {
		t.Fatal(err)
	}
	cjs, _ := m.Package(clerkjs.ClerkJSPackage)
	ui, _ := m.Package(clerkjs.UIPackage)
	for _, tc := range []struct {
		path   string
		status int
		cache  string
	}{
		{cjs.URLPath(), 200, "immutable"},
		{"/npm/@clerk/clerk-js@" + cjs.Major() + "/dist/clerk.browser.js", 200, "max-age=300"},
		{ui.URLPath(), 200, "immutable"},
		{"/npm/@clerk/ui@" + ui.Major() + "/dist/ui.browser.js", 200, "max-age=300"},
		{"/npm/@clerk/clerk-js@5/dist/clerk.browser.js", 404, ""},
		{"/npm/@clerk/clerk-js@" + cjs.Version + "/dist/clerk.js", 404, ""},
		{"/npm/@clerk/backend@" + cjs.Version + "/dist/clerk.browser.js", 404, ""},
	} {
		resp, err := b.c.Get(h.e.Issuer() + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("GET %s: %d, want %d", tc.path, resp.StatusCode, tc.status)
			continue
		}
		if tc.status == 200 && (!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") ||
			!strings.Contains(resp.Header.Get("Cache-Control"), tc.cache)) {
			t.Errorf("GET %s: %q, %q", tc.path, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"))
		}
	}

	var env struct {
		Object     string `json:"object"`
		AuthConfig struct {
			SingleSessionMode bool `json:"single_session_mode"`
		} `json:"auth_config"`
		DisplayConf struct {
			SignInURL string `json:"sign_in_url"`
			Type      string `json:"instance_environment_type"`
		} `json:"display_config"`
		UserSettings struct {
			Attributes map[string]struct {
				Enabled  bool `json:"enabled"`
				Required bool `json:"required"`
			} `json:"attributes"`
		} `json:"user_settings"`
		OrgSettings struct {
			Enabled bool `json:"enabled"`
		} `json:"organization_settings"`
	}
	for _, method := range []string{"GET", "POST"} {
		req, _ := http.NewRequest(method, h.e.Issuer()+"/v1/environment?_method=PATCH&_clerk_js_version=6", nil)
		req.Header.Set("Origin", h.srv.URL)
		resp, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		err = json.NewDecoder(resp.Body).Decode(&env)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s environment: %d %v", method, resp.StatusCode, err)
		}
		a := env.UserSettings.Attributes
		if env.Object != "environment" || !env.AuthConfig.SingleSessionMode || env.DisplayConf.SignInURL != h.srv.URL+"/sign-in" ||
			env.DisplayConf.Type != "development" || !a["email_address"].Required || !a["password"].Required ||
			a["phone_number"].Enabled || !env.OrgSettings.Enabled {
			t.Fatalf("environment = %+v", env)
		}
	}
}
