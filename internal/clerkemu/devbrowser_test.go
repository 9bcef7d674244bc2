package clerkemu

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// handshakeVia asks the Frontend API for a handshake in format and returns
// the redirect back to the app.
func (b *browser) handshakeVia(format, devBrowser string) *url.URL {
	b.t.Helper()
	q := url.Values{"redirect_url": {b.h.srv.URL + "/dashboard"}, "format": {format}}
	if devBrowser != "" {
		q.Set(devBrowserParam, devBrowser)
	}
	resp, body := b.get("/v1/client/handshake?" + q.Encode())
	if resp.StatusCode != http.StatusTemporaryRedirect {
		b.t.Fatalf("handshake: %d %v", resp.StatusCode, body)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	return loc
}

// payload fetches a nonce's directives from the Backend API.
func (h *harness) payload(t *testing.T, nonce string) (int, []string) {
	t.Helper()
	status, _, body := h.call(t, "GET", "/v1/clients/handshake_payload?nonce="+url.QueryEscape(nonce), nil, true)
	var out []string
	for _, d := range body["directives"].([]any) {
		out = append(out, d.(string))
	}
	return status, out
}

// TestHandshakeNonce: format=nonce sends the browser back with a one-time
// nonce; the Backend API hands its directives out once, to the secret key.
func TestHandshakeNonce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.browser(t)
	sid := b.signIn("alice@acme.test")
	back := b.handshakeVia("nonce", "")
	nonce := back.Query().Get("__clerk_handshake_nonce")
	if nonce == "" || back.Query().Has("__clerk_handshake") || back.Path != "/dashboard" {
		t.Fatalf("redirected to %s", back)
	}
	if status, _, body := h.call(t, "GET", "/v1/clients/handshake_payload?nonce="+nonce, nil, false); status != 401 {
		t.Fatalf("without the secret key: %d %v", status, body)
	}
	status, directives := h.payload(t, nonce)
	tok, ok := cookieValue(directives, "__session")
	if status != 200 || !ok {
		t.Fatalf("payload: %d %q", status, directives)
	}
	if claims, err := h.verify(t, tok); err != nil || claims.SessionID != sid {
		t.Fatalf("session from the payload: %+v %v", claims, err)
	}
	if db, ok := cookieValue(directives, devBrowserParam); !ok || !strings.HasPrefix(db, "dvb_") {
		t.Fatalf("no development browser in %q", directives)
	}
	if status, _, body := h.call(t, "GET", "/v1/clients/handshake_payload?nonce="+nonce, nil, true); status != 404 {
		t.Fatalf("a nonce must be good once: %d %v", status, body)
	}
	if status, _, body := h.call(t, "GET", "/v1/client/handshake?format=jwt&redirect_url="+url.QueryEscape(h.srv.URL), nil, false); status != 400 {
		t.Fatalf("format=jwt: %d %v", status, body)
	}
}

// TestDevBrowser: a development browser token, as ClerkJS gets it from
// POST /v1/dev_browser and sends it with every Frontend API request, knows
// the browser without any cookie; the handshake keeps it, or issues one.
func TestDevBrowser(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	noCookies := &browser{t: t, h: h, c: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	resp, body := noCookies.post("/v1/dev_browser", nil)
	db, _ := body["id"].(string)
	if resp.StatusCode != 200 || !strings.HasPrefix(db, "dvb_") {
		t.Fatalf("dev browser: %d %v", resp.StatusCode, body)
	}
	resp, body = noCookies.post("/v1/client/sign_ins?"+devBrowserParam+"="+db, url.Values{"identifier": {"bob@acme.test"}, "password": {DevPassword}})
	if resp.StatusCode != 200 {
		t.Fatalf("sign in: %d %v", resp.StatusCode, body)
	}
	sid := body["response"].(map[string]any)["created_session_id"].(string)

	t.Run("HandshakeKnowsTheBrowserByItsToken", func(t *testing.T) {
		directives := h.handshakeClaims(t, noCookies.handshakeVia("token", db).Query().Get("__clerk_handshake"))
		tok, _ := cookieValue(directives, "__session")
		claims, err := h.verify(t, tok)
		if err != nil || claims.SessionID != sid {
			t.Fatalf("session %+v %v from %q", claims, err, directives)
		}
		if got, _ := cookieValue(directives, devBrowserParam); got != db {
			t.Fatalf("dev browser %q, want the same %q", got, db)
		}
		if got, _ := cookieValue(directives, devBrowserParam+"_"+h.e.CookieSuffix()); got != db {
			t.Fatalf("suffixed dev browser %q", got)
		}
	})
	t.Run("UnknownTokenGetsANewSignedOutBrowser", func(t *testing.T) {
		directives := h.handshakeClaims(t, noCookies.handshakeVia("token", "dvb_unknown").Query().Get("__clerk_handshake"))
		got, _ := cookieValue(directives, devBrowserParam)
		if uat, _ := cookieValue(directives, "__client_uat"); uat != "0" || !strings.HasPrefix(got, "dvb_") || got == "dvb_unknown" || got == db {
			t.Fatalf("directives %q", directives)
		}
	})
	t.Run("TheBrowsersOwnCookieWinsOverALinkedToken", func(t *testing.T) {
		// Another page may put someone else's token in a link; a browser
		// with its own client stays itself.
		carol := h.browser(t)
		carolSID := carol.signIn("carol@globex.test")
		directives := h.handshakeClaims(t, carol.handshakeVia("token", db).Query().Get("__clerk_handshake"))
		tok, _ := cookieValue(directives, "__session")
		if claims, err := h.verify(t, tok); err != nil || claims.SessionID != carolSID {
			t.Fatalf("session %+v %v", claims, err)
		}
		if got, _ := cookieValue(directives, devBrowserParam); got == db {
			t.Fatal("the browser was given another client's development browser")
		}
	})
}
