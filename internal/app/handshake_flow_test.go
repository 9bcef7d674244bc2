package app_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// docBrowser is a browser against the running app: it keeps cookies, does
// not follow redirects, and asks for documents.
type docBrowser struct {
	t   *testing.T
	jar *cookiejar.Jar
	c   *http.Client
}

func newDocBrowser(t *testing.T) *docBrowser {
	jar, _ := cookiejar.New(nil)
	return &docBrowser{t: t, jar: jar, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

func (b *docBrowser) get(target string) *http.Response {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, target, nil)
	req.Header.Set("Accept", "text/html")
	req.Header.Set("Sec-Fetch-Dest", "document")
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

// signIn signs the browser in through the emulator's Frontend API, as the
// sign-in page's script does.
func (b *docBrowser) signIn(base, email string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/__clerk/v1/client/sign_ins",
		strings.NewReader(url.Values{"identifier": {email}, "password": {"password"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	res, err := b.c.Do(req)
	if err != nil || res.StatusCode != 200 {
		b.t.Fatalf("sign in: %v %v", res, err)
	}
	res.Body.Close()
}

// setCookie puts a cookie on the app's origin, as ClerkJS does.
func (b *docBrowser) setCookie(base, name, value string) {
	u, _ := url.Parse(base)
	b.jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

func (b *docBrowser) cookie(base, name string) string {
	u, _ := url.Parse(base)
	for _, c := range b.jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// handshake walks a stale document request through Clerk's handshake on
// the real server: the app's 307 to the Frontend API (asking for format),
// the Frontend API's 307 back with the payload, the app's 307 that sets the
// cookies, and the page. It returns the app's handshake URL.
func (b *docBrowser) handshake(base, path, format string) *url.URL {
	b.t.Helper()
	res := b.get(base + path)
	loc, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusTemporaryRedirect || loc.Path != "/__clerk/v1/client/handshake" {
		b.t.Fatalf("stale request: %d %s", res.StatusCode, loc)
	}
	asked := *loc
	q := loc.Query()
	q.Set("format", format) // the app asks for token; @clerk/backend asks for nonce
	loc.RawQuery = q.Encode()
	res = b.get(loc.String())
	back, _ := url.Parse(res.Header.Get("Location"))
	param := map[string]string{"token": "__clerk_handshake", "nonce": "__clerk_handshake_nonce"}[format]
	if res.StatusCode != http.StatusTemporaryRedirect || back.Query().Get(param) == "" {
		b.t.Fatalf("Frontend API handshake: %d %s", res.StatusCode, back)
	}
	res = b.get(back.String())
	if res.StatusCode != http.StatusTemporaryRedirect || res.Header.Get("Location") != path {
		b.t.Fatalf("applying the handshake: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if res = b.get(base + path); res.StatusCode != http.StatusOK {
		b.t.Fatalf("after the handshake: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	return &asked
}

// TestHandshakeThroughTheServer: a browser whose cookies are stale is
// handshaken through the emulator and lands signed in, in both of Clerk's
// handshake formats (format=nonce resolved by the app through the Backend
// API), and the development browser it is given then identifies it to the
// Frontend API without any other cookie.
func TestHandshakeThroughTheServer(t *testing.T) {
	t.Parallel()
	ta := start(t)
	ta.synced(t)
	base := ta.URL
	for _, format := range []string{"token", "nonce"} {
		t.Run(format, func(t *testing.T) {
			b := newDocBrowser(t)
			b.signIn(base, "alice@acme.test")
			// ClerkJS would have set __client_uat; without __session
			// the app cannot tell the state and handshakes.
			b.setCookie(base, "__client_uat", strconv.FormatInt(time.Now().Unix(), 10))
			b.handshake(base, "/dashboard", format)
			if b.cookie(base, "__session") == "" || !strings.HasPrefix(b.cookie(base, "__clerk_db_jwt"), "dvb_") {
				t.Fatalf("cookies after the handshake: session %q dev browser %q", b.cookie(base, "__session"), b.cookie(base, "__clerk_db_jwt"))
			}
		})
	}
	t.Run("DevBrowser", func(t *testing.T) {
		b := newDocBrowser(t)
		b.signIn(base, "bob@acme.test")
		b.setCookie(base, "__client_uat", strconv.FormatInt(time.Now().Unix(), 10))
		b.handshake(base, "/orgs", "token")
		db := b.cookie(base, "__clerk_db_jwt")

		// The same browser, knowing only its app-origin cookies (the
		// Frontend API's own cookie is gone), goes stale again: the
		// handshake carries the development browser and is signed in.
		fresh := newDocBrowser(t)
		u, _ := url.Parse(base)
		for _, c := range b.jar.Cookies(u) {
			if strings.HasPrefix(c.Name, "__client_uat") {
				// Plain and suffixed: the client changed since the
				// token was minted.
				c.Value = strconv.FormatInt(time.Now().Unix()+60, 10)
			}
			fresh.setCookie(base, c.Name, c.Value)
		}
		asked := fresh.handshake(base, "/orgs", "nonce")
		if asked.Query().Get("__clerk_db_jwt") != db {
			t.Fatalf("the app's handshake did not forward the development browser: %s", asked)
		}
		if fresh.cookie(base, "__clerk_db_jwt") != db {
			t.Fatalf("dev browser changed: %q → %q", db, fresh.cookie(base, "__clerk_db_jwt"))
		}
	})
}
