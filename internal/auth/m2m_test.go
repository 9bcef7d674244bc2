package auth_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/saasstarter/saas/internal/auth"
	"github.com/saasstarter/saas/internal/auth/authtest"
)

// fakeM2M is a Backend API serving POST /v1/m2m_tokens/verify from a table
// of opaque tokens, counting calls.
type fakeM2M struct {
	*httptest.Server
	calls  atomic.Int64
	mu     sync.Mutex
	tokens map[string]map[string]any
	down   bool
}

func newFakeM2M(t *testing.T) *fakeM2M {
	s := &fakeM2M{tokens: map[string]map[string]any{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/m2m_tokens/verify" || r.Header.Get("Authorization") != "Bearer "+secret {
			http.Error(w, `{"errors":[{"code":"authentication_invalid"}]}`, http.StatusUnauthorized)
			return
		}
		s.calls.Add(1)
		var body struct {
			Token string `json:"token"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		s.mu.Lock()
		tok, ok := s.tokens[body.Token]
		down := s.down
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case down:
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte(`{"errors":[{"code":"internal_clerk_error"}]}`))
		case !ok:
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"errors":[{"code":"resource_not_found","message":"not found"}]}`))
		default:
			_ = json.NewEncoder(w).Encode(tok)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *fakeM2M) set(token string, v map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[token] = v
}

// m2mFixture pins the session key and verifies opaque tokens against fake.
func m2mFixture(t *testing.T) (*fixture, *fakeM2M) {
	key, other := issuers(t)
	fake := newFakeM2M(t)
	f := &fixture{key: key, other: other, clock: authtest.NewClock(t0)}
	cfg := baseConfig(f.clock)
	cfg.JWTKey = key.PEM()
	cfg.APIURL, cfg.SecretKey = fake.URL+"/v1", secret
	a, err := auth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.a = a
	return f, fake
}

const (
	opaqueOK      = "mt_0123456789abcdef0123456789abcdef"
	opaqueRevoked = "mt_fedcba9876543210fedcba9876543210"
	opaqueUnknown = "mt_00000000000000000000000000000000"
)

func TestMachineTokens(t *testing.T) {
	t.Parallel()
	f, fake := m2mFixture(t)
	e := f.app()
	ms := t0.UnixMilli()
	fake.set(opaqueOK, map[string]any{"object": "machine_to_machine_token", "id": "mt_id_1", "subject": "mch_cron", "scopes": []string{"mch_app"},
		"claims": map[string]any{"job": "usage"}, "revoked": false, "expired": false, "expiration": ms + 3_600_000, "created_at": ms, "updated_at": ms})
	fake.set(opaqueRevoked, map[string]any{"id": "mt_id_2", "subject": "mch_cron", "scopes": []string{"mch_app"}, "revoked": true, "expired": false})
	machineJWT := func(scopes string, header map[string]any) string {
		c := map[string]any{"sub": "mch_cron", "iat": t0.Unix(), "exp": t0.Unix() + 300, "jti": "mt_jwt_1"}
		if scopes != "" {
			c["scopes"] = scopes
		}
		if header == nil {
			header = map[string]any{"cat": "cl_B7d4PD333AAA"}
		}
		return f.key.Sign(t, header, c)
	}
	session := f.token(t, nil)
	cases := []struct {
		name, method, target, authz string
		status                      int
		machine                     string
	}{
		{"OpaqueAccepted", "GET", "/api/m2m/ping", "Bearer " + opaqueOK, 200, "mch_cron"},
		{"OpaqueScopeAccepted", "POST", "/api/m2m/usage", "Bearer " + opaqueOK, 200, "mch_cron"},
		{"OpaqueRevoked", "GET", "/api/m2m/ping", "Bearer " + opaqueRevoked, 401, ""},
		{"OpaqueUnknown", "GET", "/api/m2m/ping", "Bearer " + opaqueUnknown, 401, ""},
		{"OpaqueMalformed", "GET", "/api/m2m/ping", "Bearer mt_../x", 401, ""},
		{"JWTAccepted", "GET", "/api/m2m/ping", "Bearer " + machineJWT("mch_app", nil), 200, "mch_cron"},
		{"JWTWithoutCatAccepted", "GET", "/api/m2m/ping", "Bearer " + machineJWT("mch_app", map[string]any{}), 200, "mch_cron"},
		{"JWTScopeAccepted", "POST", "/api/m2m/usage", "Bearer " + machineJWT("mch_other mch_app", nil), 200, "mch_cron"},
		{"JWTWrongScope", "POST", "/api/m2m/usage", "Bearer " + machineJWT("mch_other", nil), 403, ""},
		{"JWTOtherKey", "GET", "/api/m2m/ping", "Bearer " + f.other.Sign(t, map[string]any{"cat": "cl_B7d4PD333AAA"}, map[string]any{"sub": "mch_cron", "iat": t0.Unix(), "exp": t0.Unix() + 300}), 401, ""},
		{"JWTWithoutExp", "GET", "/api/m2m/ping", "Bearer " + f.key.Sign(t, nil, map[string]any{"sub": "mch_cron", "iat": t0.Unix()}), 401, ""},
		{"JWTSessionCategory", "GET", "/api/m2m/ping", "Bearer " + machineJWT("mch_app", map[string]any{"cat": "cl_B7d4PD111AAA"}), 401, ""},
		{"SessionTokenRefused", "GET", "/api/m2m/ping", "Bearer " + session, 401, ""},
		{"NoToken", "GET", "/api/m2m/ping", "", 401, ""},
		{"OpaqueRefusedElsewhere", "GET", "/api/me", "Bearer " + opaqueOK, 401, ""},
		{"JWTRefusedElsewhere", "GET", "/api/me", "Bearer " + machineJWT("mch_app", nil), 401, ""},
		{"JWTRefusedOnPages", "GET", "/orgs", "Bearer " + machineJWT("mch_app", nil), 303, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := api(tc.method, tc.target)
			if tc.target == "/orgs" {
				r = page(tc.method, tc.target)
			}
			if tc.authz != "" {
				r.Header.Set("Authorization", tc.authz)
			}
			rec := do(e, r)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			if tc.machine != "" {
				if b := bodyOf(t, rec); b["machine"] != tc.machine || b["user"] != "" {
					t.Fatalf("body %v", b)
				}
			}
		})
	}
}

func TestOpaqueMachineCache(t *testing.T) {
	t.Parallel()
	f, fake := m2mFixture(t)
	e := f.app()
	fake.set(opaqueOK, map[string]any{"id": "mt_id_1", "subject": "mch_cron", "scopes": []string{"mch_app"}})
	call := func(tok string) int {
		r := api("GET", "/api/m2m/ping")
		r.Header.Set("Authorization", "Bearer "+tok)
		return do(e, r).Code
	}
	for range 5 {
		if code := call(opaqueOK); code != 200 {
			t.Fatalf("status %d", code)
		}
		if code := call(opaqueUnknown); code != 401 {
			t.Fatalf("status %d", code)
		}
	}
	if n := fake.calls.Load(); n != 2 {
		t.Fatalf("%d Backend API calls for 10 requests over 2 tokens, want 2", n)
	}
	// Revocation is seen once the 30 s cache entry ends.
	fake.set(opaqueOK, map[string]any{"id": "mt_id_1", "subject": "mch_cron", "revoked": true})
	f.clock.Advance(31 * time.Second)
	if code := call(opaqueOK); code != 401 {
		t.Fatalf("revoked token after cache expiry: %d", code)
	}
	t.Run("OutageIs503NotCached", func(t *testing.T) {
		fake.mu.Lock()
		fake.down = true
		fake.mu.Unlock()
		const tok = "mt_11111111111111111111111111111111"
		if code := call(tok); code != 503 {
			t.Fatalf("status %d", code)
		}
		fake.mu.Lock()
		fake.down = false
		fake.mu.Unlock()
		fake.set(tok, map[string]any{"id": "mt_id_3", "subject": "mch_cron"})
		if code := call(tok); code != 200 {
			t.Fatalf("after outage: %d", code)
		}
	})
}
