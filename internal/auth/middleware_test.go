package auth_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/saasstarter/saas/internal/auth"
)

// Request kinds the middleware tells apart.
func page(method, target string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	r.Header.Set("Accept", "text/html,application/xhtml+xml")
	r.Header.Set("Sec-Fetch-Dest", "document")
	return r
}

func api(method, target string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	r.Header.Set("Accept", "application/json")
	return r
}

func htmxReq(method, target string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	r.Header.Set("HX-Request", "true")
	r.Header.Set("HX-Current-URL", baseURL+"/orgs?tab=2")
	return r
}

func withCookies(r *http.Request, kv ...string) *http.Request {
	for i := 0; i+1 < len(kv); i += 2 {
		r.AddCookie(&http.Cookie{Name: kv[i], Value: kv[i+1]})
	}
	return r
}

// TestBearerTransport is A-05 (and A-03 for header vs cookie): which
// Authorization headers authenticate /api/me.
func TestBearerTransport(t *testing.T) {
	t.Parallel()
	f := pinned(t)
	e := f.app()
	valid := f.token(t, nil)
	other := f.token(t, func(c map[string]any) { c["sub"], c["sid"] = "user_2", "sess_2" })
	expired := f.token(t, func(c map[string]any) { c["iat"], c["exp"] = t0.Unix()-120, t0.Unix()-60 })
	machine := f.key.Sign(t, map[string]any{"cat": "cl_B7d4PD333AAA"}, map[string]any{"sub": "mch_2abc", "iat": t0.Unix(), "exp": t0.Unix() + 60})
	uat := strconv.FormatInt(t0.Unix()-10, 10)
	cases := []struct {
		name, authz string
		cookies     []string
		status      int
		user        string
		refresh     bool
	}{
		{"NoCredentials", "", nil, 401, "", false},
		{"Bearer", "Bearer " + valid, nil, 200, "user_1", false},
		{"LowercaseScheme", "bearer " + valid, nil, 200, "user_1", false},
		{"UppercaseScheme", "BEARER " + valid, nil, 200, "user_1", false},
		{"ExtraWhitespace", "Bearer   " + valid + "  ", nil, 200, "user_1", false},
		{"TabSeparator", "Bearer\t" + valid, nil, 200, "user_1", false},
		{"BareTokenNotAccepted", valid, nil, 401, "", false},
		{"BasicIgnored", "Basic dXNlcjpwYXNz", nil, 401, "", false},
		{"BearerNoSpace", "Bearer" + valid, nil, 401, "", false},
		{"Garbage", "Bearer garbage", nil, 401, "", false},
		{"EmptyBearer", "Bearer ", nil, 401, "", false},
		{"ExpiredAsksForRefresh", "Bearer " + expired, nil, 401, "", true},
		{"MachineTokenRefused", "Bearer " + machine, nil, 401, "", false},
		{"OpaqueMachineTokenRefused", "Bearer mt_0123456789abcdef0123456789abcdef", nil, 401, "", false},
		{"HeaderWinsOverCookie", "Bearer " + valid, []string{"__session", other, "__client_uat", uat}, 200, "user_1", false},
		{"BadHeaderNeverFallsBackToCookie", "Bearer garbage", []string{"__session", other, "__client_uat", uat}, 401, "", false},
		{"OtherSchemeFallsBackToCookie", "Basic dXNlcjpwYXNz", []string{"__session", other, "__client_uat", uat}, 200, "user_2", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := withCookies(api(http.MethodGet, "/api/me"), tc.cookies...)
			if tc.authz != "" {
				r.Header.Set("Authorization", tc.authz)
			}
			rec := do(e, r)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			if tc.status == 401 && bodyOf(t, rec)["error"] != "Unauthenticated" {
				t.Fatalf("body %s", rec.Body)
			}
			if tc.status == 200 && bodyOf(t, rec)["user"] != tc.user {
				t.Fatalf("user %v, want %s", bodyOf(t, rec)["user"], tc.user)
			}
			if got := rec.Header().Get(auth.HeaderRefresh) == "1"; got != tc.refresh {
				t.Fatalf("refresh header %v, want %v", got, tc.refresh)
			}
		})
	}
}

func handshakeURL(current, reason string) string {
	return fapi + "/v1/client/handshake?redirect_url=" + url.QueryEscape(current) +
		"&__clerk_api_version=2025-04-10&suffixed_cookies=false&format=token&__clerk_hs_reason=" + reason
}

// TestCookieDecisionTree follows clerk.md §2.3 for a document GET of a
// protected page.
func TestCookieDecisionTree(t *testing.T) {
	t.Parallel()
	f := pinned(t)
	e := f.app()
	now := t0.Unix()
	valid := f.token(t, nil)
	user2 := f.token(t, func(c map[string]any) { c["sub"], c["sid"] = "user_2", "sess_2" })
	expired := f.token(t, func(c map[string]any) { c["iat"], c["exp"] = now-120, now-60 })
	uat := strconv.FormatInt(now-10, 10)
	newerUAT := strconv.FormatInt(now+1, 10)
	const signIn = "/sign-in?redirect_url=/orgs%3Ftab%3D1"
	cases := []struct {
		name     string
		cookies  []string
		status   int
		location string
		user     string
	}{
		{"NoCookiesSignedOut", nil, 303, signIn, ""},
		{"UATZeroNoSessionSignedOut", []string{"__client_uat", "0"}, 303, signIn, ""},
		{"ValidSession", []string{"__session", valid, "__client_uat", uat}, 200, "", "user_1"},
		{"SuffixedCookieFirst", []string{"__session", user2, "__session_" + suffix, valid, "__client_uat_" + suffix, uat}, 200, "", "user_1"},
		{"SuffixedUATAlone", []string{"__session", valid, "__client_uat_" + suffix, uat}, 200, "", "user_1"},
		{"SessionWithoutUAT", []string{"__session", valid}, 307, handshakeURL(baseURL+"/orgs?tab=1", "session-token-but-no-client-uat"), ""},
		{"SessionWithUATZero", []string{"__session", valid, "__client_uat", "0"}, 307, handshakeURL(baseURL+"/orgs?tab=1", "session-token-but-no-client-uat"), ""},
		{"UATWithoutSession", []string{"__client_uat", uat}, 307, handshakeURL(baseURL+"/orgs?tab=1", "client-uat-but-no-session-token"), ""},
		{"ExpiredSession", []string{"__session", expired, "__client_uat", uat}, 307, handshakeURL(baseURL+"/orgs?tab=1", "session-token-expired"), ""},
		{"TokenOlderThanUAT", []string{"__session", valid, "__client_uat", newerUAT}, 307, handshakeURL(baseURL+"/orgs?tab=1", "session-token-iat-before-client-uat"), ""},
		{"GarbageSessionSignedOut", []string{"__session", "garbage", "__client_uat", uat}, 303, signIn, ""},
		{"OtherKeySignedOut", []string{"__session", f.other.Sign(t, nil, f.claims()), "__client_uat", uat}, 303, signIn, ""},
		{"DevBrowserForwarded", []string{"__client_uat", uat, "__clerk_db_jwt", "dvb_1"}, 307, handshakeURL(baseURL+"/orgs?tab=1", "client-uat-but-no-session-token") + "&__clerk_db_jwt=dvb_1", ""},
		{"LoopGuardBelowLimit", []string{"__session", expired, "__client_uat", uat, "__clerk_redirect_count", "2"}, 307, handshakeURL(baseURL+"/orgs?tab=1", "session-token-expired"), ""},
		{"LoopGuardAtLimitSignedOut", []string{"__session", expired, "__client_uat", uat, "__clerk_redirect_count", "3"}, 303, signIn, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := do(e, withCookies(page(http.MethodGet, "/orgs?tab=1"), tc.cookies...))
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d (Location %q)", rec.Code, tc.status, rec.Header().Get("Location"))
			}
			if got := rec.Header().Get("Location"); got != tc.location {
				t.Fatalf("Location\n got %s\nwant %s", got, tc.location)
			}
			if tc.status == 307 {
				if rec.Header().Get("Cache-Control") != "no-store" {
					t.Error("handshake redirect is cacheable")
				}
				n := 1
				for i := 0; i+1 < len(tc.cookies); i += 2 {
					if tc.cookies[i] == "__clerk_redirect_count" {
						n, _ = strconv.Atoi(tc.cookies[i+1])
						n++
					}
				}
				if sc := rec.Header().Get("Set-Cookie"); !strings.HasPrefix(sc, "__clerk_redirect_count="+strconv.Itoa(n)+";") || !strings.Contains(sc, "HttpOnly") {
					t.Errorf("loop-guard cookie %q", sc)
				}
			}
			if tc.status == 200 && bodyOf(t, rec)["user"] != tc.user {
				t.Fatalf("user %v", bodyOf(t, rec)["user"])
			}
		})
	}
}

// TestStaleNonDocumentRequests: requests that cannot follow a handshake are
// signed out, and HTMX and API callers are told to refresh.
func TestStaleNonDocumentRequests(t *testing.T) {
	t.Parallel()
	f := pinned(t)
	e := f.app()
	expired := f.token(t, func(c map[string]any) { c["iat"], c["exp"] = t0.Unix()-120, t0.Unix()-60 })
	stale := []string{"__session", expired, "__client_uat", strconv.FormatInt(t0.Unix()-130, 10)}
	t.Run("HTMXGets401WithRefreshHeader", func(t *testing.T) {
		rec := do(e, withCookies(htmxReq(http.MethodGet, "/orgs"), stale...))
		if rec.Code != 401 || rec.Header().Get(auth.HeaderRefresh) != "1" || rec.Header().Get("HX-Redirect") != "" {
			t.Fatalf("status %d, headers %v", rec.Code, rec.Header())
		}
	})
	t.Run("HTMXSignedOutGetsHXRedirect", func(t *testing.T) {
		rec := do(e, htmxReq(http.MethodGet, "/orgs"))
		if rec.Code != 401 || rec.Header().Get("HX-Redirect") != "/sign-in?redirect_url=/orgs%3Ftab%3D2" {
			t.Fatalf("status %d, HX-Redirect %q", rec.Code, rec.Header().Get("HX-Redirect"))
		}
	})
	t.Run("APIGets401JSONWithRefreshHeader", func(t *testing.T) {
		rec := do(e, withCookies(api(http.MethodGet, "/api/me"), stale...))
		if rec.Code != 401 || bodyOf(t, rec)["error"] != "Unauthenticated" || rec.Header().Get(auth.HeaderRefresh) != "1" {
			t.Fatalf("status %d %s %v", rec.Code, rec.Body, rec.Header())
		}
	})
	t.Run("FormPostIsNotHandshaken", func(t *testing.T) {
		r := withCookies(page(http.MethodPost, "/orgs"), stale...)
		rec := do(e, r)
		if rec.Code != 303 || !strings.HasPrefix(rec.Header().Get("Location"), "/sign-in?") {
			t.Fatalf("status %d Location %q", rec.Code, rec.Header().Get("Location"))
		}
	})
	t.Run("FetchWithoutDocumentDestIsNotHandshaken", func(t *testing.T) {
		r := withCookies(httptest.NewRequest(http.MethodGet, "/orgs", nil), stale...)
		r.Header.Set("Sec-Fetch-Dest", "empty")
		if rec := do(e, r); rec.Code == 307 {
			t.Fatal("handshake for a fetch")
		}
	})
	t.Run("PublicPageStaysPublic", func(t *testing.T) {
		r := withCookies(httptest.NewRequest(http.MethodGet, "/healthz", nil), stale...)
		if rec := do(e, r); rec.Code != 200 {
			t.Fatalf("status %d", rec.Code)
		}
	})
}
