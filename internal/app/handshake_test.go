package app_test

import (
	"net/http"
	"testing"
)

// TestInvalidHandshakeParameterDoesNotLoop: a signed-in browser opening a
// URL with a stale or forged __clerk_handshake gets the page, not a trip to
// sign-in that sends it back to the same URL (issue 14, item 6).
func TestInvalidHandshakeParameterDoesNotLoop(t *testing.T) {
	t.Parallel()
	ta := start(t)
	ta.synced(t)
	tok := sessionToken(t, ta.Server, "alice@acme.test", "")
	browser := map[string]string{
		"Accept": "text/html", "Sec-Fetch-Dest": "document",
		"Cookie": "__session=" + tok + "; __client_uat=1",
	}
	res := get(t, ta.URL+"/dashboard?__clerk_handshake=x.y.z", browser)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("signed-in /dashboard?__clerk_handshake=x.y.z = %d Location %q, want 200", res.StatusCode, res.Header.Get("Location"))
	}
	delete(browser, "Cookie")
	res = get(t, ta.URL+"/dashboard?__clerk_handshake=x.y.z", browser)
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || loc != "/sign-in?redirect_url=/dashboard" {
		t.Fatalf("signed out = %d Location %q, want 303 to sign-in without the parameter", res.StatusCode, loc)
	}
}

// TestProbesAndAssetsNeedNoIdentity: the probes and static files are never
// authenticated (as Clerk's recommended middleware matcher leaves static
// files out): a browser whose session needs a handshake gets them at once
// instead of a trip to Clerk, and a probe costs no token check.
func TestProbesAndAssetsNeedNoIdentity(t *testing.T) {
	t.Parallel()
	ta := start(t)
	stale := map[string]string{
		"Accept": "text/html", "Sec-Fetch-Dest": "document",
		// A client_uat without a session token: a handshake on any page.
		"Cookie": "__client_uat=1700000000",
	}
	if res := get(t, ta.URL+"/dashboard", stale); res.StatusCode != http.StatusTemporaryRedirect {
		t.Fatalf("/dashboard with a stale session = %d, want the handshake's 307", res.StatusCode)
	}
	css, ok := parse(t, get(t, ta.URL+"/", nil)).Find(`link[rel="stylesheet"]`).Attr("href")
	if !ok {
		t.Fatal("no stylesheet on /")
	}
	for _, path := range []string{"/healthz", "/readyz", css} {
		if res := get(t, ta.URL+path, stale); res.StatusCode != http.StatusOK {
			t.Errorf("%s with a stale session = %d Location %q, want 200", path, res.StatusCode, res.Header.Get("Location"))
		}
	}
}
