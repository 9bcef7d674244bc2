package auth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/saasstarter/saas/internal/auth"
	"github.com/saasstarter/saas/internal/auth/authtest"
)

const (
	// machineSecret is this app's machine secret key, and selfMachine the
	// machine it belongs to.
	machineSecret = "ak_0123456789abcdef0123456789abcdef"
	selfMachine   = "mch_app"
)

// fakeM2M is a Backend API for machine tokens as Clerk runs it, counting
// calls: POST /v1/m2m_tokens/verify authenticated with a machine secret key
// answers only tokens scoped to that machine (404 otherwise), and POST
// /v1/m2m_tokens issues a token whose subject is the calling machine.
type fakeM2M struct {
	*httptest.Server
	calls   atomic.Int64
	creates atomic.Int64
	mu      sync.Mutex
	tokens  map[string]map[string]any
	down    bool
}

func newFakeM2M(t *testing.T) *fakeM2M {
	s := &fakeM2M{tokens: map[string]map[string]any{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+machineSecret {
			http.Error(w, `{"errors":[{"code":"authentication_invalid"}]}`, http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/v1/m2m_tokens":
			s.creates.Add(1)
			w.WriteHeader(http.StatusCreated)
			_ = json.NewEncoder(w).Encode(map[string]any{"object": "machine_to_machine_token", "id": "mt_self", "subject": selfMachine, "token": "mt_x"})
			return
		case r.Method == http.MethodPost && r.URL.Path == "/v1/m2m_tokens/mt_self/revoke":
			_ = json.NewEncoder(w).Encode(map[string]any{"object": "machine_to_machine_token", "id": "mt_self", "revoked": true})
			return
		case r.Method != http.MethodPost || r.URL.Path != "/v1/m2m_tokens/verify":
			http.NotFound(w, r)
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
		if scopes, _ := tok["scopes"].([]string); ok && !contains(scopes, selfMachine) {
			ok = false
		}
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

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func (s *fakeM2M) set(token string, v map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[token] = v
}

// m2mFixture pins the session key and verifies machine tokens as selfMachine
// against fake. With known, the machine id is configured; otherwise it is
// learned from the fake.
func m2mFixture(t *testing.T, known bool) (*fixture, *fakeM2M) {
	key, other := issuers(t)
	fake := newFakeM2M(t)
	f := &fixture{key: key, other: other, clock: authtest.NewClock(t0)}
	cfg := baseConfig(f.clock)
	cfg.JWTKey = key.PEM()
	cfg.APIURL, cfg.SecretKey, cfg.MachineSecretKey = fake.URL+"/v1", secret, machineSecret
	if known {
		cfg.MachineID = selfMachine
	}
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
	// opaqueElsewhere is valid in the instance but scoped to another
	// machine only: Clerk does not verify it for this one.
	opaqueElsewhere = "mt_11112222333344445555666677778888"
)

func TestMachineTokens(t *testing.T) {
	t.Parallel()
	f, fake := m2mFixture(t, false)
	e := f.app()
	ms := t0.UnixMilli()
	fake.set(opaqueOK, map[string]any{"object": "machine_to_machine_token", "id": "mt_id_1", "subject": "mch_cron", "scopes": []string{selfMachine},
		"claims": map[string]any{"job": "usage"}, "revoked": false, "expired": false, "expiration": ms + 3_600_000, "created_at": ms, "updated_at": ms})
	fake.set(opaqueRevoked, map[string]any{"id": "mt_id_2", "subject": "mch_cron", "scopes": []string{selfMachine}, "revoked": true, "expired": false})
	fake.set(opaqueElsewhere, map[string]any{"id": "mt_id_3", "subject": "mch_cron", "scopes": []string{"mch_billing"}})
	machineJWT := func(claims map[string]any, header map[string]any) string {
		c := map[string]any{"sub": "mch_cron", "iat": t0.Unix(), "exp": t0.Unix() + 300, "jti": "mt_jwt_1"}
		for k, v := range claims {
			c[k] = v
		}
		if header == nil {
			header = map[string]any{"cat": "cl_B7d4PD333AAA"}
		}
		return f.key.Sign(t, header, c)
	}
	scoped := map[string]any{"scopes": selfMachine}
	session := f.token(t, nil)
	cases := []struct {
		name, method, target, authz string
		status                      int
		machine                     string
	}{
		{"OpaqueAccepted", "GET", "/api/m2m/ping", "Bearer " + opaqueOK, 200, "mch_cron"},
		{"OpaqueAcceptedForWrites", "POST", "/api/m2m/usage", "Bearer " + opaqueOK, 200, "mch_cron"},
		{"OpaqueRevoked", "GET", "/api/m2m/ping", "Bearer " + opaqueRevoked, 401, ""},
		{"OpaqueUnknown", "GET", "/api/m2m/ping", "Bearer " + opaqueUnknown, 401, ""},
		{"OpaqueScopedElsewhere", "POST", "/api/m2m/usage", "Bearer " + opaqueElsewhere, 401, ""},
		{"OpaqueMalformed", "GET", "/api/m2m/ping", "Bearer mt_../x", 401, ""},
		{"JWTAccepted", "GET", "/api/m2m/ping", "Bearer " + machineJWT(scoped, nil), 200, "mch_cron"},
		{"JWTWithoutCatAccepted", "GET", "/api/m2m/ping", "Bearer " + machineJWT(scoped, map[string]any{}), 200, "mch_cron"},
		{"JWTOneOfScopes", "POST", "/api/m2m/usage", "Bearer " + machineJWT(map[string]any{"scopes": "mch_other " + selfMachine}, nil), 200, "mch_cron"},
		{"JWTAudienceScope", "POST", "/api/m2m/usage", "Bearer " + machineJWT(map[string]any{"aud": []string{selfMachine}}, nil), 200, "mch_cron"},
		{"JWTScopedElsewhere", "POST", "/api/m2m/usage", "Bearer " + machineJWT(map[string]any{"scopes": "mch_other"}, nil), 401, ""},
		{"JWTAudienceElsewhere", "GET", "/api/m2m/ping", "Bearer " + machineJWT(map[string]any{"aud": []string{"mch_other"}}, nil), 401, ""},
		{"JWTWithoutScopes", "GET", "/api/m2m/ping", "Bearer " + machineJWT(nil, nil), 401, ""},
		{"JWTOtherKey", "GET", "/api/m2m/ping", "Bearer " + f.other.Sign(t, map[string]any{"cat": "cl_B7d4PD333AAA"}, map[string]any{"sub": "mch_cron", "iat": t0.Unix(), "exp": t0.Unix() + 300, "scopes": selfMachine}), 401, ""},
		{"JWTWithoutExp", "GET", "/api/m2m/ping", "Bearer " + f.key.Sign(t, nil, map[string]any{"sub": "mch_cron", "iat": t0.Unix(), "scopes": selfMachine}), 401, ""},
		{"JWTSessionCategory", "GET", "/api/m2m/ping", "Bearer " + machineJWT(scoped, map[string]any{"cat": "cl_B7d4PD111AAA"}), 401, ""},
		{"SessionTokenRefused", "GET", "/api/m2m/ping", "Bearer " + session, 401, ""},
		{"NoToken", "GET", "/api/m2m/ping", "", 401, ""},
		{"OpaqueRefusedElsewhere", "GET", "/api/me", "Bearer " + opaqueOK, 401, ""},
		{"JWTRefusedElsewhere", "GET", "/api/me", "Bearer " + machineJWT(scoped, nil), 401, ""},
		{"JWTRefusedOnPages", "GET", "/orgs", "Bearer " + machineJWT(scoped, nil), 303, ""},
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
	// The app's machine id was learned once, for all the JWTs above.
	if n := fake.creates.Load(); n != 1 {
		t.Errorf("machine id looked up %d times, want once", n)
	}
}

// TestMachineTokensMalformedNeverCallClerk: tokens that cannot be Clerk
// machine tokens are refused without a Backend API call (issue: anonymous
// callers must not spend the instance's quota).
func TestMachineTokensMalformedNeverCallClerk(t *testing.T) {
	t.Parallel()
	f, fake := m2mFixture(t, false)
	e := f.app()
	session := f.token(t, nil)
	for _, tok := range []string{
		"mt_", "mt_short", "mt_" + strings.Repeat("a", 129), "mt_0123456789abcdef0123456789abcdef/../x",
		"mt_0123456789abcdef0123456789abcdef%2F", "ak_0123456789abcdef0123456789abcdef",
		"oat_0123456789abcdef0123456789abcdef", "garbage", "a.b.c", session,
		f.key.Sign(t, map[string]any{"cat": "cl_B7d4PD333AAA"}, map[string]any{"sub": "user_1", "iat": t0.Unix(), "exp": t0.Unix() + 60}),
	} {
		r := api("GET", "/api/m2m/ping")
		r.Header.Set("Authorization", "Bearer "+tok)
		if rec := do(e, r); rec.Code != 401 {
			t.Errorf("token %.40q: status %d, want 401", tok, rec.Code)
		}
	}
	if n, c := fake.calls.Load(), fake.creates.Load(); n != 0 || c != 0 {
		t.Fatalf("%d verify and %d create calls for malformed tokens, want none", n, c)
	}
}

// TestMachineShapeRefusalsUseNoAttempts: refusing a token on its shape
// costs nothing, so it uses up none of the client's attempts; a
// verification that fails does.
func TestMachineShapeRefusalsUseNoAttempts(t *testing.T) {
	t.Parallel()
	f, _ := m2mFixture(t, true)
	attempts := &memAttempts{limit: 1, fails: map[string]int{}}
	f.attempts = attempts
	e := f.app()
	call := func(tok string) int {
		r := api("GET", "/api/m2m/ping")
		r.Header.Set("Authorization", "Bearer "+tok)
		return do(e, r).Code
	}
	for range 3 {
		if code := call(f.token(t, nil)); code != 401 {
			t.Fatalf("session token: %d", code)
		}
		if code := call("mt_short"); code != 401 {
			t.Fatalf("malformed token: %d", code)
		}
	}
	if n := attempts.fails["192.0.2.1"]; n != 0 {
		t.Fatalf("%d attempts counted for tokens refused on their shape", n)
	}
	if code := call(opaqueUnknown); code != 401 || attempts.fails["192.0.2.1"] != 1 {
		t.Fatalf("unknown token: %d, %d attempts", code, attempts.fails["192.0.2.1"])
	}
	if code := call("mt_" + strings.Repeat("5", 32)); code != 429 {
		t.Fatalf("with no attempts left: %d, want 429", code)
	}
}

// TestMachineIDConfigured: with the machine id given (emulator mode), JWT
// tokens need no Backend API call at all.
func TestMachineIDConfigured(t *testing.T) {
	t.Parallel()
	f, fake := m2mFixture(t, true)
	e := f.app()
	tok := f.key.Sign(t, map[string]any{"cat": "cl_B7d4PD333AAA"}, map[string]any{"sub": "mch_cron", "iat": t0.Unix(), "exp": t0.Unix() + 300, "scopes": selfMachine})
	r := api("GET", "/api/m2m/ping")
	r.Header.Set("Authorization", "Bearer "+tok)
	if rec := do(e, r); rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if n := fake.calls.Load() + fake.creates.Load(); n != 0 {
		t.Fatalf("%d Backend API calls, want 0", n)
	}
}

// TestMachineTokensOff: without a machine secret key nothing is a valid
// machine token, and nothing calls Clerk.
func TestMachineTokensOff(t *testing.T) {
	t.Parallel()
	key, _ := issuers(t)
	fake := newFakeM2M(t)
	fake.set(opaqueOK, map[string]any{"id": "mt_id_1", "subject": "mch_cron", "scopes": []string{selfMachine}})
	cfg := baseConfig(authtest.NewClock(t0))
	cfg.JWTKey, cfg.APIURL, cfg.SecretKey = key.PEM(), fake.URL+"/v1", secret
	a, err := auth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if a.MachinesEnabled() {
		t.Fatal("machine tokens enabled without a machine secret key")
	}
	if _, err := a.VerifyMachine(context.Background(), opaqueOK); err == nil || fake.calls.Load() != 0 {
		t.Fatalf("VerifyMachine = %v after %d calls, want a refusal and none", err, fake.calls.Load())
	}
}

// memAttempts is an in-memory AttemptLimiter: limit refusals per IP.
type memAttempts struct {
	mu    sync.Mutex
	limit int
	fails map[string]int
}

func (m *memAttempts) Blocked(_ context.Context, ip string) (time.Duration, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return 42 * time.Second, m.fails[ip] >= m.limit, nil
}

func (m *memAttempts) Failed(_ context.Context, ip string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fails[ip]++
	return nil
}

// TestMachineAttemptsLimited: after the client's refused attempts are used
// up, it gets 429 without any verification; other clients and cached valid
// tokens are not affected.
func TestMachineAttemptsLimited(t *testing.T) {
	t.Parallel()
	f, fake := m2mFixture(t, true)
	f.attempts = &memAttempts{limit: 3, fails: map[string]int{}}
	e := f.app()
	fake.set(opaqueOK, map[string]any{"id": "mt_id_1", "subject": "mch_cron", "scopes": []string{selfMachine}})
	call := func(ip, tok string) *httptest.ResponseRecorder {
		r := api("GET", "/api/m2m/ping")
		r.RemoteAddr = ip + ":1234"
		r.Header.Set("Authorization", "Bearer "+tok)
		return do(e, r)
	}
	if rec := call("192.0.2.1", opaqueOK); rec.Code != 200 {
		t.Fatalf("valid token: %d", rec.Code)
	}
	for i := range 3 {
		guess := "mt_" + strings.Repeat("0", 31) + string(rune('a'+i))
		if rec := call("192.0.2.2", guess); rec.Code != 401 {
			t.Fatalf("guess %d: %d, want 401", i, rec.Code)
		}
	}
	before := fake.calls.Load()
	rec := call("192.0.2.2", "mt_"+strings.Repeat("9", 32))
	if rec.Code != 429 || rec.Header().Get("Retry-After") != "42" || strings.TrimSpace(rec.Body.String()) != `{"error":"Rate limited"}` {
		t.Fatalf("over the limit: %d %q %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	if fake.calls.Load() != before {
		t.Fatal("a blocked client's token reached the Backend API")
	}
	if rec := call("192.0.2.2", opaqueOK); rec.Code != 200 {
		t.Errorf("a cached valid token from the blocked address: %d, want 200", rec.Code)
	}
	if rec := call("192.0.2.3", opaqueUnknown); rec.Code != 401 {
		t.Errorf("another client: %d, want 401", rec.Code)
	}
}

func TestOpaqueMachineCache(t *testing.T) {
	t.Parallel()
	f, fake := m2mFixture(t, true)
	e := f.app()
	fake.set(opaqueOK, map[string]any{"id": "mt_id_1", "subject": "mch_cron", "scopes": []string{selfMachine}})
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
	fake.set(opaqueOK, map[string]any{"id": "mt_id_1", "subject": "mch_cron", "scopes": []string{selfMachine}, "revoked": true})
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
		fake.set(tok, map[string]any{"id": "mt_id_3", "subject": "mch_cron", "scopes": []string{selfMachine}})
		if code := call(tok); code != 200 {
			t.Fatalf("after outage: %d", code)
		}
	})
}
