package app_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/saasstarter/saas/internal/app"
	"github.com/saasstarter/saas/internal/browsertest"
	"github.com/saasstarter/saas/internal/clerkemu"
)

// shortTokens makes session tokens live 5 seconds, so a journey sees them
// expire and be refreshed.
func shortTokens() app.Options {
	return app.Options{Emulator: clerkemu.Config{TokenLifetime: 5 * time.Second}}
}

// sessionCookie is the browser's __session cookie on the current page.
func sessionCookie(t *testing.T, b *browsertest.Browser) string {
	t.Helper()
	v, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](`(document.cookie.match(/(?:^|; )__session=([^;]+)/) || [])[1] || ""`))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(v, ".") != 2 {
		t.Fatalf("__session cookie %q is not a JWT", v)
	}
	return v
}

// tokenClaims decodes a session token's time claims (without verifying it:
// the server does that on every request).
func tokenClaims(t *testing.T, jwt string) struct{ Iat, Exp int64 } {
	t.Helper()
	var claims struct{ Iat, Exp int64 }
	parts := strings.Split(jwt, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err == nil {
		err = json.Unmarshal(payload, &claims)
	}
	if err != nil || claims.Exp == 0 {
		t.Fatalf("token claims %s: %v", payload, err)
	}
	return claims
}

// waitRefused waits until the app refuses jwt as expired (its lifetime and
// the verifier's leeway have passed).
func waitRefused(t *testing.T, ta *testApp, jwt string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequest(http.MethodGet, ta.URL+"/api/me", nil)
		req.Header.Set("Authorization", "Bearer "+jwt)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode == http.StatusUnauthorized {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatal("the token is still accepted 30 s later")
}

// setCookie sets a browser cookie for the app, as ClerkJS writes its own
// (Path=/, SameSite=Lax, readable by scripts).
func setCookie(t *testing.T, b *browsertest.Browser, appURL, name, value string) {
	t.Helper()
	if _, err := chromedp.Call(b.Ctx, network.SetCookie, network.SetCookieParams{Name: name, Value: value, URL: appURL, Path: "/",
		SameSite: network.CookieSameSiteLax}); err != nil {
		t.Fatal(err)
	}
}

// appCookies are the browser's cookies for the app, by name.
func appCookies(t *testing.T, b *browsertest.Browser, appURL string) map[string]string {
	t.Helper()
	res, err := chromedp.Call(b.Ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{appURL}})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, c := range res.Cookies {
		out[c.Name] = c.Value
	}
	return out
}
