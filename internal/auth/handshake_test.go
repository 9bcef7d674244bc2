package auth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/saasstarter/saas/internal/auth"
)

// TestHandshakeReturn: the request that comes back from the Frontend API
// with a handshake token gets the token's cookies and a 307 to the same URL
// without the handshake parameters; the next request is signed in.
func TestHandshakeReturn(t *testing.T) {
	t.Parallel()
	f := pinned(t)
	e := f.app()
	fresh := f.token(t, nil)
	directives := []string{
		"__session=" + fresh + "; Path=/; SameSite=Lax",
		"__client_uat=" + strconv.FormatInt(t0.Unix()-10, 10) + "; Path=/; SameSite=Strict",
		"__clerk_db_jwt=dvb_1; Path=/",
	}
	hs := f.key.Sign(t, nil, map[string]any{"handshake": directives, "iat": t0.Unix(), "exp": t0.Unix() + 60})

	t.Run("QueryParameter", func(t *testing.T) {
		target := "/orgs?tab=1&__clerk_handshake=" + hs + "&__clerk_help=1&x=%2B"
		rec := do(e, page(http.MethodGet, target))
		if rec.Code != http.StatusTemporaryRedirect || rec.Header().Get("Location") != "/orgs?tab=1&x=%2B" {
			t.Fatalf("status %d Location %q", rec.Code, rec.Header().Get("Location"))
		}
		if got := rec.Header().Values("Set-Cookie"); !slices.Equal(got, directives) {
			t.Fatalf("Set-Cookie\n got %q\nwant %q", got, directives)
		}
		if rec.Header().Get("Cache-Control") != "no-store" {
			t.Error("cacheable handshake response")
		}
		// The browser now follows the redirect with the cookies it was given.
		next := page(http.MethodGet, "/orgs?tab=1")
		for _, d := range directives {
			name, val, _ := strings.Cut(strings.Split(d, ";")[0], "=")
			next.AddCookie(&http.Cookie{Name: name, Value: val})
		}
		if rec := do(e, next); rec.Code != 200 || bodyOf(t, rec)["user"] != "user_1" {
			t.Fatalf("after handshake: %d %s", rec.Code, rec.Body)
		}
	})
	t.Run("OnlyParameterLeavesBarePath", func(t *testing.T) {
		rec := do(e, page(http.MethodGet, "/dashboard?__clerk_handshake="+hs))
		if rec.Code != 307 || rec.Header().Get("Location") != "/dashboard" {
			t.Fatalf("status %d Location %q", rec.Code, rec.Header().Get("Location"))
		}
	})
	t.Run("CookieIsApplliedAndCleared", func(t *testing.T) {
		rec := do(e, withCookies(page(http.MethodGet, "/orgs"), "__clerk_handshake", hs))
		if rec.Code != 307 || rec.Header().Get("Location") != "/orgs" {
			t.Fatalf("status %d Location %q", rec.Code, rec.Header().Get("Location"))
		}
		got := rec.Header().Values("Set-Cookie")
		if len(got) != 4 || !strings.HasPrefix(got[0], "__clerk_handshake=;") || !strings.Contains(got[0], "Max-Age=0") || !slices.Equal(got[1:], directives) {
			t.Fatalf("Set-Cookie %q", got)
		}
	})
	t.Run("SchemeRelativePathNeverEchoed", func(t *testing.T) {
		rec := do(e, page(http.MethodGet, "//evil.com/x?__clerk_handshake="+hs))
		if loc := rec.Header().Get("Location"); rec.Code != 307 || loc != "/" {
			t.Fatalf("status %d Location %q", rec.Code, loc)
		}
	})
	t.Run("HeaderSplittingDirectiveDropped", func(t *testing.T) {
		bad := f.key.Sign(t, nil, map[string]any{"handshake": []string{"a=b\r\nX-Evil: 1", "c=d"}})
		rec := do(e, page(http.MethodGet, "/orgs?__clerk_handshake="+bad))
		if got := rec.Header().Values("Set-Cookie"); !slices.Equal(got, []string{"c=d"}) {
			t.Fatalf("Set-Cookie %q", got)
		}
	})
	refused := map[string]string{
		"OtherKey":        f.other.Sign(t, nil, map[string]any{"handshake": directives}),
		"Expired":         f.key.Sign(t, nil, map[string]any{"handshake": directives, "exp": t0.Unix() - 60}),
		"NoDirectives":    f.key.Sign(t, nil, map[string]any{"iat": t0.Unix()}),
		"Garbage":         "garbage",
		"AlgNone":         b64(`{"alg":"none"}`) + "." + b64(`{"handshake":["__session=x"]}`) + ".",
		"SessionTokenNot": fresh,
		"ThreeDots":       "x.y.z",
	}
	for name, tok := range refused {
		t.Run("Refuses"+name, func(t *testing.T) {
			// Signed out, the invalid payload is dropped: the sign-in
			// redirect does not carry it back.
			rec := do(e, page(http.MethodGet, "/orgs?__clerk_handshake="+url.QueryEscape(tok)+"&tab=1"))
			if len(rec.Header().Values("Set-Cookie")) != 0 || rec.Code != 303 || rec.Header().Get("Location") != "/sign-in?redirect_url=/orgs%3Ftab%3D1" {
				t.Fatalf("status %d Location %q Set-Cookie %q", rec.Code, rec.Header().Get("Location"), rec.Header().Values("Set-Cookie"))
			}
		})
	}
	// Issue 14, item 6: a signed-in browser sent to a URL with an invalid
	// handshake parameter went to sign-in, which sent it back to the same
	// URL, forever. The payload is dropped and the cookies decide, as in
	// @clerk/backend's authenticateRequest.
	signedIn := func(r *http.Request) *http.Request {
		return withCookies(r, "__session", fresh, "__client_uat", strconv.FormatInt(t0.Unix()-10, 10))
	}
	for name, tok := range refused {
		t.Run("SignedInContinuesPast"+name, func(t *testing.T) {
			rec := do(e, signedIn(page(http.MethodGet, "/orgs?__clerk_handshake="+url.QueryEscape(tok))))
			if rec.Code != 200 || bodyOf(t, rec)["user"] != "user_1" || len(rec.Header().Values("Set-Cookie")) != 0 {
				t.Fatalf("status %d Set-Cookie %q body %s", rec.Code, rec.Header().Values("Set-Cookie"), rec.Body)
			}
		})
	}
	t.Run("SignedInContinuesPastInvalidCookie", func(t *testing.T) {
		rec := do(e, withCookies(signedIn(page(http.MethodGet, "/orgs")), "__clerk_handshake", "x.y.z"))
		got := rec.Header().Values("Set-Cookie")
		if rec.Code != 200 || bodyOf(t, rec)["user"] != "user_1" || len(got) != 1 || !strings.HasPrefix(got[0], "__clerk_handshake=;") || !strings.Contains(got[0], "Max-Age=0") {
			t.Fatalf("status %d Set-Cookie %q body %s", rec.Code, got, rec.Body)
		}
	})
	t.Run("IgnoredOnAPIRequests", func(t *testing.T) {
		rec := do(e, api(http.MethodGet, "/api/me?__clerk_handshake="+hs))
		if rec.Code != 401 || len(rec.Header().Values("Set-Cookie")) != 0 {
			t.Fatalf("status %d Set-Cookie %q", rec.Code, rec.Header().Values("Set-Cookie"))
		}
	})
}

// TestHandshakeNonce: a Frontend API answering format=nonce sends back
// __clerk_handshake_nonce; the middleware fetches the cookie directives
// once from the Backend API (GET /v1/clients/handshake_payload, secret
// key), applies them and redirects, as @clerk/backend does.
func TestHandshakeNonce(t *testing.T) {
	t.Parallel()
	f := pinned(t)
	fresh := f.token(t, nil)
	directives := []string{
		"__session=" + fresh + "; Path=/; SameSite=Lax",
		"__client_uat=" + strconv.FormatInt(t0.Unix()-10, 10) + "; Path=/; SameSite=Lax",
		"__clerk_db_jwt=dvb_2; Path=/; SameSite=Lax",
	}
	var mu sync.Mutex
	var asked []string
	bapi := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		if r.URL.Path != "/v1/clients/handshake_payload" || r.Header.Get("Authorization") != "Bearer "+secret || r.URL.Query().Get("nonce") != "n-good" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"errors":[{"code":"resource_not_found","message":"not found"}]}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"directives": directives})
	}))
	t.Cleanup(bapi.Close)
	cfg := baseConfig(f.clock)
	cfg.JWTKey, cfg.SecretKey, cfg.APIURL = f.key.PEM(), secret, bapi.URL+"/v1"
	a, err := auth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.a = a
	e := f.app()

	t.Run("QueryParameter", func(t *testing.T) {
		rec := do(e, page(http.MethodGet, "/orgs?tab=1&__clerk_handshake_nonce=n-good&__clerk_db_jwt=dvb_2"))
		if rec.Code != http.StatusTemporaryRedirect || rec.Header().Get("Location") != "/orgs?tab=1" {
			t.Fatalf("status %d Location %q", rec.Code, rec.Header().Get("Location"))
		}
		if got := rec.Header().Values("Set-Cookie"); !slices.Equal(got, directives) {
			t.Fatalf("Set-Cookie\n got %q\nwant %q", got, directives)
		}
		next := page(http.MethodGet, "/orgs?tab=1")
		for _, d := range directives {
			name, val, _ := strings.Cut(strings.Split(d, ";")[0], "=")
			next.AddCookie(&http.Cookie{Name: name, Value: val})
		}
		if rec := do(e, next); rec.Code != 200 || bodyOf(t, rec)["user"] != "user_1" {
			t.Fatalf("after handshake: %d %s", rec.Code, rec.Body)
		}
	})
	t.Run("CookieIsAppliedAndCleared", func(t *testing.T) {
		rec := do(e, withCookies(page(http.MethodGet, "/orgs"), "__clerk_handshake_nonce", "n-good"))
		got := rec.Header().Values("Set-Cookie")
		if rec.Code != 307 || len(got) != 4 || !strings.HasPrefix(got[0], "__clerk_handshake_nonce=;") || !slices.Equal(got[1:], directives) {
			t.Fatalf("status %d Set-Cookie %q", rec.Code, got)
		}
	})
	t.Run("RefusedNonceSignsOut", func(t *testing.T) {
		rec := do(e, page(http.MethodGet, "/orgs?__clerk_handshake_nonce=n-bad"))
		if len(rec.Header().Values("Set-Cookie")) != 0 || rec.Code != 303 || !strings.HasPrefix(rec.Header().Get("Location"), "/sign-in?") {
			t.Fatalf("status %d Location %q Set-Cookie %q", rec.Code, rec.Header().Get("Location"), rec.Header().Values("Set-Cookie"))
		}
	})
	t.Run("IgnoredOnAPIRequests", func(t *testing.T) {
		mu.Lock()
		before := len(asked)
		mu.Unlock()
		rec := do(e, api(http.MethodGet, "/api/me?__clerk_handshake_nonce=n-good"))
		mu.Lock()
		after := len(asked)
		mu.Unlock()
		if rec.Code != 401 || after != before {
			t.Fatalf("status %d, Backend API calls %d → %d", rec.Code, before, after)
		}
	})
	mu.Lock()
	defer mu.Unlock()
	if want := "GET /v1/clients/handshake_payload?nonce=n-good Bearer " + secret; len(asked) == 0 || asked[0] != want {
		t.Fatalf("Backend API calls %q, want first %q", asked, want)
	}
}

// TestHandshakeNonceNeedsBackendAPI: without a secret key (networkless
// verification only) a nonce cannot be resolved; the request is signed out
// and nothing is called.
func TestHandshakeNonceNeedsBackendAPI(t *testing.T) {
	t.Parallel()
	e := pinned(t).app()
	rec := do(e, page(http.MethodGet, "/orgs?__clerk_handshake_nonce=n-good"))
	if rec.Code != 303 || len(rec.Header().Values("Set-Cookie")) != 0 {
		t.Fatalf("status %d Set-Cookie %q", rec.Code, rec.Header().Values("Set-Cookie"))
	}
}

// TestHandshakeForwardsSuffixedDevBrowser: clerk-js reads the suffixed
// __clerk_db_jwt first, and so does the handshake redirect.
func TestHandshakeForwardsSuffixedDevBrowser(t *testing.T) {
	t.Parallel()
	e := pinned(t).app()
	uat := strconv.FormatInt(t0.Unix()-10, 10)
	rec := do(e, withCookies(page(http.MethodGet, "/orgs"), "__client_uat", uat, "__clerk_db_jwt", "dvb_plain", "__clerk_db_jwt_"+suffix, "dvb_suffixed"))
	if rec.Code != 307 || !strings.HasSuffix(rec.Header().Get("Location"), "&__clerk_db_jwt=dvb_suffixed") {
		t.Fatalf("status %d Location %q", rec.Code, rec.Header().Get("Location"))
	}
}

// attemptsPerIP is an AttemptLimiter that allows limit failures per IP.
type attemptsPerIP struct {
	mu     sync.Mutex
	limit  int
	failed map[string]int
}

func (l *attemptsPerIP) Blocked(_ context.Context, ip string) (time.Duration, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return time.Minute, l.failed[ip] >= l.limit, nil
}

func (l *attemptsPerIP) Failed(_ context.Context, ip string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failed[ip]++
	return nil
}

// TestHandshakeNonceAttempts: anyone can put a nonce in a URL, and each one
// costs a Backend API call to resolve; a client whose nonces keep failing
// stops costing calls once its attempts are used up, and is simply signed
// out as for any unknown nonce.
func TestHandshakeNonceAttempts(t *testing.T) {
	t.Parallel()
	f := pinned(t)
	var calls atomic.Int64
	bapi := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"errors":[{"code":"resource_not_found","message":"not found"}]}`))
	}))
	t.Cleanup(bapi.Close)
	cfg := baseConfig(f.clock)
	cfg.JWTKey, cfg.SecretKey, cfg.APIURL = f.key.PEM(), secret, bapi.URL+"/v1"
	cfg.HandshakeAttempts = &attemptsPerIP{limit: 3, failed: map[string]int{}}
	a, err := auth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.a = a
	e := f.app()
	for i := range 10 {
		rec := do(e, page(http.MethodGet, "/orgs?__clerk_handshake_nonce=guess-"+strconv.Itoa(i)))
		if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/sign-in?") {
			t.Fatalf("nonce %d: status %d Location %q", i, rec.Code, rec.Header().Get("Location"))
		}
	}
	if n := calls.Load(); n != 3 {
		t.Fatalf("10 unknown nonces from one client made %d Backend API calls, want 3", n)
	}
}
