package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/saasstarter/saas/internal/app"
	"github.com/saasstarter/saas/internal/ratelimit"
)

// TestMachineTokenMustBeScopedToApp: a machine of the instance that is not
// scoped to the app's machine gets nothing from /api/m2m, reads or writes.
func TestMachineTokenMustBeScopedToApp(t *testing.T) {
	t.Parallel()
	ta := start(t)
	ta.synced(t)
	acme := acmeID(t, ta)
	usage := ta.URL + "/api/m2m/usage"
	elsewhere := machineTokenScoped(t, ta, nil)
	if status, body := call(t, http.MethodPost, usage, elsewhere, `{"org_id":"`+acme+`","metric":"api_calls","value":666}`); status != http.StatusUnauthorized {
		t.Errorf("POST with a token not scoped to the app = %d %s, want 401", status, body)
	}
	if status, body := call(t, http.MethodGet, usage+"?org_id="+acme, elsewhere, ""); status != http.StatusUnauthorized {
		t.Errorf("GET with a token not scoped to the app = %d %s, want 401", status, body)
	}
	if n := dbCount(t, ta, "SELECT count(*) FROM usage_records"); n != 0 {
		t.Errorf("%d usage rows written by an unscoped machine", n)
	}
	scoped := machineToken(t, ta)
	if status, body := call(t, http.MethodGet, usage+"?org_id="+acme, scoped, ""); status != http.StatusOK {
		t.Errorf("GET with a scoped token = %d %s, want 200", status, body)
	}
}

const testMachineSecret = "ak_0123456789abcdef0123456789abcdef"

// TestMachineVerificationsLimitedPerIP: against a Backend API that counts
// calls, malformed tokens cost no call (and no attempt), random well-formed
// machine tokens from one client cost at most ten verifications a minute,
// then 429 without a call; verification is made with the app's machine
// secret key.
func TestMachineVerificationsLimitedPerIP(t *testing.T) {
	t.Parallel()
	fake := newFakeBAPI(t)
	var authz []string
	fake.handle("POST /v1/m2m_tokens/verify", func(w http.ResponseWriter, r *http.Request) {
		fake.mu.Lock()
		authz = append(authz, r.Header.Get("Authorization"))
		fake.mu.Unlock()
		writeJSON(w, http.StatusNotFound, map[string]any{"errors": []map[string]string{{"code": "token_invalid"}}})
	})
	p := startClerk(t, fake, map[string]string{"CLERK_MACHINE_SECRET_KEY": testMachineSecret})
	usage := p.URL + "/api/m2m/usage?org_id=org_0123456789abcdef"

	for _, tok := range []string{"mt_short", "mt_../../v1/users", "ak_" + strings.Repeat("a", 32), "garbage", "a.b.c"} {
		if status, _ := call(t, http.MethodGet, usage, tok, ""); status != http.StatusUnauthorized {
			t.Errorf("malformed token %q = %d, want 401", tok, status)
		}
	}
	if n := fake.total(); n != 0 {
		t.Fatalf("malformed tokens made %d Backend API calls, want 0", n)
	}
	codes := map[int]int{}
	for i := range 15 {
		status, body := call(t, http.MethodGet, usage, fmt.Sprintf("mt_%032x", i), "")
		codes[status]++
		if status == http.StatusTooManyRequests && body != `{"error":"Rate limited"}` {
			t.Errorf("429 body %s", body)
		}
	}
	if codes[http.StatusUnauthorized] != 10 || codes[http.StatusTooManyRequests] != 5 {
		t.Errorf("outcomes %v, want 10×401 then 5×429", codes)
	}
	if n := fake.count("POST /v1/m2m_tokens/verify"); n != 10 {
		t.Errorf("%d verify calls, want 10", n)
	}
	for _, a := range authz {
		if a != "Bearer "+testMachineSecret {
			t.Errorf("verify authenticated with %q, want the machine secret key", a)
		}
	}
}

// TestMachineRoutesOffWithoutKey: without CLERK_MACHINE_SECRET_KEY the
// machine routes are not served, no token reaches Clerk, and the start-up
// log says so.
func TestMachineRoutesOffWithoutKey(t *testing.T) {
	t.Parallel()
	fake := newFakeBAPI(t)
	var logs bytes.Buffer
	p := startClerkLogged(t, fake, nil, slog.New(slog.NewTextHandler(&logs, nil)))
	if !strings.Contains(logs.String(), "machine routes are off") {
		t.Errorf("start-up log does not say the machine routes are off:\n%s", logs.String())
	}
	for _, tok := range []string{"mt_" + strings.Repeat("a", 32), p.token(t, "user_alice", "org_acme", "admin")} {
		status, _ := call(t, http.MethodGet, p.URL+"/api/m2m/usage?org_id=org_0123456789abcdef", tok, "")
		if status != http.StatusUnauthorized && status != http.StatusNotFound {
			t.Errorf("/api/m2m/usage = %d, want 401 or 404", status)
		}
	}
	if n := fake.total(); n != 0 {
		t.Errorf("%d Backend API calls, want 0", n)
	}
}

// TestAnonymousAPITrafficLimitedPerIP: /api requests without an identity
// are counted per client IP and refused with 429 over the limit, while a
// signed-in user keeps their own counter and the webhook is not counted.
func TestAnonymousAPITrafficLimitedPerIP(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{now: time.Date(2026, 1, 1, 12, 0, 10, 0, time.UTC)}
	ta := start(t, app.Options{RateLimit: ratelimit.Config{Limit: 3, Window: time.Minute, Now: clock.Now}})
	ta.synced(t)
	for i := range 3 {
		if status, _ := call(t, http.MethodGet, ta.URL+"/api/me", "not-a-token", ""); status != http.StatusUnauthorized {
			t.Fatalf("anonymous request %d = %d, want 401", i+1, status)
		}
	}
	res, body := do(t, http.MethodGet, ta.URL+"/api/org", nil, nil)
	if res.StatusCode != http.StatusTooManyRequests || strings.TrimSpace(body) != `{"error":"Rate limited"}` || res.Header.Get("Retry-After") != "50" {
		t.Fatalf("4th anonymous request = %d %q Retry-After %q, want 429", res.StatusCode, body, res.Header.Get("Retry-After"))
	}
	if status, body := call(t, http.MethodGet, ta.URL+"/api/me", sessionToken(t, ta.Server, "alice@acme.test", ""), ""); status != http.StatusOK {
		t.Errorf("signed-in user while the address is limited = %d %s, want 200", status, body)
	}
	for range 4 {
		res, _ := do(t, http.MethodPost, ta.URL+"/api/webhooks/clerk", map[string]string{"Content-Type": "application/json"}, strings.NewReader(`{}`))
		if res.StatusCode == http.StatusTooManyRequests {
			t.Fatal("the webhook route is rate limited per IP")
		}
	}
	clock.Add(time.Minute)
	var me map[string]any
	status, body := call(t, http.MethodGet, ta.URL+"/api/me", "", "")
	if status != http.StatusUnauthorized || json.Unmarshal([]byte(body), &me) != nil {
		t.Errorf("next window = %d %s, want 401", status, body)
	}
}
